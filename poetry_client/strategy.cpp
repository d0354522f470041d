#include "strategy.hpp"

#include <array>

namespace poetry::client {
namespace {

constexpr std::array registry{
    StrategyInfo{"blocking", "one download after another, blocking sockets", download_blocking, false, false},
    StrategyInfo{"processes", "a child process per download (or --workers), results through pipes",
                 download_processes, false, true},
    StrategyInfo{"threads", "a thread per download (or --workers), blocking sockets", download_threads,
                 false, true},
    StrategyInfo{"nonblocking", "non-blocking sockets polled in a busy loop, one after another",
                 download_nonblocking, false, false},
    StrategyInfo{"callbacks", "the library's event loop with callback objects", download_callbacks, true, false},
    StrategyInfo{"futures", "the library's Futures, chained", download_futures, true, false},
    StrategyInfo{"coroutines", "the library's C++20 Tasks on its event loop", download_coroutines, true, false},
    StrategyInfo{"asio", "asio's io_context with C++20 awaitables", download_asio, false, false},
};

}  // namespace

std::span<const StrategyInfo> strategies() noexcept {
    return registry;
}

const StrategyInfo* find_strategy(std::string_view name) noexcept {
    for (const auto& strategy : registry) {
        if (strategy.name == name) {
            return &strategy;
        }
    }
    return nullptr;
}

}  // namespace poetry::client
