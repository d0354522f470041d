// EventLoop: call_soon order, timers on virtual time, stop, exception reporting, readers and writers.
#include "poetry/loop/event_loop.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/select.h>

#include <chrono>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "poetry/net/socket.hpp"
#include "support/clock.hpp"
#include "support/fake_clock.hpp"
#include "support/fd_count.hpp"
#include "support/fd_limit.hpp"
#include "support/reported_exceptions.hpp"
#include "support/timing.hpp"

using namespace std::chrono_literals;
using poetry::Clock;
using poetry::EventLoop;
using poetry::TimePoint;
using poetry::test::VirtualClock;

// The tests that cannot include the loop layer time themselves with support/clock.hpp: it must stay the
// loop's clock, or their times would not compare with the programs'.
static_assert(std::is_same_v<poetry::test::Clock, poetry::Clock>);

BOOST_AUTO_TEST_SUITE(event_loop)

BOOST_AUTO_TEST_CASE(call_soon_runs_callbacks_in_fifo_order) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    std::vector<int> order;
    for (int i = 0; i < 5; ++i) {
        loop->call_soon([&order, i] { order.push_back(i); });
    }
    loop->call_soon([&] { loop->stop(); });
    loop->run_forever();
    BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(callbacks_scheduled_by_callbacks_wait_for_the_next_iteration) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    std::vector<std::string> order;
    loop->call_soon([&] {
        order.push_back("first");
        loop->call_soon([&] { order.push_back("scheduled by first"); });
    });
    loop->call_soon([&] { order.push_back("second"); });
    loop->run_once();
    BOOST_TEST(order == (std::vector<std::string>{"first", "second"}), boost::test_tools::per_element());
    loop->run_once();
    BOOST_TEST(order.size() == 3U);
    BOOST_TEST(order.back() == "scheduled by first");
}

BOOST_AUTO_TEST_CASE(timers_fire_in_deadline_order_at_their_deadline) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const TimePoint start = loop->time();
    std::vector<std::pair<int, Clock::duration>> fired;
    for (int ms : {30, 10, 20, 0}) {
        loop->call_later(std::chrono::milliseconds(ms),
                         [&, ms] { fired.emplace_back(ms, loop->time() - start); });
    }
    loop->call_later(40ms, [&] { loop->stop(); });
    loop->run_forever();
    BOOST_REQUIRE_EQUAL(fired.size(), 4U);
    for (std::size_t i = 0; i < fired.size(); ++i) {
        const int expected = static_cast<int>(i) * 10;
        BOOST_TEST(fired[i].first == expected);
        BOOST_TEST(fired[i].second == std::chrono::milliseconds(expected));
    }
}

BOOST_AUTO_TEST_CASE(timers_with_equal_deadlines_fire_in_the_order_scheduled) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const TimePoint when = loop->time() + 5ms;
    std::vector<int> order;
    for (int i = 0; i < 10; ++i) {
        loop->call_at(when, [&order, i] { order.push_back(i); });
    }
    loop->call_at(when, [&] { loop->stop(); });
    loop->run_forever();
    BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_cancelled_timer_never_fires) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    bool fired = false;
    auto timer = loop->call_later(10ms, [&] { fired = true; });
    auto other = loop->call_later(5ms, [&] { timer.cancel(); });
    loop->call_later(20ms, [&] { loop->stop(); });
    loop->run_forever();
    BOOST_TEST(!fired);
    BOOST_TEST(timer.cancelled());
    BOOST_TEST(!other.cancelled());
    BOOST_TEST(loop->timer_count() == 0U);
}

BOOST_AUTO_TEST_CASE(a_cancelled_call_soon_never_runs) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    int runs = 0;
    auto handle = loop->call_soon([&] { ++runs; });
    handle.cancel();
    handle.cancel();  // idempotent
    loop->call_soon([&] { loop->stop(); });
    loop->run_forever();
    BOOST_TEST(runs == 0);
}

BOOST_AUTO_TEST_CASE(cancelled_timers_are_dropped_from_the_heap_before_they_pile_up) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    std::vector<poetry::TimerHandle> timers;
    for (int i = 0; i < 1000; ++i) {
        timers.push_back(loop->call_later(std::chrono::hours(1) + std::chrono::milliseconds(i), [] {}));
    }
    for (int i = 0; i < 900; ++i) {
        timers[static_cast<std::size_t>(i)].cancel();
    }
    BOOST_TEST(loop->timer_count() == 1000U);
    loop->call_soon([&] { loop->stop(); });
    loop->run_forever();
    BOOST_TEST(loop->timer_count() == 100U);
}

BOOST_AUTO_TEST_CASE(stop_from_a_callback_ends_run_forever_and_keeps_what_is_scheduled) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    int later_runs = 0;
    loop->call_soon([&] {
        loop->stop();
        loop->call_soon([&] { ++later_runs; });
    });
    loop->run_forever();
    BOOST_TEST(!loop->is_running());
    BOOST_TEST(later_runs == 0);
    loop->call_soon([&] { loop->stop(); });
    loop->run_forever();
    BOOST_TEST(later_runs == 1);
}

BOOST_AUTO_TEST_CASE(run_forever_refuses_to_nest) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    bool refused = false;
    loop->call_soon([&] {
        try {
            loop->run_forever();
        } catch (const std::logic_error&) {
            refused = true;
        }
        loop->stop();
    });
    loop->run_forever();
    BOOST_TEST(refused);
}

BOOST_AUTO_TEST_CASE(an_exception_in_a_callback_is_reported_and_the_loop_goes_on) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const poetry::test::ReportedExceptions reported(*loop);
    bool after = false;
    loop->call_soon([] { throw std::runtime_error("boom"); });
    loop->call_later(1ms, [] { throw std::runtime_error("timer boom"); });
    loop->call_later(2ms, [&] {
        after = true;
        loop->stop();
    });
    loop->run_forever();
    BOOST_TEST(after);
    BOOST_TEST(reported.lines() == (std::vector<std::string>{"exception in callback: boom",
                                                             "exception in callback: timer boom"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_default_exception_handler_writes_one_line_to_stderr) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    std::ostringstream captured;
    auto* const old = std::cerr.rdbuf(captured.rdbuf());
    loop->call_soon([] { throw std::runtime_error("boom"); });
    loop->call_soon([&] { loop->stop(); });
    loop->run_forever();
    std::cerr.rdbuf(old);
    BOOST_TEST(captured.str() == "poetry: exception in callback: boom\n");
}

BOOST_AUTO_TEST_CASE(call_later_on_the_real_clock_never_fires_early) {
    EventLoop loop;
    const auto start = Clock::now();
    Clock::duration waited{};
    loop.call_later(20ms, [&] {
        waited = Clock::now() - start;
        loop.stop();
    });
    loop.run_forever();
    BOOST_TEST(waited >= 20ms);
    POETRY_TEST_TIMING(waited < 2s);  // how soon after is a measurement: plain build only
}

BOOST_FIXTURE_TEST_SUITE(readers_and_writers, poetry::test::FdLeakCheck)

BOOST_AUTO_TEST_CASE(a_reader_runs_while_its_fd_is_readable_and_stops_when_removed) {
    EventLoop loop;
    auto [a, b] = poetry::net::socket_pair();
    b.send_all(poetry::net::as_bytes("x"));
    int runs = 0;
    loop.add_reader(a.fd(), [&] {
        if (++runs == 3) {
            BOOST_TEST(loop.remove_reader(a.fd()));
            loop.call_later(20ms, [&] { loop.stop(); });
        }
    });
    loop.run_forever();
    BOOST_TEST(runs == 3);  // level-triggered: unread data wakes it every iteration, until removed
    BOOST_TEST(loop.selector().size() == 0U);
    BOOST_TEST(!loop.remove_reader(a.fd()));
}

BOOST_AUTO_TEST_CASE(a_writer_runs_when_writable_and_a_reader_when_data_arrives) {
    EventLoop loop;
    auto [a, b] = poetry::net::socket_pair();
    std::vector<std::string> events;
    loop.add_reader(b.fd(), [&] {
        std::byte buffer[16];
        const auto n = b.recv(buffer);
        events.push_back("read " + std::to_string(n));
        loop.remove_reader(b.fd());
        loop.stop();
    });
    loop.add_writer(a.fd(), [&] {
        events.push_back("write");
        a.send_all(poetry::net::as_bytes("hello"));
        loop.remove_writer(a.fd());
    });
    loop.run_forever();
    BOOST_TEST(events == (std::vector<std::string>{"write", "read 5"}), boost::test_tools::per_element());
    BOOST_TEST(loop.selector().size() == 0U);
}

BOOST_AUTO_TEST_CASE(a_reader_and_a_writer_share_one_fd) {
    EventLoop loop;
    auto [a, b] = poetry::net::socket_pair();
    int reads = 0;
    int writes = 0;
    loop.add_writer(a.fd(), [&] {
        ++writes;
        loop.remove_writer(a.fd());
    });
    loop.add_reader(a.fd(), [&] {
        ++reads;
        std::byte buffer[8];
        a.recv(buffer);
        loop.remove_reader(a.fd());
        loop.stop();
    });
    const auto* key = loop.selector().get_key(a.fd());
    BOOST_REQUIRE(key != nullptr);
    BOOST_TEST((key->events == poetry::EventMask::read_write));
    b.send_all(poetry::net::as_bytes("!"));
    loop.run_forever();
    BOOST_TEST(reads == 1);
    BOOST_TEST(writes == 1);
    BOOST_TEST(loop.selector().get_key(a.fd()) == nullptr);
}

BOOST_AUTO_TEST_CASE(add_reader_replaces_the_previous_reader_of_the_fd) {
    EventLoop loop;
    auto [a, b] = poetry::net::socket_pair();
    b.send_all(poetry::net::as_bytes("x"));
    std::vector<std::string> runs;
    loop.add_reader(a.fd(), [&] { runs.push_back("old"); });
    loop.add_reader(a.fd(), [&] {
        runs.push_back("new");
        loop.remove_reader(a.fd());
        loop.stop();
    });
    loop.run_forever();
    BOOST_TEST(runs == (std::vector<std::string>{"new"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_reader_removed_by_an_earlier_callback_of_the_same_iteration_does_not_run) {
    EventLoop loop;
    auto [a, b] = poetry::net::socket_pair();
    auto [c, d] = poetry::net::socket_pair();
    b.send_all(poetry::net::as_bytes("x"));
    d.send_all(poetry::net::as_bytes("x"));
    int runs = 0;
    // Both fds are ready in the same select(); whichever runs first removes the other.
    loop.add_reader(a.fd(), [&] {
        ++runs;
        loop.remove_reader(a.fd());
        loop.remove_reader(c.fd());
    });
    loop.add_reader(c.fd(), [&] {
        ++runs;
        loop.remove_reader(a.fd());
        loop.remove_reader(c.fd());
    });
    loop.run_once();
    BOOST_TEST(runs == 1);
    BOOST_TEST(loop.selector().size() == 0U);
}

BOOST_AUTO_TEST_CASE(removing_one_direction_of_an_fd_closed_while_registered_is_quiet_and_keeps_the_other) {
    EventLoop loop;  // epoll: closing a registered fd removes it from the kernel's set behind our back
    auto [a, b] = poetry::net::socket_pair();
    const int fd = a.fd();
    loop.add_reader(fd, [] {});
    loop.add_writer(fd, [] {});
    a.close();
    BOOST_TEST(loop.remove_writer(fd));  // modifying the closed fd fails inside (EBADF): must not throw
    BOOST_TEST(loop.has_reader(fd));     // the registration is the caller's until removed
    BOOST_TEST(!loop.has_writer(fd));
    BOOST_TEST(loop.remove_reader(fd));
    BOOST_TEST(loop.selector().size() == 0U);
}

BOOST_AUTO_TEST_CASE(a_failed_add_reader_leaves_nothing_registered) {
    BOOST_REQUIRE(poetry::test::raise_fd_limit(FD_SETSIZE + 64));
    EventLoop loop(poetry::make_selector("select"));
    auto [a, b] = poetry::net::socket_pair();
    const int high = ::fcntl(a.fd(), F_DUPFD_CLOEXEC, FD_SETSIZE + 10);
    BOOST_REQUIRE(high >= FD_SETSIZE);
    poetry::net::Socket high_socket{poetry::detail::UniqueFd(high)};
    BOOST_CHECK_THROW(loop.add_reader(high, [] {}), std::invalid_argument);
    BOOST_TEST(loop.selector().size() == 0U);
    BOOST_TEST(!loop.remove_reader(high));
    loop.add_reader(a.fd(), [] {});  // the loop is still usable
    BOOST_TEST(loop.remove_reader(a.fd()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()
