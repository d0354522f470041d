#include "poetry/loop/timer.hpp"

#include <stdexcept>
#include <utility>

#include "poetry/loop/event_loop.hpp"

namespace poetry {
namespace detail {

TimerHeap::~TimerHeap() {
    *self_ = nullptr;  // every Timer, armed or idle, sees the loop gone
    for (Timer* timer : heap_) {
        timer->state_ = Timer::State::idle;
    }
    for (Timer* timer : due_) {
        if (timer != nullptr) {
            timer->state_ = Timer::State::idle;
        }
    }
}

bool TimerHeap::earlier(const Timer& a, const Timer& b) const noexcept {
    return a.when_ != b.when_ ? a.when_ < b.when_ : a.sequence_ < b.sequence_;
}

void TimerHeap::place(Timer* timer, std::size_t index) noexcept {
    heap_[index] = timer;
    timer->index_ = index;
}

void TimerHeap::sift_up(std::size_t index) noexcept {
    Timer* moving = heap_[index];
    while (index > 0) {
        const std::size_t parent = (index - 1) / 2;
        if (!earlier(*moving, *heap_[parent])) {
            break;
        }
        place(heap_[parent], index);
        index = parent;
    }
    place(moving, index);
}

void TimerHeap::sift_down(std::size_t index) noexcept {
    Timer* moving = heap_[index];
    const std::size_t count = heap_.size();
    for (;;) {
        std::size_t child = 2 * index + 1;
        if (child >= count) {
            break;
        }
        if (child + 1 < count && earlier(*heap_[child + 1], *heap_[child])) {
            ++child;
        }
        if (!earlier(*heap_[child], *moving)) {
            break;
        }
        place(heap_[child], index);
        index = child;
    }
    place(moving, index);
}

void TimerHeap::remove_at(std::size_t index) noexcept {
    Timer* last = heap_.back();
    heap_.pop_back();
    if (index == heap_.size()) {
        return;
    }
    place(last, index);
    sift_down(index);
    sift_up(last->index_);
}

void TimerHeap::arm(Timer& timer, TimePoint when) {
    if (timer.state_ == Timer::State::due) {
        due_[timer.index_] = nullptr;
        timer.state_ = Timer::State::idle;
    }
    timer.when_ = when;
    timer.sequence_ = next_sequence_++;
    if (timer.state_ == Timer::State::in_heap) {
        // Re-armed in place: a later deadline sinks, an earlier one rises.
        sift_down(timer.index_);
        sift_up(timer.index_);
        return;
    }
    heap_.push_back(&timer);  // the only allocation, when the heap grows
    timer.state_ = Timer::State::in_heap;
    timer.index_ = heap_.size() - 1;
    sift_up(timer.index_);
}

void TimerHeap::cancel(Timer& timer) noexcept {
    if (timer.state_ == Timer::State::in_heap) {
        remove_at(timer.index_);
    } else if (timer.state_ == Timer::State::due) {
        due_[timer.index_] = nullptr;
    }
    timer.state_ = Timer::State::idle;
}

TimePoint TimerHeap::earliest() const noexcept {
    return heap_.front()->when_;
}

std::size_t TimerHeap::collect_due(TimePoint now) {
    const std::size_t before = due_.size();
    while (!heap_.empty() && heap_.front()->when_ <= now) {
        Timer* timer = heap_.front();
        remove_at(0);
        timer->state_ = Timer::State::due;
        timer->index_ = due_.size();
        due_.push_back(timer);
    }
    return due_.size() - before;
}

}  // namespace detail

Timer::Timer(EventLoop& loop, Callback callback) noexcept
    : loop_(loop), heap_(loop.timer_heap().self()), callback_(std::move(callback)) {}

detail::TimerHeap& Timer::heap() const {
    if (*heap_ == nullptr) {
        throw std::logic_error("Timer armed after its event loop was destroyed");
    }
    return **heap_;
}

void Timer::arm_at(TimePoint when) {
    heap().arm(*this, when);
}

void Timer::arm_after_saturated(Clock::duration delay) {
    detail::TimerHeap& timers = heap();  // first: the loop's clock is gone with the loop
    timers.arm(*this, deadline_after(loop_.time(), delay));
}

void Timer::cancel() noexcept {
    if (*heap_ != nullptr) {
        (*heap_)->cancel(*this);
    }
}

}  // namespace poetry
