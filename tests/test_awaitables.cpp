// Awaitables on a real loop (and a few on virtual time): sleep, sleep_until, recv, send_all, accept and
// connect over socketpairs and loopback; connect to a host name, looked up by the test's resolver.
#include "poetry/coro/awaitables.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <netdb.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "poetry/coro/create_task.hpp"
#include "poetry/coro/gather.hpp"
#include "poetry/loop/resolver.hpp"
#include "support/fake_clock.hpp"
#include "support/fd_count.hpp"
#include "support/thread_flag.hpp"
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

/// Runs the loop one iteration at a time until `future` is done, for at most 100,000 iterations or
/// 5 s, and returns how many it took. Iterations, not run_until_complete: a loop that spins must fail
/// the test, not hang it.
template <class FutureLike>
int run_until_done(EventLoop& loop, const FutureLike& future) {
    const auto start = Clock::now();
    int iterations = 0;
    while (!future.done() && iterations < 100'000 && Clock::now() - start < 5s) {
        loop.run_once();
        ++iterations;
    }
    return iterations;
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

BOOST_AUTO_TEST_CASE(sleep_until_resumes_no_earlier_than_its_deadline_and_sleepers_wake_in_deadline_order) {
    EventLoop loop;
    const poetry::TimePoint start = loop.time();
    std::vector<std::pair<int, poetry::TimePoint>> woke;
    auto sleeper = [&](int ms) -> Task<void> {
        co_await poetry::sleep_until(loop, start + std::chrono::milliseconds(ms));
        woke.emplace_back(ms, loop.time());
    };
    std::vector<Task<void>> sleepers;
    for (int ms : {30, 10, 40, 20}) {
        sleepers.push_back(sleeper(ms));
    }
    poetry::run(loop, poetry::gather(loop, std::move(sleepers)));
    BOOST_REQUIRE_EQUAL(woke.size(), 4U);
    for (std::size_t i = 0; i < woke.size(); ++i) {
        const int ms = 10 * static_cast<int>(i + 1);
        BOOST_TEST(woke[i].first == ms);
        BOOST_TEST((woke[i].second >= start + std::chrono::milliseconds(ms)));  // never early, in any build
    }
    POETRY_TEST_TIMING((woke.back().second - start < 3s));
    BOOST_TEST(loop.armed_timers() == 0U);
}

BOOST_AUTO_TEST_CASE(
    sleep_until_on_virtual_time_resumes_exactly_at_its_deadline_and_keeps_an_absolute_schedule) {
    poetry::test::VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const poetry::TimePoint start = loop->time();
    std::vector<Clock::duration> ticks;
    // Each step takes 3 ms of (virtual) work: sleep_until(start + k x 10 ms) does not add it up, as
    // sleep(10 ms) after each step would.
    auto paced = [&]() -> Task<void> {
        for (int k = 1; k <= 5; ++k) {
            co_await poetry::sleep_until(*loop, start + k * 10ms);
            ticks.push_back(loop->time() - start);
            clock.advance(3ms);
        }
    };
    poetry::run(*loop, paced());
    BOOST_TEST(ticks == (std::vector<Clock::duration>{10ms, 20ms, 30ms, 40ms, 50ms}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(sleep_until_a_deadline_that_has_passed_still_suspends_for_one_iteration) {
    poetry::test::VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    bool started = false;
    bool after = false;
    auto task = [&]() -> Task<void> {
        started = true;
        co_await poetry::sleep_until(*loop, loop->time() - 1s);
        after = true;
    };
    auto future = poetry::create_task(*loop, task());
    loop->run_once();  // starts the task, which suspends
    BOOST_TEST(started);
    BOOST_TEST(!after);
    BOOST_TEST(loop->armed_timers() == 1U);
    loop->run_once();
    BOOST_TEST(after);
    BOOST_TEST(future.done());
}

BOOST_AUTO_TEST_CASE(cancelling_a_sleeping_task_disarms_its_timer) {
    poetry::test::VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    bool woke = false;
    auto task = [&]() -> Task<void> {
        co_await poetry::sleep(*loop, 10ms);
        woke = true;
    };
    auto future = poetry::create_task(*loop, task());
    loop->run_once();
    BOOST_TEST(loop->armed_timers() == 1U);
    future.cancel();  // destroys the frame, and the awaiter's Timer with it (ASan: no use after)
    BOOST_TEST(loop->armed_timers() == 0U);
    loop->call_later(50ms, [&] { loop->stop(); });
    loop->run_forever();
    BOOST_TEST(!woke);
    BOOST_TEST(future.cancelled());
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

BOOST_AUTO_TEST_CASE(an_accept_awaited_before_any_client_connects_resumes_when_one_does_without_spinning) {
    // The accept's first attempt finds nothing ("would block") and it suspends; a client connects 20 ms
    // later. The old AcceptAwaiter kept that first "would block" and never called accept(2) again: the
    // listener stayed readable, its callback ran on every iteration, and the loop spun at 100% CPU.
    EventLoop loop;
    net::Socket listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    const auto port = listener.local_endpoint().port();
    net::Socket client;
    bool accept_was_waiting = false;
    loop.call_later(20ms, [&] {
        accept_was_waiting = loop.has_reader(listener.fd());
        client = net::connect(net::Address("127.0.0.1", port));  // blocking: the backlog takes it at once
    });
    net::Endpoint peer;
    auto server = [&]() -> Task<net::Socket> { co_return co_await poetry::accept(loop, listener, &peer); };
    auto accepted = poetry::create_task(loop, server());

    const auto start = Clock::now();
    const int iterations = run_until_done(loop, accepted);
    BOOST_REQUIRE_MESSAGE(accepted.done(), "not accepted after " << iterations << " loop iterations");
    BOOST_TEST(accept_was_waiting);
    // Start the task, wake for the timer, wake for the connection: a handful, whatever the machine.
    BOOST_TEST(iterations <= 10);
    BOOST_TEST((Clock::now() - start >= 20ms));

    net::Socket server_side = accepted.take_result();
    BOOST_REQUIRE(server_side.is_open());
    BOOST_REQUIRE(client.is_open());
    BOOST_TEST(peer.port() == client.local_endpoint().port());
    client.send_all(net::as_bytes("hello"));
    client.close();
    BOOST_TEST(poetry::run(loop, read_all(loop, server_side)) == "hello");
    BOOST_TEST(loop.selector().size() == 0U);
}

BOOST_AUTO_TEST_CASE(an_accept_loop_takes_clients_that_each_arrive_while_it_waits) {
    EventLoop loop;
    net::Socket listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    const auto port = listener.local_endpoint().port();
    std::vector<net::Socket> clients;
    for (int i = 1; i <= 3; ++i) {
        loop.call_later(i * 15ms, [&] { clients.push_back(net::connect(net::Address("127.0.0.1", port))); });
    }
    auto server = [&]() -> Task<std::size_t> {
        std::vector<net::Socket> accepted;
        while (accepted.size() < 3) {
            accepted.push_back(co_await poetry::accept(loop, listener));
        }
        co_return accepted.size();
    };
    auto accepted = poetry::create_task(loop, server());
    const int iterations = run_until_done(loop, accepted);
    BOOST_REQUIRE_MESSAGE(accepted.done(), "not accepted after " << iterations << " loop iterations");
    BOOST_TEST(accepted.take_result() == 3U);
    BOOST_TEST(iterations <= 20);
    BOOST_TEST(loop.selector().size() == 0U);
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

BOOST_AUTO_TEST_CASE(connect_to_a_host_name_looks_it_up_off_the_loop_while_a_tasks_timer_fires_on_time) {
    EventLoop loop;
    const net::Socket listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    const std::uint16_t port = listener.local_endpoint().port();
    struct Shared {
        poetry::test::ThreadFlag timer_fired;
        Clock::time_point ended{};  // written by the lookup, read once its result has reached the loop
    };
    auto shared = std::make_shared<Shared>();
    loop.resolver().set_resolve_function([shared](const net::Address& address, std::error_code&) {
        std::this_thread::sleep_for(300ms);
        // A loop that is free fired the timer long ago; a blocked one cannot, and the order checked
        // below fails (after 2 s, rather than never).
        shared->timer_fired.wait_for(2s);
        shared->ended = Clock::now();
        return std::vector<net::Endpoint>{net::Endpoint::numeric("127.0.0.1", address.port())};
    });
    const auto start = Clock::now();
    Clock::time_point fired{};
    auto timer = [&]() -> Task<void> {
        co_await poetry::sleep(loop, 50ms);
        fired = Clock::now();
        shared->timer_fired.raise();
    };
    auto connecting = [&]() -> Task<net::Socket> {
        co_return co_await poetry::connect(loop, net::Address("poetry.test", port));
    };
    auto timed = poetry::create_task(loop, timer());
    auto connected = poetry::create_task(loop, connecting());
    run_until_done(loop, connected);
    BOOST_REQUIRE(connected.done());
    BOOST_TEST(connected.result().is_open());
    BOOST_REQUIRE(timed.done());
    BOOST_TEST((fired - start >= 50ms), "the timer fired early");
    BOOST_TEST((shared->ended - start >= 300ms));
    BOOST_TEST((fired < shared->ended), "the timer waited for the lookup: it blocked the loop");
    POETRY_TEST_TIMING((fired - start < 250ms));
}

BOOST_AUTO_TEST_CASE(connect_to_a_host_name_tries_its_endpoints_in_turn_and_names_it_in_failures) {
    EventLoop loop;
    const net::Socket listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    const std::uint16_t open = listener.local_endpoint().port();
    const std::uint16_t closed = [] {
        const net::Socket probe = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
        return probe.local_endpoint().port();
    }();
    // "refuses.test" has two endpoints that refuse, "accepts.test" one that refuses and one that accepts.
    loop.resolver().set_resolve_function([=](const net::Address& address, std::error_code& ec) {
        if (address.host() == "unknown.test") {
            ec = std::error_code(EAI_NONAME, net::resolver_category());
            return std::vector<net::Endpoint>{};
        }
        const std::uint16_t last = address.host() == "accepts.test" ? open : closed;
        return std::vector<net::Endpoint>{net::Endpoint::numeric("127.0.0.1", closed),
                                          net::Endpoint::numeric("127.0.0.1", last)};
    });
    auto accepted = poetry::create_task(loop, poetry::connect(loop, net::Address("accepts.test", 80)));
    run_until_done(loop, accepted);
    BOOST_REQUIRE(accepted.done());
    BOOST_TEST(accepted.result().peer_endpoint().port() == open);

    const std::string refused = std::make_error_code(std::errc::connection_refused).message();
    auto refuses = poetry::create_task(loop, poetry::connect(loop, net::Address("refuses.test", 80)));
    run_until_done(loop, refuses);
    BOOST_REQUIRE(refuses.done());
    BOOST_CHECK_EXCEPTION(refuses.result(), std::system_error, [&](const std::system_error& e) {
        BOOST_TEST(e.what() == "connect to refuses.test:80: " + refused);
        return e.code() == std::errc::connection_refused;
    });

    auto unknown = poetry::create_task(loop, poetry::connect(loop, net::Address("unknown.test", 80)));
    run_until_done(loop, unknown);
    BOOST_REQUIRE(unknown.done());
    BOOST_CHECK_EXCEPTION(unknown.result(), std::system_error, [](const std::system_error& e) {
        BOOST_TEST(e.what() == "resolve unknown.test:80: " + std::string(::gai_strerror(EAI_NONAME)));
        return e.code().category() == net::resolver_category();
    });
}

BOOST_AUTO_TEST_SUITE_END()
