// Handles to callbacks scheduled on an EventLoop (asyncio's Handle and TimerHandle): the only way to
// cancel a callback that has not run yet.
#pragma once

#include <functional>
#include <memory>

#include "poetry/loop/clock.hpp"

namespace poetry {

class EventLoop;

using Callback = std::function<void()>;

namespace detail {

/// Shared by the loop (which runs it) and the Handles given out (which cancel it).
struct HandleState {
    explicit HandleState(Callback cb) : callback(std::move(cb)) {}

    Callback callback;
    bool cancelled = false;
    // Timers only: the deadline, and the loop whose timer heap holds this handle (null once it has
    // left the heap or the loop is gone). cancel() tells that loop, which counts cancelled timers
    // so that it can drop them from the heap before they pile up.
    TimePoint when{};
    EventLoop* timer_loop = nullptr;
};

}  // namespace detail

/// A callback scheduled with call_soon, or added as a reader or writer. Copies refer to the same
/// callback. An empty (default) Handle refers to nothing; cancel() on it does nothing.
class Handle {
public:
    Handle() noexcept = default;

    /// The callback will not run (if it is running now, it finishes). Idempotent.
    void cancel() noexcept;
    [[nodiscard]] bool cancelled() const noexcept { return state_ && state_->cancelled; }
    explicit operator bool() const noexcept { return state_ != nullptr; }

protected:
    friend class EventLoop;
    explicit Handle(std::shared_ptr<detail::HandleState> state) noexcept : state_(std::move(state)) {}

    std::shared_ptr<detail::HandleState> state_;
};

/// A callback scheduled with call_later or call_at.
class TimerHandle : public Handle {
public:
    TimerHandle() noexcept = default;
    [[nodiscard]] TimePoint when() const noexcept { return state_ ? state_->when : TimePoint{}; }

private:
    friend class EventLoop;
    using Handle::Handle;
};

}  // namespace poetry
