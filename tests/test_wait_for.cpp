// wait_for: the value in time, or a timed_out error with the waited-for work cancelled and its fds closed.
#include "poetry/coro/wait_for.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>

#include <memory>
#include <string>

#include "poetry/coro/awaitables.hpp"
#include "poetry/net/socket.hpp"
#include "support/fake_clock.hpp"
#include "support/fd_count.hpp"
#include "support/timing.hpp"

using namespace std::chrono_literals;
using poetry::Clock;
using poetry::EventLoop;
using poetry::Task;
namespace net = poetry::net;

namespace {

Task<std::size_t> read_some(EventLoop& loop, net::Socket socket) {
    std::byte buffer[64];
    co_return co_await poetry::recv(loop, socket, buffer);
}

Task<int> slow_value(EventLoop& loop, std::chrono::milliseconds delay) {
    co_await poetry::sleep(loop, delay);
    co_return 7;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(wait_for, poetry::test::FdLeakCheck)

BOOST_AUTO_TEST_CASE(wait_for_times_out_on_a_peer_that_never_writes_and_closes_the_fd) {
    EventLoop loop;
    auto [ours, silent_peer] = net::socket_pair();
    const int fd = ours.fd();
    const auto start = Clock::now();
    BOOST_CHECK_EXCEPTION(
        poetry::run(loop, poetry::wait_for(loop, read_some(loop, std::move(ours)), 50ms)), std::system_error,
        [](const std::system_error& e) {
            BOOST_TEST(std::string(e.what()) == "no result within 0.05 s: Connection timed out");
            return e.code() == std::errc::timed_out;
        });
    const auto elapsed = Clock::now() - start;
    BOOST_TEST(::fcntl(fd, F_GETFD) == -1);  // the cancelled task's socket is closed
    BOOST_TEST(loop.selector().size() == 0U);
    BOOST_TEST(elapsed >= 50ms);
    POETRY_TEST_TIMING(elapsed < 3s);  // how soon after is a measurement: plain build only
}

BOOST_AUTO_TEST_CASE(wait_for_returns_the_value_when_it_arrives_in_time) {
    EventLoop loop;
    BOOST_TEST(poetry::run(loop, poetry::wait_for(loop, slow_value(loop, 5ms), 5s)) == 7);
    loop.call_soon([&] { loop.stop(); });
    loop.run_forever();
    BOOST_TEST(loop.timer_count() == 0U);  // the deadline timer went with the wait
}

BOOST_AUTO_TEST_CASE(wait_for_passes_on_the_tasks_own_exception) {
    EventLoop loop;
    struct PeerReset : std::exception {};  // not a system_error: a time-out could not pass for it
    auto failing = []() -> Task<int> {
        throw PeerReset();
        co_return 0;
    };
    BOOST_CHECK_THROW(poetry::run(loop, poetry::wait_for(loop, failing(), 5s)), PeerReset);
}

BOOST_AUTO_TEST_CASE(a_deadline_too_far_for_the_clock_means_no_deadline) {
    EventLoop loop;
    BOOST_TEST(poetry::run(loop, poetry::wait_for(loop, slow_value(loop, 5ms), std::chrono::hours::max())) ==
               7);
    auto sleeper = [&]() -> Task<void> { co_await poetry::sleep(loop, std::chrono::hours::max()); };
    auto sleeping = poetry::create_task(loop, sleeper());
    loop.call_later(20ms, [&] { loop.stop(); });
    loop.run_forever();
    BOOST_TEST(!sleeping.done());  // hours::max() must not wrap around into the past and fire at once
}

BOOST_AUTO_TEST_CASE(wait_for_on_a_future_cancels_it_on_time_out) {
    EventLoop loop;
    poetry::Future<int> never(loop);
    auto waiter = [&]() -> Task<int> { co_return co_await poetry::wait_for(never, 10ms); };
    BOOST_CHECK_THROW(poetry::run(loop, waiter()), std::system_error);
    BOOST_TEST(never.cancelled());
}

// On virtual time the data and the deadline land in the same run_once: the socket turns readable at the
// very instant the deadline falls due. The loop runs that iteration's ready fds before its due timers,
// so the read has finished, and the task's future is done, when the deadline's callback runs; wait_for
// then keeps the result rather than throwing it away (wait_for.hpp). Either order reversed shows here.
BOOST_AUTO_TEST_CASE(the_data_arriving_just_in_time_wins) {
    poetry::test::VirtualClock clock;
    auto owned = std::make_unique<poetry::test::VirtualTimeSelector>(clock);
    poetry::test::VirtualTimeSelector& selector = *owned;
    EventLoop loop(std::move(owned), [&clock] { return clock.now(); });
    auto [ours, peer] = net::socket_pair();
    const auto deadline = clock.now() + 50ms;  // wait_for starts its timer before the clock first moves
    selector.make_ready_at(deadline, ours.fd(), poetry::EventMask::read,
                           [&peer = peer] { peer.send_all(net::as_bytes("hello")); });
    BOOST_TEST(poetry::run(loop, poetry::wait_for(loop, read_some(loop, std::move(ours)), 50ms)) == 5U);
    BOOST_TEST((clock.now() == deadline));  // one instant: the data did not come in an earlier iteration
}

// The same, a nanosecond later: the deadline's iteration comes first, and the read is cancelled.
BOOST_AUTO_TEST_CASE(the_data_arriving_a_nanosecond_late_loses) {
    poetry::test::VirtualClock clock;
    auto owned = std::make_unique<poetry::test::VirtualTimeSelector>(clock);
    poetry::test::VirtualTimeSelector& selector = *owned;
    EventLoop loop(std::move(owned), [&clock] { return clock.now(); });
    auto [ours, peer] = net::socket_pair();
    const int fd = ours.fd();
    bool sent = false;
    selector.make_ready_at(clock.now() + 50ms + 1ns, fd, poetry::EventMask::read, [&sent] { sent = true; });
    BOOST_CHECK_EXCEPTION(poetry::run(loop, poetry::wait_for(loop, read_some(loop, std::move(ours)), 50ms)),
                          std::system_error,
                          [](const std::system_error& e) { return e.code() == std::errc::timed_out; });
    BOOST_TEST(!sent);
    BOOST_TEST(::fcntl(fd, F_GETFD) == -1);  // the cancelled read's socket is closed
    BOOST_TEST(loop.selector().size() == 0U);
}

BOOST_AUTO_TEST_SUITE_END()
