// An echo server and three clients on one event loop, in coroutines: each client sends a line,
// reads the echo back and prints it; the server echoes until the client closes its side. The third
// client connects by host name, which the library resolves on a thread of its own.
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include <sys/socket.h>

#include "poetry/coro/awaitables.hpp"
#include "poetry/coro/create_task.hpp"
#include "poetry/coro/gather.hpp"

using namespace poetry;

Task<void> echo(EventLoop& loop, net::Socket client) {
    std::byte buffer[1024];
    while (const std::size_t n = co_await recv(loop, client, buffer)) {
        co_await send_all(loop, client, std::span(buffer, n));
    }
}

Task<void> serve(EventLoop& loop, net::Socket& listener) {
    for (;;) {
        spawn(loop, echo(loop, co_await accept(loop, listener)));
    }
}

// `server` may name a host: connect resolves it off the loop (on the loop's resolver threads).
Task<std::string> ask(EventLoop& loop, net::Address server, std::string line) {
    net::Socket socket = co_await connect(loop, server);
    co_await send_all(loop, socket, net::as_bytes(line));
    std::error_code ignored;  // if shutdown fails, the server's reply still ends with the connection
    socket.shutdown(SHUT_WR, ignored);
    std::string answer;
    std::byte buffer[1024];
    while (const std::size_t n = co_await recv(loop, socket, buffer)) {
        answer.append(reinterpret_cast<const char*>(buffer), n);
    }
    co_return answer;
}

Task<void> main_task(EventLoop& loop) {
    net::Socket listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    const std::uint16_t port = listener.local_endpoint().port();
    Future<void> serving = create_task(loop, serve(loop, listener));
    std::vector<Task<std::string>> questions;
    questions.push_back(ask(loop, net::Address("127.0.0.1", port), "one"));
    questions.push_back(ask(loop, net::Address("127.0.0.1", port), "two"));
    questions.push_back(ask(loop, net::Address("localhost", port), "three"));
    for (const std::string& answer : co_await gather(loop, std::move(questions))) {
        std::cout << "echo: " << answer << '\n';
    }
    serving.cancel();
}

int main() {
    EventLoop loop;
    run(loop, main_task(loop));
}
