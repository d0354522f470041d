// A timer its user owns (libuv's uv_timer_t, asio's steady_timer): armed, re-armed and cancelled with
// no allocation, because the loop's heap holds a pointer to it and the timer keeps its own place in
// that heap. For work that arms a timer all the time (a paced sender per client, a timeout re-armed
// per read): EventLoop::call_at allocates a handle and a callback per call; this allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "poetry/loop/handle.hpp"

namespace poetry {

class EventLoop;
class Timer;

namespace detail {

/// The loop's heap of armed Timers (earliest first, FIFO among equal deadlines), each timer knowing its
/// index so that cancelling or re-arming is O(log n) without searching. Due timers move to a list
/// that run_due() empties; a timer cancelled meanwhile leaves a hole there, so it never runs.
class TimerHeap {
public:
    TimerHeap() : self_(std::make_shared<TimerHeap*>(this)) {}
    TimerHeap(const TimerHeap&) = delete;
    TimerHeap& operator=(const TimerHeap&) = delete;
    /// Every Timer of this heap, armed or not, forgets it: using them later touches nothing.
    ~TimerHeap();

    /// A cell that points at this heap while it exists and holds null after: what each Timer keeps.
    [[nodiscard]] const std::shared_ptr<TimerHeap*>& self() const noexcept { return self_; }

    void arm(Timer& timer, TimePoint when);
    void cancel(Timer& timer) noexcept;

    [[nodiscard]] bool empty() const noexcept { return heap_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return heap_.size(); }
    /// The earliest deadline; only when !empty().
    [[nodiscard]] TimePoint earliest() const noexcept;
    /// Moves every timer due at `now` to the due list. @returns how many.
    std::size_t collect_due(TimePoint now);
    /// Runs the due list's callbacks in deadline order; `run` calls one (and handles its exceptions).
    template <class Run>
    void run_due(Run&& run);

private:
    [[nodiscard]] bool earlier(const Timer& a, const Timer& b) const noexcept;
    void place(Timer* timer, std::size_t index) noexcept;
    void sift_up(std::size_t index) noexcept;
    void sift_down(std::size_t index) noexcept;
    void remove_at(std::size_t index) noexcept;

    std::shared_ptr<TimerHeap*> self_;
    std::vector<Timer*> heap_;
    std::vector<Timer*> due_;  // popped in this pass, not run yet; a cancelled one is null
    std::uint64_t next_sequence_ = 0;
};

}  // namespace detail

class Timer {
public:
    /// A timer on `loop` that calls `callback` each time it expires. A callback that captures no more
    /// than a pointer or two is stored (and run) without allocating. It may re-arm, cancel or destroy
    /// its own timer. The timer must be destroyed before the loop's destructor returns, or after it
    /// (then it touches nothing).
    Timer(EventLoop& loop, Callback callback) noexcept;
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;
    Timer(Timer&&) = delete;
    Timer& operator=(Timer&&) = delete;
    ~Timer() { cancel(); }

    /// Expires at `when` (replacing an earlier deadline if armed), or in the loop's next pass if `when`
    /// has passed. The callback may arm the timer again. Only allocates when the heap has to grow.
    /// @throws std::logic_error if the loop is gone.
    void arm_at(TimePoint when);
    /// Expires `delay` from the loop's now (saturating: hours::max() never expires in practice).
    template <class Rep, class Period>
    void arm_after(std::chrono::duration<Rep, Period> delay) {
        arm_after_saturated(saturating_duration(delay));
    }
    /// Will not expire (if its callback is running now, it finishes). Idempotent.
    void cancel() noexcept;
    /// True from arm until the callback starts, or cancel().
    [[nodiscard]] bool armed() const noexcept { return state_ != State::idle; }
    [[nodiscard]] TimePoint when() const noexcept { return when_; }

private:
    friend class detail::TimerHeap;
    enum class State : std::uint8_t { idle, in_heap, due };

    void arm_after_saturated(Clock::duration delay);
    /// The loop's heap. @throws std::logic_error if the loop is gone.
    detail::TimerHeap& heap() const;

    EventLoop& loop_;
    std::shared_ptr<detail::TimerHeap*> heap_;  // *heap_ is null once the loop is gone
    Callback callback_;
    TimePoint when_{};
    std::uint64_t sequence_ = 0;
    std::size_t index_ = 0;  // in the heap (in_heap) or the due list (due)
    State state_ = State::idle;
};

namespace detail {

template <class Run>
void TimerHeap::run_due(Run&& run) {
    // Indices, not iterators: a callback may arm timers (never growing due_, which only collect_due
    // does) or cancel due ones (which nulls their slot).
    for (std::size_t i = 0; i < due_.size(); ++i) {
        Timer* timer = due_[i];
        if (timer == nullptr) {
            continue;
        }
        due_[i] = nullptr;
        timer->state_ = Timer::State::idle;
        // A copy runs, so that the callback may destroy its own timer (a session that ends itself). A
        // callback small enough to be stored without allocating is copied without allocating too.
        const Callback callback = timer->callback_;
        run(callback);
    }
    due_.clear();
}

}  // namespace detail
}  // namespace poetry
