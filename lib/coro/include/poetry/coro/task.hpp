// Task<T>: a lazy C++20 coroutine (libcoro/cppcoro task.hpp). It starts when awaited, resumes its
// awaiter by symmetric transfer when it ends (so deep chains of awaits use no stack), passes its
// value or exception to the awaiter, and destroys its frame in its destructor, so destroying a
// suspended task abandons it cleanly: its awaitables remove their readers and timers as they go.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace poetry {

template <class T = void>
class [[nodiscard]] Task;

namespace detail {

/// The root of a chain of tasks driven by create_task: its driver coroutine, and whether some frame of
/// the chain is executing. A chain must never be destroyed while it executes (a task may cancel, or
/// drop the last copy of, its own future): abandon() then only marks it, and the resume that is in
/// progress destroys it once the chain has suspended again.
struct TaskRoot : std::enable_shared_from_this<TaskRoot> {
    std::coroutine_handle<> frame;  // the driver; null once it has ended by itself
    int running = 0;                // resumes of this chain in progress
    bool abandoned = false;

    void abandon() noexcept {
        if (running > 0) {
            abandoned = true;
        } else {
            destroy();
        }
    }
    void destroy() noexcept {
        if (frame) {
            std::exchange(frame, {}).destroy();
        }
    }
};

/// The chain that the coroutine behind `handle` belongs to, if it is a task driven by create_task.
template <class Promise>
TaskRoot* root_of(std::coroutine_handle<Promise> handle) noexcept {
    if constexpr (requires { handle.promise().root(); }) {
        return handle.promise().root();
    } else {
        return nullptr;
    }
}

/// What an awaitable keeps to resume its coroutine later: the frame and (shared) its chain's root.
struct Resumer {
    std::coroutine_handle<> frame;
    std::shared_ptr<TaskRoot> root;

    template <class Promise>
    explicit Resumer(std::coroutine_handle<Promise> handle)
        : frame(handle), root(root_of(handle) ? root_of(handle)->shared_from_this() : nullptr) {}

    /// Every resume by the library goes through here, so that the chain counts as running meanwhile.
    void operator()() const {
        if (!root) {
            frame.resume();
            return;
        }
        ++root->running;
        frame.resume();
        if (--root->running == 0 && root->abandoned) {
            root->destroy();
        }
    }
};

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
    /// @throws std::logic_error if the task already has an awaiter: one task, one awaiter, as its
    ///         value can be handed out only once and it can resume only one coroutine when it ends.
    void set_continuation(std::coroutine_handle<> continuation) {
        if (continuation_) {
            throw std::logic_error("Task awaited from two places at once");
        }
        continuation_ = continuation;
    }
    [[nodiscard]] TaskRoot* root() const noexcept { return root_; }
    void set_root(TaskRoot* root) noexcept { root_ = root; }

private:
    std::coroutine_handle<> continuation_;
    TaskRoot* root_ = nullptr;  // the chain this task runs in, inherited from its awaiter

protected:
    /// Called once per result: a second await of a finished task is refused rather than given a
    /// moved-from value. @throws std::logic_error the second time.
    void mark_taken() {
        if (taken_) {
            throw std::logic_error("Task awaited again after its result was taken");
        }
        taken_ = true;
    }

private:
    bool taken_ = false;
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
        mark_taken();
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
    void take_result() {
        mark_taken();
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
    /// A task has one awaiter and one result: awaiting it from a second coroutine while it runs, or
    /// again after its result was taken, throws std::logic_error in the second awaiter (and leaves the
    /// first alone).
    /// @throws what the task threw; std::logic_error ("broken promise") for an empty task.
    auto operator co_await() && noexcept { return Awaiter{handle_}; }
    auto operator co_await() & noexcept { return Awaiter{handle_}; }

private:
    friend class detail::TaskPromise<T>;
    using Handle = std::coroutine_handle<promise_type>;

    struct Awaiter {
        Handle handle;
        bool await_ready() const noexcept { return !handle || handle.done(); }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> awaiting) const {
            handle.promise().set_continuation(awaiting);  // throws into `awaiting` if taken
            handle.promise().set_root(detail::root_of(awaiting));
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
