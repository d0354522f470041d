// gather: run many tasks concurrently on one loop and wait for all of them.
#pragma once

#include <exception>
#include <type_traits>
#include <vector>

#include "poetry/coro/create_task.hpp"
#include "poetry/coro/task.hpp"

namespace poetry {
namespace detail {

template <class T>
struct GatherResult {
    using type = std::vector<T>;
};
template <>
struct GatherResult<void> {
    using type = void;
};

}  // namespace detail

/// Starts every task on `loop` and waits until all have ended; returns their values in the order of
/// `tasks`. Every task runs to its end even if another fails (nothing is cancelled behind your back);
/// then the first failure, in the order of `tasks`, is rethrown. For per-task outcomes, make each
/// task catch its own errors and return them.
template <class T>
Task<typename detail::GatherResult<T>::type> gather(EventLoop& loop, std::vector<Task<T>> tasks) {
    std::vector<Future<T>> futures;
    futures.reserve(tasks.size());
    for (auto& task : tasks) {
        futures.push_back(create_task(loop, std::move(task)));
    }
    tasks.clear();

    std::exception_ptr first_error;
    if constexpr (std::is_void_v<T>) {
        for (auto& future : futures) {
            try {
                co_await future;
            } catch (...) {
                first_error = first_error ? first_error : std::current_exception();
            }
        }
        if (first_error) {
            std::rethrow_exception(first_error);
        }
    } else {
        std::vector<T> results;
        results.reserve(futures.size());
        for (auto& future : futures) {
            try {
                results.push_back(co_await future);
            } catch (...) {
                first_error = first_error ? first_error : std::current_exception();
            }
        }
        if (first_error) {
            std::rethrow_exception(first_error);
        }
        co_return results;
    }
}

}  // namespace poetry
