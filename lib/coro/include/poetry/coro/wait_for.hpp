// wait_for: a deadline on any task or future. On time-out the waited-for work is cancelled (its
// coroutine destroyed, so its sockets close and its readers and timers go) and the waiter gets
// std::system_error with std::errc::timed_out.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdio>
#include <string>
#include <system_error>

#include "poetry/coro/create_task.hpp"
#include "poetry/coro/task.hpp"

namespace poetry {

/// A FutureAwaiter that also wakes when its timer fires first; then it cancels the future and throws.
template <class T>
class WaitForAwaiter : public FutureAwaiter<T> {
public:
    WaitForAwaiter(Future<T> future, Clock::duration timeout) noexcept
        : FutureAwaiter<T>(std::move(future)), timeout_(timeout) {}
    ~WaitForAwaiter() { timer_.cancel(); }

    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> awaiting) {
        FutureAwaiter<T>::await_suspend(awaiting);
        timer_ = this->future().loop().call_later(timeout_, [this, resume = detail::Resumer(awaiting)] {
            timed_out_ = true;
            this->stop_waiting();
            resume();
        });
    }
    T await_resume() {
        timer_.cancel();  // woken by the future: the timer must not fire any more
        // A result that arrived in the same loop iteration as the deadline is kept, not thrown away.
        if (timed_out_ && !this->future().done()) {
            this->future().cancel();
            char message[64];
            std::snprintf(message, sizeof(message), "no result within %.2f s",
                          std::chrono::duration<double>(timeout_).count());
            throw std::system_error(std::make_error_code(std::errc::timed_out), message);
        }
        return FutureAwaiter<T>::await_resume();
    }

private:
    Clock::duration timeout_;
    TimerHandle timer_;
    bool timed_out_ = false;
};

/// Waits at most `timeout` for `future`; on time-out cancels it and throws (errc::timed_out).
template <class T, class Rep, class Period>
WaitForAwaiter<T> wait_for(Future<T> future, std::chrono::duration<Rep, Period> timeout) noexcept {
    return WaitForAwaiter<T>(std::move(future), saturating_duration(timeout));
}

/// Runs `task` with a deadline: on time-out the task is destroyed where it waits and the waiter gets
/// std::system_error(errc::timed_out).
template <class T, class Rep, class Period>
Task<T> wait_for(EventLoop& loop, Task<T> task, std::chrono::duration<Rep, Period> timeout) {
    co_return co_await wait_for(create_task(loop, std::move(task)), timeout);
}

}  // namespace poetry
