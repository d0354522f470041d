// A session's coroutine on the library's loop (--mode coroutines, for a poem or a proxy). Every way
// out of a session's coroutine ends the session first, which destroys this object and the coroutine
// with it; only an exception gets out otherwise, and `failed` hears of it.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <utility>

#include "poetry/coro/create_task.hpp"
#include "poetry/coro/task.hpp"

namespace poetry::server {

class SessionTask {
public:
    SessionTask() = default;
    SessionTask(const SessionTask&) = delete;
    SessionTask& operator=(const SessionTask&) = delete;
    ~SessionTask() {
        if (task_) {
            task_->remove_done_callback(failed_callback_);  // it would find its session gone
        }
    }

    /// Starts `coroutine` on `loop`; `failed` is called with the exception that ends it, if one does.
    void start(EventLoop& loop, Task<void> coroutine, std::function<void(std::exception_ptr)> failed) {
        task_.emplace(create_task(loop, std::move(coroutine)));
        failed_callback_ = task_->add_done_callback([failed = std::move(failed)](Future<void>& done) {
            if (auto error = done.exception()) {
                failed(error);
            }
        });
    }

private:
    std::uint64_t failed_callback_ = 0;
    std::optional<Future<void>> task_;
};

}  // namespace poetry::server
