// Task<T>: laziness, values and exceptions through nested awaits, symmetric transfer, create_task,
// awaiting futures, and clean destruction of suspended tasks.
#include "poetry/coro/task.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "poetry/coro/awaitables.hpp"
#include "poetry/coro/create_task.hpp"
#include "poetry/net/socket.hpp"
#include "support/fake_clock.hpp"
#include "support/fd_count.hpp"
#include "support/reported_exceptions.hpp"

using namespace std::chrono_literals;
using poetry::EventLoop;
using poetry::Future;
using poetry::Task;

namespace {

Task<int> answer() {
    co_return 42;
}

Task<int> add_one(Task<int> inner) {
    co_return co_await std::move(inner) + 1;
}

Task<std::string> fail(std::string message) {
    throw std::runtime_error(message);
    co_return "";
}

Task<std::string> wrap(Task<std::string> inner) {
    std::string value = co_await std::move(inner);
    co_return "[" + value + "]";
}

Task<int> depth(int n) {
    if (n == 0) {
        co_return 0;
    }
    co_return co_await depth(n - 1) + 1;
}

Task<void> set_flag(bool& flag) {
    flag = true;
    co_return;
}

Task<std::unique_ptr<int>> boxed(int value) {
    co_return std::make_unique<int>(value);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(task, poetry::test::FdLeakCheck)

BOOST_AUTO_TEST_CASE(a_task_does_not_start_until_awaited) {
    EventLoop loop;
    bool ran = false;
    {
        auto task = set_flag(ran);
        BOOST_TEST(!ran);
    }
    BOOST_TEST(!ran);  // destroyed without ever running
    poetry::run(loop, set_flag(ran));
    BOOST_TEST(ran);
}

BOOST_AUTO_TEST_CASE(values_propagate_through_nested_awaits) {
    EventLoop loop;
    BOOST_TEST(poetry::run(loop, add_one(add_one(add_one(answer())))) == 45);
}

BOOST_AUTO_TEST_CASE(exceptions_propagate_through_nested_awaits) {
    EventLoop loop;
    BOOST_CHECK_EXCEPTION(poetry::run(loop, wrap(wrap(fail("deep")))), std::runtime_error,
                          [](const std::runtime_error& e) { return std::string(e.what()) == "deep"; });
}

BOOST_AUTO_TEST_CASE(an_awaiting_coroutine_can_catch_and_carry_on) {
    EventLoop loop;
    auto recover = []() -> Task<std::string> {
        try {
            co_await fail("refused");
        } catch (const std::runtime_error& e) {
            co_return std::string("recovered from ") + e.what();
        }
        co_return "unreachable";
    };
    BOOST_TEST(poetry::run(loop, recover()) == "recovered from refused");
}

// 200,000 nested awaits would overflow an 8 MiB stack without symmetric transfer. AddressSanitizer's
// and ThreadSanitizer's instrumentation keeps GCC from turning the transfer into a tail call (at any
// -O level), so under them the chain is checked for its values at a depth that fits a stack without
// tail calls.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int await_chain_depth = 2'000;
#else
constexpr int await_chain_depth = 200'000;
#endif

BOOST_AUTO_TEST_CASE(deep_chains_of_awaits_use_no_stack) {
    EventLoop loop;
    BOOST_TEST(poetry::run(loop, depth(await_chain_depth)) == await_chain_depth);
}

BOOST_AUTO_TEST_CASE(awaiting_an_empty_task_is_a_broken_promise) {
    EventLoop loop;
    auto await_empty = []() -> Task<int> {
        Task<int> empty;
        co_return co_await std::move(empty);
    };
    BOOST_CHECK_THROW(poetry::run(loop, await_empty()), std::logic_error);
}

BOOST_AUTO_TEST_CASE(move_only_values_come_out_of_tasks_and_futures) {
    EventLoop loop;
    auto value = poetry::run(loop, boxed(9));
    BOOST_REQUIRE(value);
    BOOST_TEST(*value == 9);
}

BOOST_AUTO_TEST_CASE(create_task_starts_on_the_next_iteration_and_completes_its_future) {
    EventLoop loop;
    bool ran = false;
    Future<void> future = poetry::create_task(loop, set_flag(ran));
    BOOST_TEST(!ran);
    BOOST_TEST(!future.done());
    loop.run_until_complete(future);
    BOOST_TEST(ran);
    BOOST_TEST(future.done());
}

BOOST_AUTO_TEST_CASE(a_coroutine_awaits_a_future_set_by_a_callback) {
    EventLoop loop;
    Future<std::string> later(loop);
    loop.call_later(5ms, [&] { later.set_result("arrived"); });
    auto waiter = [](Future<std::string> f) -> Task<std::string> { co_return co_await f; };
    BOOST_TEST(poetry::run(loop, waiter(later)) == "arrived");
}

BOOST_AUTO_TEST_CASE(a_cancelled_task_future_never_starts_its_task) {
    EventLoop loop;
    bool ran = false;
    Future<void> future = poetry::create_task(loop, set_flag(ran));
    BOOST_TEST(future.cancel());
    loop.call_later(5ms, [&] { loop.stop(); });
    loop.run_forever();
    BOOST_TEST(!ran);
}

BOOST_AUTO_TEST_CASE(destroying_a_suspended_task_removes_its_reader_and_closes_its_socket) {
    EventLoop loop;
    auto [ours, peer] = poetry::net::socket_pair();
    const int fd = ours.fd();
    auto reader = [](EventLoop& l, poetry::net::Socket socket) -> Task<std::size_t> {
        std::byte buffer[64];
        co_return co_await poetry::recv(l, socket, buffer);
    };
    {
        Future<std::size_t> future = poetry::create_task(loop, reader(loop, std::move(ours)));
        loop.run_once();  // the task starts and suspends in recv
        BOOST_TEST(!future.done());
        BOOST_TEST(loop.selector().get_key(fd) != nullptr);
    }  // the last copy of the future goes: the task is destroyed where it waits
    BOOST_TEST(loop.selector().size() == 0U);
    BOOST_TEST(::fcntl(fd, F_GETFD) == -1);
}

BOOST_AUTO_TEST_CASE(destroying_a_sleeping_task_cancels_its_timer) {
    EventLoop loop;
    bool woke = false;
    auto sleeper = [](EventLoop& l, bool& flag) -> Task<void> {
        co_await poetry::sleep(l, 10s);
        flag = true;
    };
    {
        Future<void> future = poetry::create_task(loop, sleeper(loop, woke));
        loop.run_once();
        BOOST_TEST(loop.armed_timers() == 1U);
        future.cancel();
    }
    loop.call_soon([&] { loop.stop(); });
    loop.run_forever();
    BOOST_TEST(loop.armed_timers() == 0U);
    BOOST_TEST(!woke);
}

BOOST_AUTO_TEST_CASE(destroying_a_task_waiting_on_a_future_removes_its_done_callback) {
    EventLoop loop;
    Future<int> never(loop);
    bool resumed = false;
    auto waiter = [](Future<int> f, bool& flag) -> Task<void> {
        co_await f;
        flag = true;
    };
    {
        Future<void> future = poetry::create_task(loop, waiter(never, resumed));
        loop.run_once();
    }
    never.set_result(1);  // would resume a destroyed frame if the callback were still there
    loop.call_later(5ms, [&] { loop.stop(); });
    loop.run_forever();
    BOOST_TEST(!resumed);
}

BOOST_AUTO_TEST_CASE(a_task_that_drops_its_own_future_runs_on_until_it_next_waits_then_ends) {
    EventLoop loop;
    auto [ours, peer] = poetry::net::socket_pair();
    const int fd = ours.fd();
    std::optional<Future<void>> only_copy;
    bool after_drop = false;
    bool after_wait = false;
    auto self_dropping = [&](poetry::net::Socket socket) -> Task<void> {
        co_await poetry::sleep(loop, 1ms);
        only_copy.reset();  // its own future's last copy, while it runs: the frame must survive this
        after_drop = true;
        std::byte buffer[8];
        co_await poetry::recv(loop, socket, buffer);  // it suspends: now it is destroyed
        after_wait = true;
    };
    only_copy = poetry::create_task(loop, self_dropping(std::move(ours)));
    loop.call_later(30ms, [&] {
        std::error_code closed;  // EPIPE is expected: the task, and its socket, are gone by now
        peer.send_all(poetry::net::as_bytes("x"), closed);
    });
    loop.call_later(60ms, [&] { loop.stop(); });
    loop.run_forever();
    BOOST_TEST(after_drop);
    BOOST_TEST(!after_wait);
    BOOST_TEST(loop.selector().size() == 0U);
    BOOST_TEST(::fcntl(fd, F_GETFD) == -1);
}

BOOST_AUTO_TEST_CASE(a_task_that_cancels_its_own_future_runs_on_until_it_next_waits_then_ends) {
    EventLoop loop;
    std::optional<Future<void>> self;
    bool after_cancel = false;
    bool after_wait = false;
    auto self_cancelling = [&]() -> Task<void> {
        co_await poetry::sleep(loop, 1ms);
        BOOST_TEST(self->cancel());
        after_cancel = true;
        co_await poetry::sleep(loop, 1ms);
        after_wait = true;
    };
    self = poetry::create_task(loop, self_cancelling());
    loop.call_later(30ms, [&] { loop.stop(); });
    loop.run_forever();
    BOOST_TEST(after_cancel);
    BOOST_TEST(!after_wait);
    BOOST_TEST(self->cancelled());
    BOOST_TEST(loop.armed_timers() == 0U);
}

BOOST_AUTO_TEST_CASE(a_spawned_task_runs_to_its_end_with_nobody_holding_it) {
    EventLoop loop;
    bool done = false;
    auto work = [&]() -> Task<void> {
        co_await poetry::sleep(loop, 5ms);
        done = true;
        loop.stop();
    };
    poetry::spawn(loop, work());
    loop.run_forever();
    BOOST_TEST(done);
}

BOOST_AUTO_TEST_CASE(a_spawned_tasks_exception_goes_to_the_exception_handler) {
    EventLoop loop;
    const poetry::test::ReportedExceptions reported(loop);
    auto failing = [&]() -> Task<void> {
        co_await poetry::sleep(loop, 1ms);
        throw std::runtime_error("lost the peer");
    };
    poetry::spawn(loop, failing());
    loop.call_later(50ms, [&] { loop.stop(); });
    loop.run_forever();
    BOOST_TEST(reported.lines() == (std::vector<std::string>{"exception in spawned task: lost the peer"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_loop_destroyed_first_destroys_its_pending_tasks_cleanly) {
    auto [ours, peer] = poetry::net::socket_pair();
    auto [theirs, other_peer] = poetry::net::socket_pair();
    const int spawned_fd = ours.fd();
    const int held_fd = theirs.fd();
    auto reader = [](EventLoop& l, poetry::net::Socket socket) -> Task<void> {
        std::byte buffer[8];
        co_await poetry::recv(l, socket, buffer);
    };
    {
        EventLoop loop;
        poetry::spawn(loop, reader(loop, std::move(ours)));
        Future<void> held = poetry::create_task(loop, reader(loop, std::move(theirs)));
        loop.run_once();  // both wait in recv
        // A timer callback now holds the last copy of the second task's future.
        loop.call_later(std::chrono::hours(1), [held = std::move(held)] {});
    }  // the loop goes: both tasks are destroyed while the loop can still take their readers back
    BOOST_TEST(::fcntl(spawned_fd, F_GETFD) == -1);
    BOOST_TEST(::fcntl(held_fd, F_GETFD) == -1);
}

BOOST_AUTO_TEST_CASE(a_future_that_outlives_its_loop_destroys_its_task_with_the_loop) {
    auto [ours, peer] = poetry::net::socket_pair();
    const int fd = ours.fd();
    auto reader = [](EventLoop& l, poetry::net::Socket socket) -> Task<void> {
        std::byte buffer[8];
        co_await poetry::recv(l, socket, buffer);
    };
    std::optional<Future<void>> held;
    {
        auto loop = std::make_unique<EventLoop>();
        held.emplace(poetry::create_task(*loop, reader(*loop, std::move(ours))));
        loop->run_once();  // the task waits in recv, its reader registered with the loop
        BOOST_TEST(loop->has_reader(fd));
    }  // the loop goes first (on the heap, so that a late use of it is a use after free under ASan)
    BOOST_TEST(::fcntl(fd, F_GETFD) == -1);  // the task went with the loop, and its socket with it
    BOOST_TEST(!held->done());
    held.reset();  // safe: the task is gone, nothing reaches for the loop
}

BOOST_AUTO_TEST_CASE(awaiting_a_task_that_another_coroutine_awaits_is_refused) {
    EventLoop loop;
    auto [ours, peer] = poetry::net::socket_pair();
    auto reader = [](EventLoop& l, poetry::net::Socket& socket) -> Task<std::size_t> {
        std::byte buffer[8];
        co_return co_await poetry::recv(l, socket, buffer);
    };
    Task<std::size_t> shared = reader(loop, ours);
    auto first = [](Task<std::size_t>& task) -> Task<std::size_t> { co_return co_await task; };
    auto second = [](Task<std::size_t>& task) -> Task<std::string> {
        try {
            co_await task;
        } catch (const std::logic_error& refused) {
            co_return refused.what();
        }
        co_return "not refused";
    };
    Future<std::size_t> waiting = poetry::create_task(loop, first(shared));
    loop.run_once();  // `shared` starts and waits in recv for `first`
    BOOST_TEST(poetry::run(loop, second(shared)) == "Task awaited from two places at once");
    BOOST_REQUIRE_EQUAL(::write(peer.fd(), "x", 1), 1);
    BOOST_TEST(loop.run_until_complete(waiting) == 1U);  // the first awaiter is untouched
}

BOOST_AUTO_TEST_CASE(awaiting_a_finished_task_a_second_time_is_refused) {
    EventLoop loop;
    Task<std::unique_ptr<int>> task = boxed(7);
    auto await_twice = [](Task<std::unique_ptr<int>>& t) -> Task<std::string> {
        const int value = *co_await t;
        try {
            co_await t;  // its value is gone: this must not hand out a moved-from pointer
        } catch (const std::logic_error& refused) {
            co_return std::to_string(value) + ", then: " + refused.what();
        }
        co_return "not refused";
    };
    BOOST_TEST(poetry::run(loop, await_twice(task)) == "7, then: Task awaited again after its result was taken");
}

BOOST_AUTO_TEST_SUITE_END()
