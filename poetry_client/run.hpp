// Runs one strategy and measures it the same way for every strategy (wall clock, CPU user and system
// including waited-for children, peak resident memory), so that the comparison table is fair.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "cpu_sampler.hpp"
#include "download.hpp"
#include "poetry/metrics/resource_usage.hpp"
#include "strategy.hpp"

namespace poetry::client {

struct RunReport {
    std::string strategy;
    std::vector<DownloadResult> results;
    TimePoint started{};
    Seconds wall{};
    metrics::CpuTimes cpu;
    std::size_t peak_rss_bytes = 0;
    CpuTrace cpu_trace;  // empty unless the run was asked to sample its CPU (for the timelines)

    [[nodiscard]] std::size_t complete() const noexcept;
    [[nodiscard]] std::size_t partial() const noexcept;
    [[nodiscard]] std::size_t failed() const noexcept;
    [[nodiscard]] std::size_t interrupted() const noexcept;
    [[nodiscard]] std::size_t bytes() const noexcept;
    [[nodiscard]] bool all_complete() const noexcept { return complete() == results.size(); }
};

/// Runs `strategy` and measures it. With `sample_cpu`, a CpuSampler thread also records the CPU use
/// every 20 ms into RunReport::cpu_trace; without it no thread is started.
RunReport run_strategy(const StrategyInfo& strategy, std::span<const Download> downloads,
                       const StrategySettings& settings, DownloadObserver& observer, bool sample_cpu = false);

}  // namespace poetry::client
