// Future<T>: results, exceptions, cancellation, done-callbacks through the loop (exactly once), then():
// who sees a shared value and who may take it, and how cancelling or dropping a chain reaches back.
#include "poetry/loop/future.hpp"

#include <boost/test/unit_test.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "poetry/net/socket.hpp"
#include "support/fake_clock.hpp"
#include "support/reported_exceptions.hpp"

using namespace std::chrono_literals;
using poetry::CancelledError;
using poetry::Future;
using poetry::InvalidStateError;
using poetry::test::VirtualClock;

namespace {

/// A virtual-time loop, and a way to run it until nothing is left to do this instant.
struct LoopFixture {
    VirtualClock clock;
    std::unique_ptr<poetry::EventLoop> loop = poetry::test::make_virtual_time_loop(clock);

    void drain() {
        loop->call_later(1ms, [this] { loop->stop(); });
        loop->run_forever();
    }
};

/// Sets a flag when destroyed: stands in for work a future owns.
struct Tracker final : poetry::FutureProducer {
    explicit Tracker(bool& destroyed) : destroyed_(destroyed) {}
    ~Tracker() override { destroyed_ = true; }
    bool& destroyed_;
};

/// Registers a reader for as long as it exists: the work a future of a socket read owns.
struct ReaderOwner final : poetry::FutureProducer {
    ReaderOwner(poetry::EventLoop& loop, int fd, bool& destroyed)
        : loop_(loop), fd_(fd), destroyed_(destroyed) {
        loop.add_reader(fd, [] {});
    }
    ReaderOwner(const ReaderOwner&) = delete;
    ReaderOwner& operator=(const ReaderOwner&) = delete;
    ~ReaderOwner() override {
        loop_.remove_reader(fd_);
        destroyed_ = true;
    }
    poetry::EventLoop& loop_;
    int fd_;
    bool& destroyed_;
};

/// Longer than any small-string buffer: a string moved from is then visibly empty.
const std::string long_poem(100, 'x');

/// Whether then() accepts `F` on a future of this value category.
template <class FutureRef, class F>
concept chainable = requires(FutureRef future, F f) {
    std::forward<FutureRef>(future).then(std::move(f));
};
using KeepsTheBox = decltype([](std::unique_ptr<int> box) { return *box; });

}  // namespace

BOOST_FIXTURE_TEST_SUITE(future, LoopFixture)

BOOST_AUTO_TEST_CASE(a_result_is_kept_and_returned) {
    Future<std::string> f(*loop);
    BOOST_TEST(!f.done());
    f.set_result("poem");
    BOOST_TEST(f.done());
    BOOST_TEST(!f.cancelled());
    BOOST_TEST(f.result() == "poem");
    BOOST_TEST(!f.exception());
    Future<std::string> copy = f;
    BOOST_TEST(copy.result() == "poem");  // copies share one state
}

BOOST_AUTO_TEST_CASE(an_exception_is_rethrown_by_result) {
    Future<int> f(*loop);
    f.set_exception(std::make_exception_ptr(std::runtime_error("lost")));
    BOOST_TEST(f.done());
    BOOST_CHECK_EXCEPTION(f.result(), std::runtime_error,
                          [](const std::runtime_error& e) { return std::string(e.what()) == "lost"; });
    BOOST_TEST(static_cast<bool>(f.exception()));
}

BOOST_AUTO_TEST_CASE(misuse_is_an_invalid_state_error) {
    Future<int> f(*loop);
    BOOST_CHECK_THROW(f.result(), InvalidStateError);
    BOOST_CHECK_THROW(static_cast<void>(f.exception()), InvalidStateError);
    f.set_result(1);
    BOOST_CHECK_THROW(f.set_result(2), InvalidStateError);
    BOOST_CHECK_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))), InvalidStateError);
    BOOST_TEST(f.result() == 1);
    BOOST_TEST(!f.cancel());
}

BOOST_AUTO_TEST_CASE(callbacks_added_before_and_after_completion_run_exactly_once_through_the_loop) {
    Future<int> f(*loop);
    std::vector<std::string> calls;
    f.add_done_callback(
        [&](Future<int>& done) { calls.push_back("before " + std::to_string(done.result())); });
    f.set_result(7);
    BOOST_TEST(calls.empty());  // never inline: only the loop runs callbacks
    f.add_done_callback(
        [&](Future<int>& done) { calls.push_back("after " + std::to_string(done.result())); });
    drain();
    drain();
    BOOST_TEST(calls == (std::vector<std::string>{"before 7", "after 7"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_removed_callback_does_not_run_even_if_already_scheduled) {
    Future<void> f(*loop);
    int runs = 0;
    const auto id = f.add_done_callback([&](Future<void>&) { ++runs; });
    f.set_result();  // schedules the callback
    BOOST_TEST(f.remove_done_callback(id));
    BOOST_TEST(!f.remove_done_callback(id));
    drain();
    BOOST_TEST(runs == 0);
}

BOOST_AUTO_TEST_CASE(cancel_completes_with_cancelled_error_and_destroys_the_producer) {
    Future<int> f(*loop);
    bool destroyed = false;
    f.set_producer(std::make_unique<Tracker>(destroyed));
    int runs = 0;
    f.add_done_callback([&](Future<int>& done) {
        ++runs;
        BOOST_TEST(done.cancelled());
    });
    BOOST_TEST(f.cancel());
    BOOST_TEST(destroyed);
    BOOST_TEST(f.cancelled());
    BOOST_CHECK_THROW(f.result(), CancelledError);
    BOOST_TEST(!f.cancel());
    drain();
    BOOST_TEST(runs == 1);
}

BOOST_AUTO_TEST_CASE(the_last_copy_of_a_pending_future_destroys_its_producer) {
    bool destroyed = false;
    {
        Future<int> f(*loop);
        f.set_producer(std::make_unique<Tracker>(destroyed));
        Future<int> copy = f;
        f = Future<int>(*loop);
        BOOST_TEST(!destroyed);
    }
    BOOST_TEST(destroyed);
}

BOOST_AUTO_TEST_CASE(a_future_that_outlives_its_loop_can_be_read_and_destroyed_and_its_callbacks_never_run) {
    int runs = 0;
    Future<std::string> done(*loop);
    done.set_result(long_poem);
    const auto scheduled = done.add_done_callback([&](Future<std::string>&) { ++runs; });  // never run
    std::optional<Future<int>> pending(std::in_place, *loop);
    bool destroyed = false;
    pending->set_producer(std::make_unique<Tracker>(destroyed));
    const auto waiting = pending->add_done_callback([&](Future<int>&) { ++runs; });
    std::optional<Future<int>> chained(pending->then([&](const int& value) {
        ++runs;
        return value;
    }));
    loop.reset();  // first, and on the heap: a later use of it is a use after free under ASan
    BOOST_TEST(done.done());
    BOOST_TEST(!done.exception());
    BOOST_TEST(done.result() == long_poem);
    BOOST_TEST(done.remove_done_callback(scheduled));  // it went with the loop's queue, not from the future
    BOOST_TEST(std::move(done).take_result() == long_poem);
    BOOST_TEST(!pending->done());
    BOOST_TEST(!chained->done());
    BOOST_TEST(pending->remove_done_callback(waiting));
    chained.reset();  // lets go of its copy of `pending`
    BOOST_TEST(!destroyed);
    pending.reset();  // the last copy: its producer and its callback go, the callback unrun
    BOOST_TEST(destroyed);
    BOOST_TEST(runs == 0);
}

BOOST_AUTO_TEST_CASE(a_move_only_result_is_taken_out) {
    Future<std::unique_ptr<int>> f(*loop);
    f.set_result(std::make_unique<int>(42));
    std::unique_ptr<int> value = f.take_result();
    BOOST_REQUIRE(value);
    BOOST_TEST(*value == 42);
}

BOOST_AUTO_TEST_CASE(then_chains_values_and_flattens_returned_futures) {
    Future<int> start(*loop);
    Future<int> later(*loop);
    auto chained = start.then([](int n) { return std::to_string(n); })
                       .then([&](std::string s) {
                           later.set_result(static_cast<int>(s.size()) * 100);
                           return later;
                       })
                       .then([](int n) { return n + 1; });
    start.set_result(12345);
    drain();
    BOOST_TEST(chained.done());
    BOOST_TEST(chained.result() == 501);
}

BOOST_AUTO_TEST_CASE(then_skips_continuations_after_an_exception) {
    Future<int> start(*loop);
    bool ran = false;
    auto chained = start
                       .then([&](int) {
                           ran = true;
                           return 1;
                       })
                       .then([](int n) { return n * 2; });
    start.set_exception(std::make_exception_ptr(std::runtime_error("refused")));
    drain();
    BOOST_TEST(!ran);
    BOOST_CHECK_THROW(chained.result(), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(an_exception_thrown_by_a_continuation_fails_the_chain) {
    Future<void> start(*loop);
    auto chained = start.then([]() -> int { throw std::out_of_range("bad chunk"); });
    start.set_result();
    drain();
    BOOST_CHECK_THROW(chained.result(), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(cancellation_passes_down_a_chain) {
    Future<int> start(*loop);
    auto chained = start.then([](int n) { return n; });
    start.cancel();
    drain();
    BOOST_TEST(chained.cancelled());
}

BOOST_AUTO_TEST_CASE(run_until_complete_returns_the_result_or_throws_the_exception) {
    Future<int> ok(*loop);
    loop->call_later(5ms, [&] { ok.set_result(5); });
    BOOST_TEST(loop->run_until_complete(ok) == 5);

    struct Refused : std::exception {};  // unlike the loop's own runtime_error for "stopped early"
    Future<int> failed(*loop);
    loop->call_soon([&] { failed.set_exception(std::make_exception_ptr(Refused())); });
    BOOST_CHECK_THROW(loop->run_until_complete(failed), Refused);
}

BOOST_AUTO_TEST_CASE(a_run_until_complete_that_cannot_run_leaves_no_stop_behind) {
    Future<int> f(*loop);
    bool refused = false;
    bool reached = false;
    loop->call_soon([&] {
        try {
            loop->run_until_complete(f);  // nested: refused, and its stop callback must go with it
        } catch (const std::logic_error&) {
            refused = true;
        }
    });
    loop->call_later(10ms, [&] { f.set_result(1); });
    loop->call_later(20ms, [&] { reached = true; });
    loop->call_later(30ms, [&] { loop->stop(); });
    loop->run_forever();
    BOOST_TEST(refused);
    BOOST_TEST(reached);
}

BOOST_AUTO_TEST_CASE(an_exception_thrown_by_a_done_callback_is_reported_and_the_loop_goes_on) {
    const poetry::test::ReportedExceptions reported(*loop);
    Future<int> f(*loop);
    int later_runs = 0;
    f.add_done_callback([](Future<int>&) { throw std::runtime_error("callback failed"); });
    f.add_done_callback([&](Future<int>&) { ++later_runs; });
    f.set_result(3);
    drain();
    BOOST_TEST(reported.lines() == (std::vector<std::string>{"exception in callback: callback failed"}),
               boost::test_tools::per_element());
    BOOST_TEST(later_runs == 1);
}

BOOST_AUTO_TEST_CASE(then_flattens_a_future_of_a_move_only_value) {
    Future<int> start(*loop);
    Future<std::unique_ptr<int>> boxed(*loop);
    auto chained = start.then([&](int n) {
        boxed.set_result(std::make_unique<int>(n * 2));
        return boxed;
    });
    start.set_result(21);
    drain();
    std::unique_ptr<int> value = chained.take_result();
    BOOST_REQUIRE(value);
    BOOST_TEST(*value == 42);
}

BOOST_AUTO_TEST_CASE(a_delay_too_long_for_the_clock_means_never) {
    bool fired = false;
    const auto timer = loop->call_later(std::chrono::hours::max(), [&] { fired = true; });
    BOOST_TEST((timer.when() == poetry::TimePoint::max()));
    drain();
    BOOST_TEST(!fired);
    BOOST_TEST((poetry::saturating_duration(std::chrono::duration<double>(1e300)) ==
                poetry::Clock::duration::max()));
    BOOST_TEST((poetry::saturating_duration(std::chrono::microseconds(3)) == std::chrono::microseconds(3)));
}

BOOST_AUTO_TEST_CASE(run_until_complete_fails_if_the_loop_stops_first) {
    Future<int> never(*loop);
    loop->call_soon([&] { loop->stop(); });
    BOOST_CHECK_THROW(loop->run_until_complete(never), std::runtime_error);
    // Its stop callback is gone: completing the future later does not stop the next run early.
    never.set_result(1);
    int runs = 0;
    loop->call_later(1ms, [&] { ++runs; });
    loop->call_later(2ms, [&] { loop->stop(); });
    loop->run_forever();
    BOOST_TEST(runs == 1);
}

// ---- then() and the shared value: continuations read it, only an rvalue takes it ----------------------

BOOST_AUTO_TEST_CASE(two_continuations_and_a_later_result_all_see_the_value) {
    Future<std::string> poem(*loop);
    Future<std::vector<int>> numbers(*loop);
    std::vector<std::string> seen;
    auto by_value = poem.then([&](std::string s) { seen.push_back(std::move(s)); });  // its own copy
    auto by_reference = poem.then([&](const std::string& s) { seen.push_back(s); });
    auto size = numbers.then([](std::vector<int> v) { return v.size(); });
    auto size_again = numbers.then([](std::vector<int> v) { return v.size(); });
    poem.set_result(long_poem);
    numbers.set_result(std::vector<int>(1000, 7));
    drain();
    BOOST_TEST(by_value.done());
    BOOST_TEST(by_reference.done());
    BOOST_TEST(seen == (std::vector<std::string>{long_poem, long_poem}), boost::test_tools::per_element());
    BOOST_TEST(poem.result() == long_poem);
    BOOST_TEST(size.result() == 1000U);
    BOOST_TEST(size_again.result() == 1000U);
    BOOST_TEST(numbers.result().size() == 1000U);
}

BOOST_AUTO_TEST_CASE(a_move_only_value_is_lent_to_continuations_and_stays_in_place) {
    Future<std::unique_ptr<int>> boxed(*loop);
    auto doubled = boxed.then([](const std::unique_ptr<int>& box) { return *box * 2; });
    auto tripled = boxed.then([](const std::unique_ptr<int>& box) { return *box * 3; });
    boxed.set_result(std::make_unique<int>(7));
    drain();
    BOOST_TEST(doubled.result() == 14);
    BOOST_TEST(tripled.result() == 21);
    BOOST_REQUIRE(boxed.result());
    BOOST_TEST(*boxed.result() == 7);
    // A continuation that keeps the value is refused on an lvalue: it needs the rvalue form.
    static_assert(!chainable<Future<std::unique_ptr<int>>&, KeepsTheBox>);
    static_assert(!chainable<const Future<std::unique_ptr<int>>&, KeepsTheBox>);
    static_assert(chainable<Future<std::unique_ptr<int>>, KeepsTheBox>);
}

BOOST_AUTO_TEST_CASE(the_rvalue_form_takes_the_value_and_any_copy_read_later_throws) {
    Future<std::string> poem(*loop);
    Future<std::string> poem_copy = poem;
    auto size = std::move(poem).then([](std::string s) { return s.size(); });
    Future<std::unique_ptr<int>> boxed(*loop);
    Future<std::unique_ptr<int>> boxed_copy = boxed;
    auto unboxed = std::move(boxed).then([](std::unique_ptr<int> box) { return box ? *box : -1; });
    poem_copy.set_result(long_poem);
    boxed_copy.set_result(std::make_unique<int>(42));
    drain();
    BOOST_TEST(size.result() == long_poem.size());
    BOOST_TEST(unboxed.result() == 42);
    // Succeeded, but the value is gone: an error, never a moved-from string or a null pointer.
    BOOST_TEST(poem_copy.done());
    BOOST_TEST(!poem_copy.exception());
    BOOST_CHECK_THROW(poem_copy.result(), InvalidStateError);
    BOOST_CHECK_THROW(static_cast<void>(poem_copy.take_result()), InvalidStateError);
    BOOST_CHECK_THROW(boxed_copy.result(), InvalidStateError);
}

BOOST_AUTO_TEST_CASE(continuations_before_a_take_see_the_value_and_those_after_fail_with_invalid_state) {
    Future<std::string> poem(*loop);
    auto before = poem.then([](const std::string& s) { return s; });
    auto taken = Future<std::string>(poem).then([](std::string s) { return s; });
    auto after = poem.then([](const std::string& s) { return s; });
    poem.set_result(long_poem);
    drain();
    BOOST_TEST(before.result() == long_poem);
    BOOST_TEST(taken.result() == long_poem);
    BOOST_CHECK_THROW(after.result(), InvalidStateError);
}

BOOST_AUTO_TEST_CASE(take_result_copies_unless_asked_to_move_or_the_value_is_move_only) {
    Future<std::string> poem(*loop);
    poem.set_result(long_poem);
    BOOST_TEST(poem.take_result() == long_poem);  // on an lvalue: a copy
    BOOST_TEST(poem.result() == long_poem);
    BOOST_TEST(Future<std::string>(poem).take_result() == long_poem);  // on an rvalue: taken
    BOOST_CHECK_THROW(poem.result(), InvalidStateError);

    Future<std::unique_ptr<int>> boxed(*loop);
    const Future<std::unique_ptr<int>> copy = boxed;
    boxed.set_result(std::make_unique<int>(1));
    const std::unique_ptr<int> value = boxed.take_result();  // cannot be copied: taken (as co_await does)
    BOOST_REQUIRE(value);
    BOOST_CHECK_THROW(copy.result(), InvalidStateError);
    BOOST_CHECK_THROW(static_cast<void>(copy.take_result()), InvalidStateError);
}

BOOST_AUTO_TEST_CASE(a_flattened_future_whose_value_was_taken_fails_the_chain_instead_of_passing_it_on) {
    Future<std::unique_ptr<int>> boxed(*loop);
    boxed.set_result(std::make_unique<int>(1));
    const std::unique_ptr<int> kept = boxed.take_result();
    Future<void> start(*loop);
    auto chained = start.then([&] { return boxed; });
    start.set_result();
    drain();
    BOOST_CHECK_THROW(static_cast<void>(chained.take_result()), InvalidStateError);
}

// ---- then() and cancellation: the returned future owns what it waits on ------------------------------

BOOST_AUTO_TEST_CASE(cancelling_a_chain_cancels_its_pending_source_and_so_removes_the_sources_reader) {
    auto [a, b] = poetry::net::socket_pair();
    bool destroyed = false;
    Future<std::string> chunk(*loop);
    chunk.set_producer(std::make_unique<ReaderOwner>(*loop, a.fd(), destroyed));
    bool ran = false;
    auto chain = chunk.then([&](const std::string&) { ran = true; });
    BOOST_TEST(loop->has_reader(a.fd()));
    BOOST_TEST(chain.cancel());
    BOOST_TEST(chunk.cancelled());
    BOOST_TEST(destroyed);
    BOOST_TEST(!loop->has_reader(a.fd()));
    drain();
    BOOST_TEST(chain.cancelled());
    BOOST_TEST(!ran);
}

BOOST_AUTO_TEST_CASE(a_chain_owns_its_source_until_it_is_done) {
    auto [a, b] = poetry::net::socket_pair();
    bool destroyed = false;
    poetry::WeakFuture<std::string> source;
    auto chain = [&] {
        Future<std::string> chunk(*loop);
        source = chunk.weak();
        chunk.set_producer(std::make_unique<ReaderOwner>(*loop, a.fd(), destroyed));
        return chunk.then([](const std::string& s) { return s.size(); });
    }();
    drain();
    BOOST_TEST(loop->has_reader(a.fd()));  // only the chain holds the source: its reader stays
    auto held = source.lock();
    BOOST_REQUIRE(held.has_value());
    held->set_result(long_poem);
    held.reset();
    drain();
    BOOST_TEST(chain.result() == long_poem.size());
    // Done: the chain let go of its source, so the source and its reader are gone; nothing cycles.
    BOOST_TEST(!source.lock().has_value());
    BOOST_TEST(destroyed);
    BOOST_TEST(!loop->has_reader(a.fd()));
}

BOOST_AUTO_TEST_CASE(dropping_a_pending_chain_lets_go_of_its_source_without_cancelling_it) {
    Future<int> source(*loop);
    bool destroyed = false;
    source.set_producer(std::make_unique<Tracker>(destroyed));
    bool ran = false;
    static_cast<void>(source.then([&](int) { ran = true; }));
    BOOST_TEST(!source.done());  // somebody else holds it: only let go of
    BOOST_TEST(!destroyed);
    source.set_result(1);
    drain();
    BOOST_TEST(!ran);  // nobody holds the chain: its continuation was abandoned with it

    bool only_source_destroyed = false;
    {
        auto chain = [&] {
            Future<int> only(*loop);
            only.set_producer(std::make_unique<Tracker>(only_source_destroyed));
            return only.then([](int n) { return n; });
        }();
        BOOST_TEST(!only_source_destroyed);
    }
    BOOST_TEST(only_source_destroyed);  // the chain held the last copy of its pending source
}

BOOST_AUTO_TEST_CASE(cancelling_a_chain_while_its_inner_future_is_pending_cancels_the_inner) {
    auto [a, b] = poetry::net::socket_pair();
    bool destroyed = false;
    poetry::WeakFuture<int> inner;
    Future<int> start(*loop);
    auto chain = start.then([&](int) {
        Future<int> read(*loop);  // only the chain holds it
        inner = read.weak();
        read.set_producer(std::make_unique<ReaderOwner>(*loop, a.fd(), destroyed));
        return read;
    });
    start.set_result(1);
    drain();
    BOOST_TEST(!chain.done());
    BOOST_TEST(loop->has_reader(a.fd()));
    BOOST_TEST(chain.cancel());
    BOOST_TEST(destroyed);
    BOOST_TEST(!loop->has_reader(a.fd()));
    BOOST_TEST(!start.cancelled());  // already done: nothing to cancel there
    BOOST_TEST(start.result() == 1);
    drain();
    BOOST_TEST(chain.cancelled());
    BOOST_TEST(!inner.lock().has_value());
}

BOOST_AUTO_TEST_CASE(cancellation_reaches_back_along_a_chain_of_thens) {
    Future<int> start(*loop);
    bool destroyed = false;
    start.set_producer(std::make_unique<Tracker>(destroyed));
    Future<int> inner(*loop);
    auto last = start.then([](int n) { return n + 1; }).then([&](int) { return inner; }).then([](int n) {
        return n * 2;
    });
    BOOST_TEST(last.cancel());
    BOOST_TEST(start.cancelled());
    BOOST_TEST(destroyed);
    drain();
    BOOST_TEST(!inner.done());  // never reached
}

BOOST_AUTO_TEST_CASE(cancelling_a_finished_chain_changes_nothing) {
    Future<int> start(*loop);
    Future<int> inner(*loop);
    auto chain = start.then([&](int n) {
        inner.set_result(n + 1);
        return inner;
    });
    start.set_result(1);
    drain();
    BOOST_TEST(chain.result() == 2);
    BOOST_TEST(!chain.cancel());
    drain();
    BOOST_TEST(!start.cancelled());
    BOOST_TEST(!inner.cancelled());
    BOOST_TEST(inner.result() == 2);
    BOOST_TEST(chain.result() == 2);
}

BOOST_AUTO_TEST_CASE(cancelling_one_of_two_chains_on_a_source_cancels_the_source_and_so_the_other) {
    Future<int> source(*loop);
    bool other_ran = false;
    auto first = source.then([](int n) { return n; });
    auto second = source.then([&](int) { other_ran = true; });
    BOOST_TEST(first.cancel());
    BOOST_TEST(source.cancelled());  // as asyncio's _chain_future: the source is cancelled for everyone
    drain();
    BOOST_TEST(second.cancelled());
    BOOST_TEST(!other_ran);
}

BOOST_AUTO_TEST_SUITE_END()
