// Awaitables on a real loop: sleep, recv, send_all, accept and connect over socketpairs and loopback.
#include "poetry/coro/awaitables.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "poetry/coro/create_task.hpp"
#include "poetry/coro/gather.hpp"
#include "support/fd_count.hpp"
#include "support/timing.hpp"

using namespace std::chrono_literals;
using poetry::Clock;
using poetry::EventLoop;
using poetry::Task;
namespace net = poetry::net;

namespace {

std::string to_string(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// Reads until end of stream.
Task<std::string> read_all(EventLoop& loop, net::Socket& socket) {
    std::string received;
    std::byte buffer[4096];
    while (const std::size_t n = co_await poetry::recv(loop, socket, buffer)) {
        received += to_string(std::span(buffer, n));
    }
    co_return received;
}

/// Bytes waiting to be read on `socket` (FIONREAD).
bool has_unread_bytes(const net::Socket& socket) {
    int waiting = 0;
    ::ioctl(socket.fd(), FIONREAD, &waiting);
    return waiting > 0;
}

std::vector<std::byte> pattern(std::size_t size) {
    std::vector<std::byte> data(size);
    for (std::size_t i = 0; i < size; ++i) {
        data[i] = static_cast<std::byte>((i * 7 + i / 251) & 0xff);
    }
    return data;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(awaitables, poetry::test::FdLeakCheck)

BOOST_AUTO_TEST_CASE(sleep_suspends_for_at_least_the_delay_and_sleepers_wake_in_order) {
    EventLoop loop;
    std::vector<int> woke;
    auto sleeper = [&](int ms) -> Task<void> {
        co_await poetry::sleep(loop, std::chrono::milliseconds(ms));
        woke.push_back(ms);
    };
    std::vector<Task<void>> sleepers;
    for (int ms : {30, 10, 20}) {
        sleepers.push_back(sleeper(ms));
    }
    const auto start = Clock::now();
    poetry::run(loop, poetry::gather(loop, std::move(sleepers)));
    const auto elapsed = Clock::now() - start;
    BOOST_TEST(woke == (std::vector<int>{10, 20, 30}), boost::test_tools::per_element());
    // The order above shows they slept at once (one after another would wake 30, 10, 20). Never early,
    // in every build; how soon after is a measurement, in the plain build only.
    BOOST_TEST(elapsed >= 30ms);
    POETRY_TEST_TIMING(elapsed < 3s);
}

BOOST_AUTO_TEST_CASE(recv_returns_what_is_there_and_zero_at_end_of_stream) {
    EventLoop loop;
    auto [a, b] = net::socket_pair();
    auto reader = [&]() -> Task<std::vector<std::size_t>> {
        std::vector<std::size_t> sizes;
        std::byte buffer[100];
        for (;;) {
            const std::size_t n = co_await poetry::recv(loop, a, buffer);
            sizes.push_back(n);
            if (n == 0) {
                co_return sizes;
            }
        }
    };
    // Each send waits until the reader has taken the previous one, so that no two ever arrive together.
    auto writer = [&]() -> Task<void> {
        co_await poetry::sleep(loop, 5ms);
        b.send_all(net::as_bytes("first"));
        while (has_unread_bytes(a)) {
            co_await poetry::sleep(loop, 1ms);
        }
        b.send_all(net::as_bytes("and second"));
        while (has_unread_bytes(a)) {
            co_await poetry::sleep(loop, 1ms);
        }
        b.close();
    };
    auto both = [&]() -> Task<std::vector<std::size_t>> {
        auto writing = poetry::create_task(loop, writer());
        auto sizes = co_await reader();
        co_await writing;
        co_return sizes;
    };
    const auto sizes = poetry::run(loop, both());
    BOOST_TEST(sizes == (std::vector<std::size_t>{5, 10, 0}), boost::test_tools::per_element());
    BOOST_TEST(loop.selector().size() == 0U);
}

BOOST_AUTO_TEST_CASE(recv_never_blocks_the_loop_even_on_a_blocking_socket) {
    EventLoop loop;
    auto [a, b] = net::socket_pair();  // blocking sockets
    bool timer_ran = false;
    loop.call_later(5ms, [&] { timer_ran = true; });
    loop.call_later(10ms, [&] { b.send_all(net::as_bytes("x")); });
    auto reader = [&]() -> Task<bool> {
        std::byte buffer[8];
        co_await poetry::recv(loop, a, buffer);
        co_return timer_ran;
    };
    BOOST_TEST(poetry::run(loop, reader()));
}

BOOST_AUTO_TEST_CASE(send_all_delivers_every_byte_through_a_full_socket_buffer) {
    EventLoop loop;
    auto [a, b] = net::socket_pair();
    const auto data = pattern(8 << 20);  // far more than a socket buffer: send_all must wait
    auto writer = [&]() -> Task<void> {
        co_await poetry::send_all(loop, a, data);
        a.close();
    };
    auto reader = [&]() -> Task<void> {
        const std::string received = co_await read_all(loop, b);
        BOOST_REQUIRE_EQUAL(received.size(), data.size());
        BOOST_TEST(std::equal(data.begin(), data.end(), reinterpret_cast<const std::byte*>(received.data())));
    };
    std::vector<Task<void>> both;
    both.push_back(writer());
    both.push_back(reader());
    poetry::run(loop, poetry::gather(loop, std::move(both)));
    BOOST_TEST(loop.selector().size() == 0U);
}

BOOST_AUTO_TEST_CASE(send_all_to_a_closed_peer_throws_broken_pipe) {
    EventLoop loop;
    auto [a, b] = net::socket_pair();
    b.close();
    const auto data = pattern(1 << 16);
    auto writer = [&]() -> Task<void> { co_await poetry::send_all(loop, a, data); };
    BOOST_CHECK_EXCEPTION(poetry::run(loop, writer()), std::system_error, [](const std::system_error& e) {
        return e.code() == std::errc::broken_pipe || e.code() == std::errc::connection_reset;
    });
}

BOOST_AUTO_TEST_CASE(accept_and_connect_meet_over_loopback) {
    EventLoop loop;
    net::Socket listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    const auto port = listener.local_endpoint().port();
    net::Endpoint client_seen_by_server;
    auto server = [&]() -> Task<void> {
        net::Socket client = co_await poetry::accept(loop, listener, &client_seen_by_server);
        co_await poetry::send_all(loop, client, net::as_bytes("slow poetry"));
    };
    auto client = [&]() -> Task<std::string> {
        net::Socket socket = co_await poetry::connect(loop, net::Address("127.0.0.1", port));
        std::string text = co_await read_all(loop, socket);
        BOOST_TEST(client_seen_by_server.port() == socket.local_endpoint().port());
        co_return text;
    };
    auto both = [&]() -> Task<std::string> {
        auto serving = poetry::create_task(loop, server());
        std::string text = co_await client();
        co_await serving;
        co_return text;
    };
    BOOST_TEST(poetry::run(loop, both()) == "slow poetry");
    BOOST_TEST((::fcntl(listener.fd(), F_GETFL) & O_NONBLOCK) != 0);  // accept made it non-blocking
}

BOOST_AUTO_TEST_CASE(only_one_coroutine_may_wait_to_read_an_fd) {
    // The loop holds one reader per fd: a second waiter would silently replace the first.
    EventLoop loop;
    auto [a, b] = net::socket_pair();
    auto reader = [&]() -> Task<std::size_t> {
        std::byte buffer[16];
        co_return co_await poetry::recv(loop, a, buffer);
    };
    auto first = poetry::create_task(loop, reader());
    auto second = poetry::create_task(loop, reader());
    loop.call_later(10ms, [&] { b.send_all(net::as_bytes("x")); });
    BOOST_TEST(loop.run_until_complete(first) == 1U);
    BOOST_REQUIRE(second.done());
    BOOST_CHECK_THROW(second.result(), std::logic_error);
    BOOST_TEST(loop.selector().size() == 0U);
}

BOOST_AUTO_TEST_CASE(connect_to_a_closed_port_names_the_address) {
    EventLoop loop;
    std::uint16_t port = 0;
    {
        net::Socket probe = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
        port = probe.local_endpoint().port();
    }
    const std::string expected = "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused";
    BOOST_CHECK_EXCEPTION(poetry::run(loop, poetry::connect(loop, net::Address("127.0.0.1", port))),
                          std::system_error, [&](const std::system_error& e) {
                              BOOST_TEST(e.what() == expected);
                              return e.code() == std::errc::connection_refused;
                          });
    BOOST_TEST(loop.selector().size() == 0U);
}

BOOST_AUTO_TEST_SUITE_END()
