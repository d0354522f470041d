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

template <class T>
class WaitForAwaiter {
public:
    WaitForAwaiter(Future<T> future, Clock::duration timeout) noexcept
        : future_(std::move(future)), timeout_(timeout) {}
    WaitForAwaiter(const WaitForAwaiter&) = delete;
    WaitForAwaiter& operator=(const WaitForAwaiter&) = delete;
    ~WaitForAwaiter() {
        timer_.cancel();
        if (callback_id_ != 0) {
            future_.remove_done_callback(callback_id_);
        }
    }

    bool await_ready() const noexcept { return future_.done(); }
    void await_suspend(std::coroutine_handle<> awaiting) {
        // Whichever comes first resumes the waiter and disarms the other, so it resumes once.
        callback_id_ = future_.add_done_callback([this, awaiting](Future<T>&) {
            callback_id_ = 0;
            timer_.cancel();
            awaiting.resume();
        });
        timer_ = future_.loop().call_later(timeout_, [this, awaiting] {
            timed_out_ = true;
            future_.remove_done_callback(callback_id_);
            callback_id_ = 0;
            awaiting.resume();
        });
    }
    T await_resume() {
        if (timed_out_) {
            future_.cancel();
            char message[64];
            std::snprintf(message, sizeof(message), "no result within %.2f s",
                          std::chrono::duration<double>(timeout_).count());
            throw std::system_error(std::make_error_code(std::errc::timed_out), message);
        }
        return future_.take_result();
    }

private:
    Future<T> future_;
    Clock::duration timeout_;
    TimerHandle timer_;
    std::uint64_t callback_id_ = 0;
    bool timed_out_ = false;
};

/// Waits at most `timeout` for `future`; on time-out cancels it and throws (errc::timed_out).
template <class T, class Rep, class Period>
WaitForAwaiter<T> wait_for(Future<T> future, std::chrono::duration<Rep, Period> timeout) noexcept {
    return WaitForAwaiter<T>(std::move(future), std::chrono::ceil<Clock::duration>(timeout));
}

/// Runs `task` with a deadline: on time-out the task is destroyed where it waits and the waiter gets
/// std::system_error(errc::timed_out).
template <class T, class Rep, class Period>
Task<T> wait_for(EventLoop& loop, Task<T> task, std::chrono::duration<Rep, Period> timeout) {
    co_return co_await wait_for(create_task(loop, std::move(task)), timeout);
}

}  // namespace poetry
