// Future<T> (asyncio's Future): a result or an exception that arrives later, on one loop.
// Copies share one state, so one value: reading it never moves it; only an explicit take does (see
// take_result). Done-callbacks always run through loop.call_soon, never inline, and each runs exactly
// once. then() chains futures, for code written in continuation-passing style; the future it returns
// owns what it waits on, so cancelling it reaches back along the chain.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "poetry/loop/event_loop.hpp"

namespace poetry {

/// The exception of a cancelled future.
class CancelledError : public std::runtime_error {
public:
    CancelledError() : std::runtime_error("operation cancelled") {}
};

/// Misuse of a future: a second result, or result() before it is done.
class InvalidStateError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

/// Work that a future owns because that work will complete it (for example the coroutine of a task, or
/// for then() the future it waits on). Destroying it abandons the work cleanly: the future destroys it
/// on cancel() and when its last copy goes away while still pending.
class FutureProducer {
public:
    virtual ~FutureProducer() = default;
    /// The future is being cancelled; the producer is destroyed right after. Only for work that must
    /// pass the cancellation on rather than merely be abandoned (then() cancels the future it waits
    /// on): destruction alone cannot tell a cancel from the last copy going away.
    virtual void on_cancel() {}
};

template <class T>
class Future;
template <class T>
class WeakFuture;

namespace detail {

template <class T>
struct FutureState {
    using Value = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
    enum class Status { pending, finished, cancelled };
    struct DoneCallback {
        std::uint64_t id;
        std::function<void(Future<T>&)> function;
    };

    explicit FutureState(EventLoop& event_loop) : loop(&event_loop) {}

    EventLoop* loop;
    Status status = Status::pending;
    std::optional<Value> value;  // empty while pending, and again once taken (Future::take_result)
    std::exception_ptr exception;
    std::vector<DoneCallback> callbacks;
    std::uint64_t next_callback_id = 1;
    // Declared last so that it is destroyed first: the work it owns may still look at the rest.
    std::unique_ptr<FutureProducer> producer;
};

// What then() makes of a continuation's return type R: Future<U> is flattened to U.
template <class R>
struct ContinuationValue {
    using type = R;
    static constexpr bool is_future = false;
};
template <class U>
struct ContinuationValue<Future<U>> {
    using type = U;
    static constexpr bool is_future = true;
};

// What then() passes its continuation: the value lent (const T&), or taken (T&&) by the rvalue form.
template <class T, bool Takes>
using ContinuationArgument = std::conditional_t<Takes, T&&, const T&>;

template <class F, class T, bool Takes>
concept ContinuationOf = (std::is_void_v<T> && std::invocable<F&>) ||
                         (!std::is_void_v<T> && std::invocable<F&, ContinuationArgument<T, Takes>>);

template <class F, class T, bool Takes>
struct ContinuationResult {
    using type = std::invoke_result_t<F&, ContinuationArgument<T, Takes>>;
};
template <class F, bool Takes>
struct ContinuationResult<F, void, Takes> {
    using type = std::invoke_result_t<F&>;
};

template <bool Takes, class T, class F>
auto chain(Future<T> source, F f);

}  // namespace detail

template <class T>
class Future {
public:
    using value_type = T;
    using DoneCallback = std::function<void(Future&)>;

    /// A pending future whose callbacks run on `loop`. A copy may outlive the loop, to be read or
    /// destroyed: done(), cancelled(), result(), exception(), take_result(), remove_done_callback() and
    /// the destructor touch only the shared state; the last copy destroys its producer and its
    /// callbacks, which never run. The library's producers allow that (create_task's task went with
    /// the loop, then()'s source and resolve()'s lookup ask nothing of it); a producer of your own must
    /// not touch the loop once it is gone (EventLoop::at_destruction says when). What schedules a
    /// callback needs the loop, so it is not supported then: set_result, set_exception, cancel,
    /// add_done_callback, then, and loop().
    explicit Future(EventLoop& loop) : state_(std::make_shared<detail::FutureState<T>>(loop)) {}

    [[nodiscard]] EventLoop& loop() const noexcept { return *state_->loop; }
    [[nodiscard]] bool done() const noexcept { return state_->status != State::Status::pending; }
    [[nodiscard]] bool cancelled() const noexcept { return state_->status == State::Status::cancelled; }

    /// @throws InvalidStateError if already done.
    template <class U = T>
    requires(!std::is_void_v<T> && std::is_constructible_v<T, U&&>) void set_result(U&& value) {
        check_pending("set_result");
        state_->value.emplace(std::forward<U>(value));
        finish(State::Status::finished);
    }
    void set_result() requires std::is_void_v<T> {
        check_pending("set_result");
        state_->value.emplace();
        finish(State::Status::finished);
    }
    /// @throws InvalidStateError if already done.
    void set_exception(std::exception_ptr exception) {
        check_pending("set_exception");
        state_->exception = std::move(exception);
        finish(State::Status::finished);
    }
    /// Cancels a pending future: its producer (if any) is told (FutureProducer::on_cancel) and destroyed,
    /// and the future completes with CancelledError. @returns false if it was already done.
    bool cancel() {
        if (done()) {
            return false;
        }
        // Taken out of the state first, so that nothing it does can reach it again through this future.
        if (auto producer = std::move(state_->producer)) {
            producer->on_cancel();
        }
        // Destroying the producer may have completed this future (never, for a well-behaved producer).
        if (done()) {
            return false;
        }
        state_->exception = std::make_exception_ptr(CancelledError());
        finish(State::Status::cancelled);
        return true;
    }

    /// The value, read-only: a reference into the state that every copy shares (void for Future<void>).
    /// @throws the stored exception, CancelledError; InvalidStateError if not done or the value was taken.
    decltype(auto) result() const {
        const auto& value = checked_value("result()");
        if constexpr (std::is_void_v<T>) {
            return;
        } else {
            return static_cast<const T&>(value);
        }
    }
    /// result() by value. On an lvalue, a copy; but a move-only value, which cannot be copied, is taken
    /// (co_await and run_until_complete read futures this way). On an rvalue,
    /// std::move(future).take_result(), the value is always taken, without a copy. Taking moves the value
    /// out of the shared state and leaves none behind: afterwards result(), take_result() and then()
    /// continuations fail with InvalidStateError on every copy, never showing a moved-from value.
    /// Same exceptions as result(). The future itself stays valid either way.
    T take_result() const& {
        if constexpr (std::is_void_v<T>) {
            result();
        } else if constexpr (std::is_copy_constructible_v<T>) {
            return result();
        } else {
            return take_value();
        }
    }
    T take_result() && {
        if constexpr (std::is_void_v<T>) {
            result();
        } else {
            return take_value();
        }
    }
    /// The stored exception (CancelledError if cancelled), or null. @throws InvalidStateError if not done.
    [[nodiscard]] std::exception_ptr exception() const {
        if (!done()) {
            throw InvalidStateError("exception() of a future that is not done");
        }
        return state_->exception;
    }

    /// Runs `callback(future)` through loop.call_soon once the future is done (soon, if it is already).
    /// @returns an id for remove_done_callback.
    std::uint64_t add_done_callback(DoneCallback callback) {
        const std::uint64_t id = state_->next_callback_id++;
        state_->callbacks.push_back({id, std::move(callback)});
        if (done()) {
            schedule(id);
        }
        return id;
    }
    /// The callback will not run, even if it is already scheduled. @returns false if it is unknown or ran.
    bool remove_done_callback(std::uint64_t id) {
        auto& callbacks = state_->callbacks;
        const auto it =
            std::find_if(callbacks.begin(), callbacks.end(), [id](auto& c) { return c.id == id; });
        if (it == callbacks.end()) {
            return false;
        }
        callbacks.erase(it);
        return true;
    }

    /// Chains `f` after this future: f runs when this future succeeds, and what it returns, or the outcome
    /// of the Future<U> it returns (flattened: the returned future is then a Future<U>), completes the
    /// returned future. An exception (here or thrown by f) or a cancellation skips f and passes on.
    ///
    /// The value. This form lends it, f(const T&) (f() for void): any number of continuations and later
    /// result() calls all see it, and a move-only value can be looked at but not kept (a continuation
    /// that takes it by value does not compile here). std::move(future).then(f) takes it, f(T&&), as
    /// std::move(future).take_result() does: the way to hand a move-only value, or a large one without a
    /// copy, to a continuation. Continuations run in the order they were added, so those added after a
    /// take fail with InvalidStateError. A flattened future's value passes on as take_result() gives it.
    ///
    /// Ownership. The returned future owns what it waits on: this future until it is done, then the
    /// future f returned, if any; these refer back to it only weakly, so nothing cycles.
    /// - cancel() on it cancels what it waits on, whose producer (a reader, a timer, a task) is
    ///   destroyed, as asyncio's _chain_future does. This future is cancelled for everyone: its other
    ///   continuations see CancelledError too. To keep a shared future out of it, chain on a future that
    ///   a done-callback of the shared one completes (asyncio's shield).
    /// - Dropping every copy of it while pending abandons the chain: f never runs, and what it waits on is
    ///   let go of, not cancelled (destroyed with its producer if nothing else holds it). For a callback
    ///   that must run whoever looks, use add_done_callback.
    /// - Once done, it lets go of what it waited on; cancel() then does nothing.
    template <class F>
    requires detail::ContinuationOf<F, T, false>
    [[nodiscard("the returned future owns the chain: dropping it abandons the continuation")]] auto then(
        F f) const& {
        return detail::chain<false>(*this, std::move(f));
    }
    /// then() that takes the value (see above). The future itself stays valid, as a copy is chained.
    template <class F>
    requires detail::ContinuationOf<F, T, true>
    [[nodiscard("the returned future owns the chain: dropping it abandons the continuation")]] auto then(
        F f) && {
        return detail::chain<true>(*this, std::move(f));
    }

    /// Hands work to the future; see FutureProducer.
    void set_producer(std::unique_ptr<FutureProducer> producer) { state_->producer = std::move(producer); }

    [[nodiscard]] WeakFuture<T> weak() const noexcept { return WeakFuture<T>(state_); }

    friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_ == b.state_; }

private:
    using State = detail::FutureState<T>;
    friend class WeakFuture<T>;
    explicit Future(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}

    void check_pending(const char* operation) const {
        if (done()) {
            throw InvalidStateError(std::string(operation) + " on a future that is already done");
        }
    }
    const typename State::Value& checked_value(const char* operation) const {
        if (!done()) {
            throw InvalidStateError(std::string(operation) + " of a future that is not done");
        }
        if (state_->exception) {
            std::rethrow_exception(state_->exception);
        }
        if (!state_->value) {
            throw InvalidStateError(std::string(operation) + " of a future whose value was taken");
        }
        return *state_->value;
    }
    // Leaves no moved-from value behind: an empty optional makes every later read an error.
    T take_value() const requires(!std::is_void_v<T>) {
        checked_value("take_result()");
        T value = std::move(*state_->value);
        state_->value.reset();
        return value;
    }
    void finish(typename State::Status status) {
        state_->status = status;
        for (const auto& callback : state_->callbacks) {
            schedule(callback.id);
        }
    }
    // The scheduled call looks the callback up again, so that remove_done_callback still works
    // between scheduling and running, and takes it out before calling it, so that it runs once.
    void schedule(std::uint64_t id) {
        state_->loop->call_soon([state = state_, id] {
            auto& callbacks = state->callbacks;
            const auto it =
                std::find_if(callbacks.begin(), callbacks.end(), [id](auto& c) { return c.id == id; });
            if (it == callbacks.end()) {
                return;
            }
            auto function = std::move(it->function);
            callbacks.erase(it);
            Future future(state);
            function(future);
        });
    }

    std::shared_ptr<State> state_;
};

/// A reference to a future that does not keep it alive: for work owned by the future it completes.
template <class T>
class WeakFuture {
public:
    WeakFuture() noexcept = default;
    [[nodiscard]] std::optional<Future<T>> lock() const {
        if (auto state = state_.lock()) {
            return Future<T>(std::move(state));
        }
        return std::nullopt;
    }

private:
    friend class Future<T>;
    explicit WeakFuture(std::weak_ptr<detail::FutureState<T>> state) noexcept : state_(std::move(state)) {}
    std::weak_ptr<detail::FutureState<T>> state_;
};

namespace detail {

/// What a then() future waits on, owned by it. Cancelling the then() future cancels this one;
/// destroying it (the then() future dropped, or moving on) only lets go of it.
template <class S>
class Awaited final : public FutureProducer {
public:
    explicit Awaited(Future<S> awaited) noexcept : awaited_(std::move(awaited)) {}
    void on_cancel() override { awaited_.cancel(); }

private:
    Future<S> awaited_;
};

/// Completes the pending `target` the way `source` completed (value, exception or cancellation).
template <class T>
void copy_outcome(Future<T>& source, Future<T>& target) {
    if (source.cancelled()) {
        target.cancel();
    } else if (auto error = source.exception()) {
        target.set_exception(error);
    } else if constexpr (std::is_void_v<T>) {
        target.set_result();
    } else {
        try {
            target.set_result(source.take_result());
        } catch (...) {  // its value was taken already, or copying it failed: the target must not hang
            target.set_exception(std::current_exception());
        }
    }
}

// Why the taking form always takes, rather than only when no other copy could see the value: whether
// one could is not visible where then() is written. Chains, producers and WeakFutures hold copies, and
// other done-callbacks read the value later, so a take that happened only sometimes would let unrelated
// code decide whether a continuation moves or copies, and whether another reader sees the value. Always
// taking is decided by the call alone, and a reader that comes too late fails loudly, with
// InvalidStateError, as a second std::future::get() does.
template <bool Takes, class T, class F>
auto chain(Future<T> source, F f) {
    using Returned = typename ContinuationResult<F, T, Takes>::type;
    constexpr bool returns_future = ContinuationValue<Returned>::is_future;
    using U = typename ContinuationValue<Returned>::type;

    Future<U> next(source.loop());
    next.set_producer(std::make_unique<Awaited<T>>(source));
    // Weak: the source must not keep `next` (and so, through its producer, itself) alive.
    source.add_done_callback([weak = next.weak(), f = std::move(f)](Future<T>& self) mutable {
        auto pending = weak.lock();
        if (!pending || pending->done()) {
            return;  // dropped (nobody wants f's result) or cancelled: f does not run
        }
        Future<U>& target = *pending;
        target.set_producer(nullptr);  // the source is done: nothing left to cancel there
        if (self.cancelled()) {
            target.cancel();
            return;
        }
        if (auto error = self.exception()) {
            target.set_exception(error);
            return;
        }
        try {
            auto call = [&]() -> Returned {
                if constexpr (std::is_void_v<T>) {
                    return f();
                } else if constexpr (Takes) {
                    return f(std::move(self).take_result());
                } else {
                    return f(self.result());
                }
            };
            if constexpr (returns_future) {
                Returned inner = call();
                inner.add_done_callback([weak](Returned& done) {
                    if (auto waiting = weak.lock(); waiting && !waiting->done()) {
                        waiting->set_producer(nullptr);  // done with the inner future: let go of it
                        copy_outcome(done, *waiting);
                    }
                });
                target.set_producer(std::make_unique<Awaited<U>>(std::move(inner)));
            } else if constexpr (std::is_void_v<Returned>) {
                call();
                target.set_result();
            } else {
                target.set_result(call());
            }
        } catch (...) {
            target.set_exception(std::current_exception());
        }
    });
    return next;
}

}  // namespace detail

}  // namespace poetry
