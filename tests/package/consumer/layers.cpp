// The examples of docs/library.md for the layers below the coroutines, compiled and run against the
// installed package: a server on a thread sends a line to each of three connections, and each layer's
// example reads one of them its own way; then the metrics example says what that cost.
// docs/library.md copies these functions verbatim (tests/package/check_doc_examples.sh checks it).
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <system_error>
#include <thread>

#include "poetry/loop/event_loop.hpp"
#include "poetry/metrics/resource_usage.hpp"
#include "poetry/net/socket.hpp"
#include "poetry/selectors/selector.hpp"

namespace {

// net: a blocking client. Every call has a throwing form (its message names the peer) and an
// std::error_code form.
void read_with_net(const poetry::net::Address& address) {
    poetry::net::Socket socket = poetry::net::connect(address);
    std::byte buffer[4096];
    while (std::size_t n = socket.recv(buffer)) {
        std::fwrite(buffer, 1, n, stdout);
    }
}

// selectors: wait until a socket is readable, without a loop.
void read_with_selectors(const poetry::net::Address& address) {
    poetry::net::Socket socket = poetry::net::connect(address);
    auto selector = poetry::make_selector("poll");
    selector->register_fd(socket.fd(), poetry::EventMask::read);
    for (const poetry::SelectorEvent& event : selector->select(std::chrono::seconds(1))) {
        if (event.key.fd != socket.fd()) {
            continue;  // never, with one fd registered
        }
        std::byte buffer[4096];
        const std::size_t n = socket.recv(buffer);
        std::fputs("selectors: readable: ", stdout);
        std::fwrite(buffer, 1, n, stdout);
    }
    selector->unregister_fd(socket.fd());  // before the socket closes
}

// loop: callbacks and a timer; the loop runs every callback on the thread that runs it.
void read_with_loop(const poetry::net::Address& address) {
    poetry::net::Socket socket = poetry::net::connect(address);
    socket.set_nonblocking(true);
    poetry::EventLoop loop;
    loop.add_reader(socket.fd(), [&] {
        std::byte buffer[4096];
        std::error_code ec;
        const std::size_t n = socket.recv(buffer, ec);
        if (n == 0 || ec) {
            loop.remove_reader(socket.fd());
            loop.stop();
            return;
        }
        std::fwrite(buffer, 1, n, stdout);
    });
    auto give_up = loop.call_later(std::chrono::seconds(5), [&] { loop.stop(); });
    loop.run_forever();
}

// metrics: what some work cost this process (with the children it waited for) in CPU time, and the
// process's peak memory.
void report_cost(const poetry::metrics::CpuTimes& before) {
    const poetry::metrics::CpuTimes used = poetry::metrics::cpu_times() - before;
    std::printf("metrics: %.3f s of CPU (%.3f s user), peak memory %zu KiB\n", used.total().count(),
                used.user.count(), poetry::metrics::peak_rss_bytes() / 1024);
}

}  // namespace

int main() {
    const poetry::metrics::CpuTimes before = poetry::metrics::cpu_times();
    poetry::net::Socket listener = poetry::net::listen(poetry::net::Endpoint::numeric("127.0.0.1", 0));
    const poetry::net::Address address("127.0.0.1", listener.local_endpoint().port());
    std::thread server([&listener] {
        for (const char* line : {"net: a line\n", "a line\n", "loop: a line\n"}) {
            std::error_code ec;
            poetry::net::Socket client = poetry::net::accept(listener, ec);
            if (!ec) {
                client.send_all(poetry::net::as_bytes(line));
            }
        }
    });
    read_with_net(address);
    read_with_selectors(address);
    read_with_loop(address);
    server.join();
    report_cost(before);
}
