// The one signature every download strategy has, and the registry that finds a strategy by name.
// A strategy downloads every poem its way, reports events to the observer, and returns one result
// per download in the downloads' order. Strategies never print; the reporters do.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "download.hpp"
#include "interruption.hpp"
#include "limits.hpp"
#include "poetry/loop/resolver.hpp"

namespace poetry::client {

struct StrategySettings {
    std::string selector = "auto";    // for the strategies on the library's event loop
    std::optional<Seconds> timeout;   // a download that receives nothing this long fails
    std::optional<Seconds> deadline;  // a download not finished this long after it started fails
    std::size_t workers = 0;          // processes/threads: a pool of this many (0: one per download)
    /// Asks the run to stop part-way (Ctrl-C): every strategy then stops promptly and marks what has
    /// not finished interrupted. Null: the run cannot be interrupted.
    Interruption* interruption = nullptr;
    /// The name lookup of the strategies on the library's event loop (their loop's resolver); empty:
    /// getaddrinfo. For tests, which make it slow to show that no strategy waits for it on the loop.
    ResolveFunction resolve_function;

    [[nodiscard]] DownloadLimits limits() const noexcept { return {timeout, deadline}; }
};

/// The most one recv takes, the same in every strategy, so that their chunk counts and costs compare.
/// The strategies on one thread share a single buffer of this size, not one per download.
inline constexpr std::size_t receive_buffer_size = 64 * 1024;

using StrategyFunction = std::vector<DownloadResult> (*)(std::span<const Download> downloads,
                                                         const StrategySettings& settings,
                                                         DownloadObserver& observer);

struct StrategyInfo {
    std::string_view name;
    std::string_view summary;
    StrategyFunction run;
    bool uses_selector;  // runs on the library's event loop, so --selector applies
    bool uses_workers;   // can run as a pool, so --workers applies
};

/// Every strategy, in the order `--strategy all` runs them.
std::span<const StrategyInfo> strategies() noexcept;

/// The strategy called `name`, or null.
const StrategyInfo* find_strategy(std::string_view name) noexcept;

// One per file in strategies/.
std::vector<DownloadResult> download_blocking(std::span<const Download>, const StrategySettings&,
                                              DownloadObserver&);
std::vector<DownloadResult> download_processes(std::span<const Download>, const StrategySettings&,
                                               DownloadObserver&);
std::vector<DownloadResult> download_threads(std::span<const Download>, const StrategySettings&,
                                             DownloadObserver&);
std::vector<DownloadResult> download_nonblocking(std::span<const Download>, const StrategySettings&,
                                                 DownloadObserver&);
std::vector<DownloadResult> download_callbacks(std::span<const Download>, const StrategySettings&,
                                               DownloadObserver&);
std::vector<DownloadResult> download_futures(std::span<const Download>, const StrategySettings&,
                                             DownloadObserver&);
std::vector<DownloadResult> download_coroutines(std::span<const Download>, const StrategySettings&,
                                                DownloadObserver&);
std::vector<DownloadResult> download_asio(std::span<const Download>, const StrategySettings&,
                                          DownloadObserver&);

}  // namespace poetry::client
