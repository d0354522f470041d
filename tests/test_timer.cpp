// Timer: the user-owned, re-armable timer of timer.hpp. Order and re-arming on virtual time; cancelling,
// re-arming and destroying timers from callbacks (ASan checks the lifetimes); a random workload against
// a model; and a Timer's deadline as the loop's select() timeout, on the real clock.
#include "poetry/loop/timer.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <numeric>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "poetry/loop/event_loop.hpp"
#include "support/fake_clock.hpp"
#include "support/reported_exceptions.hpp"
#include "support/timing.hpp"

using namespace std::chrono_literals;
using poetry::Clock;
using poetry::EventLoop;
using poetry::TimePoint;
using poetry::Timer;
using poetry::test::VirtualClock;

// Every allocation of this program is counted, so that a test can check that arming, re-arming,
// cancelling and firing a Timer allocate nothing (the point of Timer over call_later). The counter
// only counts: allocation itself is malloc's, as usual. Not under the sanitizers, whose runtimes
// replace operator new themselves (and GCC's -Wmismatched-new-delete misreads the pair once inlined).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
namespace {
constexpr bool counting_allocations = false;
std::size_t allocations = 0;
}  // namespace
#else
namespace {
constexpr bool counting_allocations = true;
std::size_t allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
    ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
#endif

namespace {

/// Runs `loop` until no Timer is armed (at most `limit` iterations, so that a broken heap fails the test
/// instead of hanging it).
void run_while_armed(EventLoop& loop, int limit = 100'000) {
    for (int i = 0; i < limit && loop.armed_timers() > 0; ++i) {
        loop.run_once();
    }
    BOOST_TEST(loop.armed_timers() == 0U);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(timer)

BOOST_AUTO_TEST_CASE(timers_fire_at_their_deadline_in_deadline_order_and_in_arming_order_among_equals) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const TimePoint start = loop->time();
    std::vector<std::pair<int, Clock::duration>> fired;
    std::vector<std::unique_ptr<Timer>> timers;
    // (id, deadline in ms): ids 1, 3 and 5 share a deadline and must fire in the order armed.
    const std::vector<std::pair<int, int>> plan{{0, 30}, {1, 10}, {2, 20}, {3, 10}, {4, 0}, {5, 10}, {6, 25}};
    for (const auto& [id, ms] : plan) {
        timers.push_back(
            std::make_unique<Timer>(*loop, [&, id = id] { fired.emplace_back(id, loop->time() - start); }));
        timers.back()->arm_at(start + std::chrono::milliseconds(ms));
        BOOST_TEST(timers.back()->armed());
        BOOST_TEST((timers.back()->when() == start + std::chrono::milliseconds(ms)));
    }
    run_while_armed(*loop);
    const std::vector<std::pair<int, Clock::duration>> expected{{4, 0ms},  {1, 10ms}, {3, 10ms}, {5, 10ms},
                                                                {2, 20ms}, {6, 25ms}, {0, 30ms}};
    BOOST_REQUIRE_EQUAL(fired.size(), expected.size());
    for (std::size_t i = 0; i < fired.size(); ++i) {
        BOOST_TEST_CONTEXT("fire " << i) {
            BOOST_TEST(fired[i].first == expected[i].first);
            BOOST_TEST((fired[i].second == expected[i].second));
        }
    }
    for (const auto& timer : timers) {
        BOOST_TEST(!timer->armed());
    }
}

BOOST_AUTO_TEST_CASE(rearming_an_armed_timer_earlier_or_later_moves_it) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const TimePoint start = loop->time();
    std::vector<std::pair<char, Clock::duration>> fired;
    auto record = [&](char name) { return [&, name] { fired.emplace_back(name, loop->time() - start); }; };
    Timer a(*loop, record('a'));
    Timer b(*loop, record('b'));
    Timer c(*loop, record('c'));
    Timer d(*loop, record('d'));
    a.arm_at(start + 10ms);
    b.arm_at(start + 20ms);
    c.arm_at(start + 30ms);
    d.arm_after(15ms);
    c.arm_at(start + 5ms);   // earlier: from the bottom of the heap to the top
    a.arm_at(start + 40ms);  // later: from the top to the bottom
    d.arm_after(15ms);       // the same deadline again: stays, fires once
    BOOST_TEST(loop->armed_timers() == 4U);
    BOOST_TEST((a.when() == start + 40ms));
    BOOST_TEST((c.when() == start + 5ms));
    run_while_armed(*loop);
    const std::vector<std::pair<char, Clock::duration>> expected{
        {'c', 5ms}, {'d', 15ms}, {'b', 20ms}, {'a', 40ms}};
    BOOST_REQUIRE_EQUAL(fired.size(), expected.size());  // neither moved timer fired at its old deadline
    for (std::size_t i = 0; i < fired.size(); ++i) {
        BOOST_TEST(fired[i].first == expected[i].first);
        BOOST_TEST((fired[i].second == expected[i].second));
    }
}

BOOST_AUTO_TEST_CASE(rearming_among_equal_deadlines_puts_the_timer_last_of_them) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const TimePoint when = loop->time() + 10ms;
    std::vector<int> order;
    std::vector<std::unique_ptr<Timer>> timers;
    for (int i = 0; i < 4; ++i) {
        timers.push_back(std::make_unique<Timer>(*loop, [&order, i] { order.push_back(i); }));
        timers.back()->arm_at(when);
    }
    timers[1]->arm_at(when);  // armed again: now the last armed for that deadline
    run_while_armed(*loop);
    BOOST_TEST(order == (std::vector<int>{0, 2, 3, 1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(cancel_before_expiry_prevents_the_callback) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    int cancelled_runs = 0;
    int other_runs = 0;
    Timer cancelled_at_once(*loop, [&] { ++cancelled_runs; });
    Timer cancelled_later(*loop, [&] { ++cancelled_runs; });
    Timer canceller(*loop, [&] {
        ++other_runs;
        cancelled_later.cancel();
    });
    cancelled_at_once.arm_after(10ms);
    cancelled_later.arm_after(20ms);
    canceller.arm_after(15ms);
    cancelled_at_once.cancel();
    cancelled_at_once.cancel();  // idempotent
    BOOST_TEST(!cancelled_at_once.armed());
    BOOST_TEST(loop->armed_timers() == 2U);
    bool stopped = false;
    loop->call_later(30ms, [&] {
        stopped = true;
        loop->stop();
    });
    loop->run_forever();
    BOOST_TEST(stopped);
    BOOST_TEST(other_runs == 1);
    BOOST_TEST(cancelled_runs == 0);
    BOOST_TEST(!cancelled_later.armed());
    BOOST_TEST(loop->armed_timers() == 0U);
    Timer never_armed(*loop, [] {});
    never_armed.cancel();  // cancelling an idle timer does nothing
    BOOST_TEST(loop->armed_timers() == 0U);
}

BOOST_AUTO_TEST_CASE(a_timer_cancelled_by_an_earlier_timer_due_in_the_same_pass_does_not_run) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    std::vector<std::string> ran;
    Timer second(*loop, [&] { ran.emplace_back("second"); });
    Timer third(*loop, [&] { ran.emplace_back("third"); });
    Timer first(*loop, [&] {
        ran.emplace_back("first");
        second.cancel();
        BOOST_TEST(!second.armed());
    });
    first.arm_after(5ms);
    second.arm_after(10ms);
    third.arm_after(10ms);
    clock.advance(20ms);  // all three are due in the next pass
    loop->run_once();
    BOOST_TEST(ran == (std::vector<std::string>{"first", "third"}), boost::test_tools::per_element());
    BOOST_TEST(loop->armed_timers() == 0U);
    // The slot the cancelled timer left behind in the pass does not hold it any more: arming it again
    // runs it once, at its new deadline.
    second.arm_after(1ms);
    run_while_armed(*loop);
    BOOST_TEST(ran == (std::vector<std::string>{"first", "third", "second"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_timer_destroyed_by_an_earlier_timer_due_in_the_same_pass_does_not_run) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    std::vector<std::string> ran;
    auto doomed = std::make_unique<Timer>(*loop, [&] { ran.emplace_back("doomed"); });
    Timer last(*loop, [&] { ran.emplace_back("last"); });
    Timer first(*loop, [&] {
        ran.emplace_back("first");
        doomed.reset();  // a use of it later in the pass would be a heap-use-after-free under ASan
    });
    first.arm_after(5ms);
    doomed->arm_after(6ms);
    last.arm_after(7ms);
    clock.advance(10ms);
    loop->run_once();
    BOOST_TEST(ran == (std::vector<std::string>{"first", "last"}), boost::test_tools::per_element());
    BOOST_TEST(loop->armed_timers() == 0U);
}

BOOST_AUTO_TEST_CASE(a_due_timer_rearmed_by_an_earlier_timer_of_the_same_pass_runs_at_its_new_deadline) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const TimePoint start = loop->time();
    std::vector<std::pair<std::string, Clock::duration>> ran;
    Timer postponed(*loop, [&] { ran.emplace_back("postponed", loop->time() - start); });
    Timer first(*loop, [&] {
        ran.emplace_back("first", loop->time() - start);
        postponed.arm_at(start + 50ms);
    });
    first.arm_at(start + 5ms);
    postponed.arm_at(start + 6ms);
    clock.advance(10ms);
    loop->run_once();
    BOOST_REQUIRE_EQUAL(ran.size(), 1U);
    BOOST_TEST(postponed.armed());
    BOOST_TEST(loop->armed_timers() == 1U);
    run_while_armed(*loop);
    BOOST_REQUIRE_EQUAL(ran.size(), 2U);
    BOOST_TEST(ran[1].first == "postponed");
    BOOST_TEST((ran[1].second == 50ms));
}

BOOST_AUTO_TEST_CASE(a_callback_can_rearm_its_own_timer) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const TimePoint start = loop->time();
    std::vector<Clock::duration> fired;
    bool armed_while_running = true;
    std::optional<Timer> ticker;
    ticker.emplace(*loop, [&] {
        armed_while_running = armed_while_running && ticker->armed();
        fired.push_back(loop->time() - start);
        if (fired.size() < 5) {
            ticker->arm_after(10ms);
        }
    });
    ticker->arm_after(10ms);
    run_while_armed(*loop);
    BOOST_TEST(fired == (std::vector<Clock::duration>{10ms, 20ms, 30ms, 40ms, 50ms}),
               boost::test_tools::per_element());
    BOOST_TEST(!armed_while_running);  // armed() is false from the moment its callback starts
}

BOOST_AUTO_TEST_CASE(a_timer_rearmed_for_now_in_its_callback_runs_in_the_next_pass_not_this_one) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    int runs = 0;
    std::optional<Timer> again;
    again.emplace(*loop, [&] {
        ++runs;
        again->arm_at(loop->time());  // due already: must not starve the loop by running in this pass
    });
    again->arm_at(loop->time());
    loop->run_once();
    BOOST_TEST(runs == 1);
    loop->run_once();
    BOOST_TEST(runs == 2);
    again->cancel();
    loop->call_soon([] {});
    loop->run_once();
    BOOST_TEST(runs == 2);
}

BOOST_AUTO_TEST_CASE(a_callback_can_destroy_its_own_timer) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    std::string seen_by_optional;
    std::string seen_by_unique;
    // Captures that live on the heap, read after the timer (and the callback it holds) is gone: if the
    // loop ran the timer's own callback rather than a copy, ASan reports a heap-use-after-free.
    std::optional<Timer> in_optional;
    in_optional.emplace(*loop, [&, text = std::string(200, 'o')] {
        in_optional.reset();
        seen_by_optional = text;
    });
    std::unique_ptr<Timer> in_unique;
    in_unique = std::make_unique<Timer>(*loop, [&, text = std::string(200, 'u')] {
        in_unique.reset();
        seen_by_unique = text;
    });
    in_optional->arm_after(5ms);
    in_unique->arm_after(5ms);
    run_while_armed(*loop);
    BOOST_TEST(!in_optional.has_value());
    BOOST_TEST(!in_unique);
    BOOST_TEST(seen_by_optional == std::string(200, 'o'));
    BOOST_TEST(seen_by_unique == std::string(200, 'u'));
}

BOOST_AUTO_TEST_CASE(a_timer_destroyed_while_armed_leaves_the_heap) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    int runs = 0;
    Timer stays(*loop, [&] { ++runs; });
    stays.arm_after(30ms);
    {
        Timer goes(*loop, [&] { runs += 100; });
        goes.arm_after(10ms);
        Timer goes_too(*loop, [&] { runs += 100; });
        goes_too.arm_after(40ms);
        BOOST_TEST(loop->armed_timers() == 3U);
    }
    BOOST_TEST(loop->armed_timers() == 1U);
    run_while_armed(*loop);  // a heap still pointing at them: heap-use-after-free under ASan
    BOOST_TEST(runs == 1);
}

BOOST_AUTO_TEST_CASE(a_timer_destroyed_after_its_loop_does_not_crash) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    int runs = 0;
    auto armed = std::make_unique<Timer>(*loop, [&] { ++runs; });
    auto fired = std::make_unique<Timer>(*loop, [&] { ++runs; });
    auto soon = std::make_unique<Timer>(*loop, [&] { ++runs; });
    fired->arm_after(1ms);
    run_while_armed(*loop);
    armed->arm_after(1h);
    soon->arm_after(1ms);
    BOOST_TEST(runs == 1);
    loop.reset();  // the heap is freed: touching it now is a heap-use-after-free under ASan
    BOOST_TEST(!armed->armed());
    BOOST_TEST(!soon->armed());
    armed->cancel();
    BOOST_CHECK_THROW(armed->arm_at(TimePoint{} + 1h), std::logic_error);
    armed.reset();
    soon.reset();
    fired.reset();
    BOOST_TEST(runs == 1);
}

BOOST_AUTO_TEST_CASE(a_timer_kept_alive_by_its_loop_goes_with_it) {
    // The loop destroys what it keeps alive first, while its heap is whole: the timer leaves the heap.
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    auto timer = std::make_shared<Timer>(*loop, [] {});
    timer->arm_after(1h);
    std::weak_ptr<Timer> watched = timer;
    loop->keep_alive(std::move(timer));
    loop.reset();
    BOOST_TEST(watched.expired());
}

BOOST_AUTO_TEST_CASE(
    ten_thousand_random_timers_half_cancelled_and_some_rearmed_fire_exactly_the_rest_in_order) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const TimePoint start = loop->time();
    constexpr std::size_t count = 10'000;
    std::mt19937 random(20240611);  // fixed: a failure reproduces
    // Deadlines from few enough values that many are equal: FIFO among them is checked too.
    std::uniform_int_distribution<int> deadline_ms(0, 999);

    struct Fired {
        std::size_t id;
        TimePoint at;
    };
    std::vector<Fired> fired;
    fired.reserve(count);
    std::vector<std::unique_ptr<Timer>> timers;
    timers.reserve(count);
    std::vector<TimePoint> deadline(count);
    std::vector<std::uint64_t> armed_as(count);  // the order of the last arm: FIFO among equal deadlines
    std::uint64_t arms = 0;
    for (std::size_t id = 0; id < count; ++id) {
        timers.push_back(std::make_unique<Timer>(*loop, [&, id] { fired.push_back({id, loop->time()}); }));
        deadline[id] = start + std::chrono::milliseconds(deadline_ms(random));
        armed_as[id] = arms++;
        timers[id]->arm_at(deadline[id]);
    }
    BOOST_TEST(loop->armed_timers() == count);

    std::vector<std::size_t> ids(count);
    std::iota(ids.begin(), ids.end(), std::size_t{0});
    std::shuffle(ids.begin(), ids.end(), random);
    std::vector<bool> cancelled(count, false);
    for (std::size_t i = 0; i < count / 2; ++i) {
        timers[ids[i]]->cancel();
        cancelled[ids[i]] = true;
    }
    BOOST_TEST(loop->armed_timers() == count / 2);
    // Re-arm a quarter of the survivors, earlier or later, in place in the heap.
    for (std::size_t i = count / 2; i < count / 2 + count / 4; ++i) {
        const std::size_t id = ids[i];
        deadline[id] = start + std::chrono::milliseconds(deadline_ms(random));
        armed_as[id] = arms++;
        timers[id]->arm_at(deadline[id]);
    }
    BOOST_TEST(loop->armed_timers() == count / 2);

    std::vector<std::size_t> expected;
    for (std::size_t id = 0; id < count; ++id) {
        if (!cancelled[id]) {
            expected.push_back(id);
        }
    }
    std::sort(expected.begin(), expected.end(), [&](std::size_t a, std::size_t b) {
        return std::tie(deadline[a], armed_as[a]) < std::tie(deadline[b], armed_as[b]);
    });

    run_while_armed(*loop);
    BOOST_REQUIRE_EQUAL(fired.size(), expected.size());
    std::size_t wrong_order = 0;
    std::size_t wrong_time = 0;
    for (std::size_t i = 0; i < fired.size(); ++i) {
        wrong_order += fired[i].id != expected[i] ? 1 : 0;
        wrong_time += fired[i].at != deadline[fired[i].id] ? 1 : 0;
    }
    BOOST_TEST(wrong_order == 0U);
    BOOST_TEST(wrong_time == 0U);
}

BOOST_AUTO_TEST_CASE(armed_timers_counts_the_timers_armed_now) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    std::size_t counted_in_callback = 99;
    Timer a(*loop, [&] { counted_in_callback = loop->armed_timers(); });
    Timer b(*loop, [] {});
    BOOST_TEST(loop->armed_timers() == 0U);
    a.arm_after(10ms);
    b.arm_after(20ms);
    BOOST_TEST(loop->armed_timers() == 2U);
    a.arm_after(5ms);  // re-armed: still one timer
    BOOST_TEST(loop->armed_timers() == 2U);
    {
        Timer c(*loop, [] {});
        c.arm_after(1ms);
        BOOST_TEST(loop->armed_timers() == 3U);
    }
    BOOST_TEST(loop->armed_timers() == 2U);
    BOOST_TEST(loop->timer_count() == 0U);  // Timer objects are not call_later timers
    loop->run_once();                       // a fires
    BOOST_TEST(counted_in_callback == 1U);  // a itself no longer counts while its callback runs
    BOOST_TEST(loop->armed_timers() == 1U);
    b.cancel();
    BOOST_TEST(loop->armed_timers() == 0U);
}

BOOST_AUTO_TEST_CASE(due_timers_run_before_the_other_callbacks_ready_in_the_pass) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    std::vector<std::string> order;
    loop->call_soon([&] { order.emplace_back("call_soon"); });
    loop->call_at(loop->time(), [&] { order.emplace_back("call_at"); });
    Timer timer(*loop, [&] {
        order.emplace_back("Timer");
        loop->call_soon([&] { order.emplace_back("scheduled by Timer"); });
    });
    timer.arm_at(loop->time());
    loop->run_once();
    BOOST_TEST(order == (std::vector<std::string>{"Timer", "call_soon", "call_at"}),
               boost::test_tools::per_element());
    loop->run_once();
    BOOST_TEST(order.back() == "scheduled by Timer");
}

BOOST_AUTO_TEST_CASE(an_exception_in_a_timer_callback_is_reported_and_the_pass_goes_on) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const poetry::test::ReportedExceptions reported(*loop);
    bool after = false;
    Timer throwing(*loop, [] { throw std::runtime_error("timer object boom"); });
    Timer next(*loop, [&] { after = true; });
    throwing.arm_after(1ms);
    next.arm_after(1ms);
    loop->run_once();
    BOOST_TEST(after);
    BOOST_TEST(reported.lines() == (std::vector<std::string>{"exception in callback: timer object boom"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_loop_sleeps_until_the_earliest_of_its_timers_of_either_kind) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const TimePoint start = loop->time();
    int runs = 0;
    Timer timer(*loop, [&] { ++runs; });
    timer.arm_after(30ms);
    auto handle = loop->call_later(50ms, [&] { ++runs; });
    loop->run_once();  // the virtual selector moves the clock by exactly the timeout it is given
    BOOST_TEST((clock.now() - start == 30ms));
    BOOST_TEST(runs == 1);
    timer.arm_after(40ms);  // now later than the call_later timer
    loop->run_once();
    BOOST_TEST((clock.now() - start == 50ms));
    BOOST_TEST(runs == 2);
    loop->run_once();
    BOOST_TEST((clock.now() - start == 70ms));
    BOOST_TEST(runs == 3);
}

BOOST_AUTO_TEST_CASE(run_once_on_the_real_clock_waits_for_a_timer_and_no_longer) {
    EventLoop loop;
    bool fired = false;
    bool fallback_fired = false;
    // Without the Timer in the loop's timeout, select() would sleep until this fallback.
    auto fallback = loop.call_later(3s, [&] { fallback_fired = true; });
    Timer timer(loop, [&] { fired = true; });
    const auto start = Clock::now();
    timer.arm_after(50ms);
    while (!fired && !fallback_fired) {
        loop.run_once();
    }
    const auto waited = Clock::now() - start;
    BOOST_TEST(fired);
    BOOST_TEST(!fallback_fired);
    BOOST_TEST(waited >= 50ms);  // never early, in any build
    POETRY_TEST_TIMING(waited < 2s);
    fallback.cancel();
}

BOOST_AUTO_TEST_CASE(arming_rearming_cancelling_and_firing_a_timer_allocates_nothing) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    int runs = 0;
    Timer a(*loop, [&runs] { ++runs; });
    Timer b(*loop, [&runs] { ++runs; });
    // Once, so that the heap and the pass's list have grown to hold two timers.
    a.arm_after(1ms);
    b.arm_after(1ms);
    loop->run_once();
    const int runs_before = runs;
    const std::size_t before = allocations;
    for (int i = 0; i < 1000; ++i) {
        a.arm_after(2ms);
        b.arm_after(3ms);
        a.arm_after(1ms);
        b.cancel();
        b.arm_after(1ms);
        loop->run_once();
    }
    const std::size_t allocated = allocations - before;
    if constexpr (counting_allocations) {
        BOOST_TEST(allocated == 0U);
    }
    BOOST_TEST(runs - runs_before == 2000);
}

// The edges: a delay too long for the clock, and a Timer used after its loop has gone (each once a
// bug: hours::max() wrapped into the past and fired at once; an idle Timer kept a dangling heap, and
// arm_after read the dead loop's clock).
BOOST_AUTO_TEST_CASE(a_timer_armed_for_hours_max_never_fires_and_does_not_hold_up_the_loop) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    const TimePoint start = loop->time();
    bool fired = false;
    Timer never(*loop, [&] { fired = true; });
    never.arm_after(std::chrono::hours::max());  // saturates instead of wrapping into the past
    BOOST_TEST((never.when() == TimePoint::max()));
    loop->call_later(10ms, [&] { loop->stop(); });
    loop->run_forever();
    BOOST_TEST((clock.now() - start == 10ms));
    BOOST_TEST(!fired);
    BOOST_TEST(never.armed());
}

BOOST_AUTO_TEST_CASE(arming_a_timer_that_was_idle_when_its_loop_went_throws_logic_error) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    auto idle = std::make_unique<Timer>(*loop, [] {});
    loop.reset();
    BOOST_CHECK_THROW(idle->arm_at(TimePoint{} + 1h), std::logic_error);
    idle.reset();
}

BOOST_AUTO_TEST_CASE(arm_after_on_a_timer_whose_loop_is_gone_throws_logic_error) {
    VirtualClock clock;
    auto loop = poetry::test::make_virtual_time_loop(clock);
    auto timer = std::make_unique<Timer>(*loop, [] {});
    timer->arm_after(1h);
    loop.reset();
    BOOST_CHECK_THROW(timer->arm_after(1ms), std::logic_error);
}

BOOST_AUTO_TEST_SUITE_END()
