// Running a Task on an EventLoop: create_task hands back a Future that owns the task's coroutine
// (asyncio's Task is a Future), and co_await works on any Future.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "poetry/coro/task.hpp"
#include "poetry/loop/event_loop.hpp"
#include "poetry/loop/future.hpp"

namespace poetry {
namespace detail {

/// The coroutine that drives a task for create_task: it frees itself when it ends.
struct DetachedCoroutine {
    struct promise_type {
        DetachedCoroutine get_return_object() noexcept {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_never final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        // drive() catches everything the task throws; only a failing set_exception could get here.
        void unhandled_exception() const noexcept { std::terminate(); }
        [[nodiscard]] TaskRoot* root() const noexcept { return root_; }

        TaskRoot* root_ = nullptr;
    };
    std::coroutine_handle<promise_type> handle;
};

/// Holds a task's chain on behalf of its Future; letting go of it abandons the chain. A future may
/// outlive its loop: then the chain is abandoned when the loop goes, while its awaitables can still
/// unregister from the loop, and destroying the future later touches nothing of the loop.
class TaskOwner final : public FutureProducer {
public:
    TaskOwner(EventLoop& loop, std::shared_ptr<TaskRoot> chain)
        : loop_(&loop), root_(std::move(chain)), at_destruction_(loop.at_destruction([this] {
              loop_ = nullptr;
              root_->abandon();
          })) {}
    TaskOwner(const TaskOwner&) = delete;
    TaskOwner& operator=(const TaskOwner&) = delete;
    ~TaskOwner() override {
        if (loop_ != nullptr) {
            loop_->cancel_at_destruction(at_destruction_);
        }
        root_->abandon();
    }

private:
    EventLoop* loop_;  // null once the loop is gone
    std::shared_ptr<TaskRoot> root_;
    std::uint64_t at_destruction_;
};

// Invariant: while this coroutine exists, `root` exists (the future's TaskOwner, or a resume in
// progress, holds it).
template <class T>
DetachedCoroutine drive(Task<T> task, WeakFuture<T> target, TaskRoot* root) {
    std::exception_ptr error;
    if constexpr (std::is_void_v<T>) {
        try {
            co_await std::move(task);
        } catch (...) {
            error = std::current_exception();
        }
        if (auto future = target.lock(); future && !future->done()) {
            error ? future->set_exception(error) : future->set_result();
        }
    } else {
        std::optional<T> value;
        try {
            value.emplace(co_await std::move(task));
        } catch (...) {
            error = std::current_exception();
        }
        if (auto future = target.lock(); future && !future->done()) {
            error ? future->set_exception(error) : future->set_result(std::move(*value));
        }
    }
    root->frame = nullptr;  // ending by itself: the frame frees itself, nobody else may
}

}  // namespace detail

/// Schedules `task` to start on the loop's next iteration and returns the Future of its result.
/// The future owns the task: cancel() or dropping every copy of the future destroys it (cleanly).
template <class T>
[[nodiscard]] Future<T> create_task(EventLoop& loop, Task<T> task) {
    Future<T> future(loop);
    auto root = std::make_shared<detail::TaskRoot>();
    const auto coroutine = detail::drive(std::move(task), future.weak(), root.get());
    coroutine.handle.promise().root_ = root.get();
    root->frame = coroutine.handle;
    future.set_producer(std::make_unique<detail::TaskOwner>(loop, root));
    loop.call_soon([start = detail::Resumer(coroutine.handle), weak = future.weak()] {
        // Skipped if the future was cancelled or dropped before the start: the coroutine is gone then.
        if (auto started = weak.lock(); started && !started->done()) {
            start();
        }
    });
    return future;
}

/// Starts `task` on the loop and lets it run on its own ("fire and forget"): the loop keeps it until it
/// ends, or destroys it (cleanly) if the loop goes first. An exception it ends with goes to the loop's
/// exception handler, as nobody awaits it.
inline void spawn(EventLoop& loop, Task<void> task) {
    Future<void> future = create_task(loop, std::move(task));
    const std::uint64_t kept = loop.keep_alive(std::make_shared<Future<void>>(future));
    future.add_done_callback([&loop, kept](Future<void>& done) {
        loop.release(kept);
        if (auto error = done.exception(); error && !done.cancelled()) {
            loop.call_exception_handler({"exception in spawned task", error});
        }
    });
}

/// Runs `task` on `loop` until it ends; returns its value or throws its exception.
template <class T>
T run(EventLoop& loop, Task<T> task) {
    return loop.run_until_complete(create_task(loop, std::move(task)));
}

/// Awaits a Future from a coroutine. If the coroutine is destroyed while waiting, the done-callback
/// is removed, so nothing resumes a destroyed frame.
template <class T>
class FutureAwaiter {
public:
    explicit FutureAwaiter(Future<T> future) noexcept : future_(std::move(future)) {}
    FutureAwaiter(const FutureAwaiter&) = delete;
    FutureAwaiter& operator=(const FutureAwaiter&) = delete;
    ~FutureAwaiter() { stop_waiting(); }

    bool await_ready() const noexcept { return future_.done(); }
    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> awaiting) {
        callback_id_ = future_.add_done_callback([this, resume = detail::Resumer(awaiting)](Future<T>&) {
            callback_id_ = 0;
            resume();
        });
    }
    /// The value, as Future::take_result() gives it.
    T await_resume() const { return future_.take_result(); }

protected:
    /// The future will not resume the waiter any more (for waiters that also wake up otherwise).
    void stop_waiting() noexcept {
        if (callback_id_ != 0) {
            future_.remove_done_callback(std::exchange(callback_id_, 0));
        }
    }
    Future<T>& future() noexcept { return future_; }

private:
    Future<T> future_;
    std::uint64_t callback_id_ = 0;
};

template <class T>
FutureAwaiter<T> operator co_await(Future<T> future) noexcept {
    return FutureAwaiter<T>(std::move(future));
}

}  // namespace poetry
