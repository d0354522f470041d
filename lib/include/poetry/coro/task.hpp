// Task<T>: a lazy C++20 coroutine (libcoro/cppcoro task.hpp). It starts when awaited, resumes its
// awaiter by symmetric transfer when it ends (so deep chains of awaits use no stack), passes its
// value or exception to the awaiter, and destroys its frame in its destructor, so destroying a
// suspended task abandons it cleanly: its awaitables remove their readers and timers as they go.
#pragma once

#include <coroutine>
#include <exception>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace poetry {

template <class T = void>
class [[nodiscard]] Task;

namespace detail {

class TaskPromiseBase {
public:
    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) const noexcept {
            const auto next = self.promise().continuation_;
            return next ? next : std::noop_coroutine();
        }
        void await_resume() const noexcept {}
    };

    std::suspend_always initial_suspend() const noexcept { return {}; }
    FinalAwaiter final_suspend() const noexcept { return {}; }
    void set_continuation(std::coroutine_handle<> continuation) noexcept { continuation_ = continuation; }

private:
    std::coroutine_handle<> continuation_;
};

template <class T>
class TaskPromise final : public TaskPromiseBase {
public:
    Task<T> get_return_object() noexcept;

    template <class U = T>
    requires std::is_convertible_v<U&&, T>
    void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        result_.template emplace<1>(std::forward<U>(value));
    }
    void unhandled_exception() noexcept { result_.template emplace<2>(std::current_exception()); }

    T take_result() {
        if (result_.index() == 2) {
            std::rethrow_exception(std::get<2>(result_));
        }
        return std::move(std::get<1>(result_));
    }

private:
    std::variant<std::monostate, T, std::exception_ptr> result_;
};

template <>
class TaskPromise<void> final : public TaskPromiseBase {
public:
    Task<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void unhandled_exception() noexcept { exception_ = std::current_exception(); }
    void take_result() const {
        if (exception_) {
            std::rethrow_exception(exception_);
        }
    }

private:
    std::exception_ptr exception_;
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
public:
    using promise_type = detail::TaskPromise<T>;
    using value_type = T;

    Task() noexcept = default;
    Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    ~Task() { destroy(); }

    /// False for a moved-from or default task, which cannot be awaited.
    explicit operator bool() const noexcept { return static_cast<bool>(handle_); }
    [[nodiscard]] bool done() const noexcept { return handle_ && handle_.done(); }

    /// Starts the task (or takes its result if it already ended); the awaiter resumes when it ends.
    /// @throws what the task threw; std::logic_error ("broken promise") for an empty task.
    auto operator co_await() && noexcept { return Awaiter{handle_}; }
    auto operator co_await() & noexcept { return Awaiter{handle_}; }

private:
    friend class detail::TaskPromise<T>;
    using Handle = std::coroutine_handle<promise_type>;

    struct Awaiter {
        Handle handle;
        bool await_ready() const noexcept { return !handle || handle.done(); }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) const noexcept {
            handle.promise().set_continuation(awaiting);
            return handle;
        }
        T await_resume() const {
            if (!handle) {
                throw std::logic_error("broken promise: awaited an empty Task");
            }
            return handle.promise().take_result();
        }
    };

    explicit Task(Handle handle) noexcept : handle_(handle) {}
    void destroy() noexcept {
        if (handle_) {
            std::exchange(handle_, {}).destroy();
        }
    }

    Handle handle_;
};

namespace detail {

template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
    return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}

inline Task<void> TaskPromise<void>::get_return_object() noexcept {
    return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

}  // namespace detail
}  // namespace poetry
