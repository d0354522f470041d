#include "run.hpp"

#include <algorithm>
#include <optional>

namespace poetry::client {
namespace {

std::size_t count(const std::vector<DownloadResult>& results, DownloadStatus status) noexcept {
    return static_cast<std::size_t>(std::count_if(results.begin(), results.end(),
                                                  [status](const auto& r) { return r.status == status; }));
}

}  // namespace

std::size_t RunReport::complete() const noexcept {
    return count(results, DownloadStatus::complete);
}

std::size_t RunReport::partial() const noexcept {
    return count(results, DownloadStatus::partial);
}

std::size_t RunReport::failed() const noexcept {
    return count(results, DownloadStatus::failed);
}

std::size_t RunReport::interrupted() const noexcept {
    return count(results, DownloadStatus::interrupted);
}

std::size_t RunReport::bytes() const noexcept {
    std::size_t total = 0;
    for (const auto& result : results) {
        total += result.poem.size();
    }
    return total;
}

RunReport run_strategy(const StrategyInfo& strategy, std::span<const Download> downloads,
                       const StrategySettings& settings, DownloadObserver& observer, bool sample_cpu) {
    RunReport report;
    report.strategy = strategy.name;
    // Each run gets its own peak, where the kernel allows it (else the peak is the process's so far).
    metrics::reset_peak_rss();
    const std::size_t children_peak_before = metrics::children_peak_rss_bytes();
    const metrics::CpuTimes cpu_before = metrics::cpu_times();
    report.started = Clock::now();
    std::optional<CpuSampler> sampler;
    if (sample_cpu) {
        sampler.emplace(report.started, cpu_before.total());
    }
    report.results = strategy.run(downloads, settings, observer);
    const TimePoint ended = Clock::now();
    report.wall = ended - report.started;
    const metrics::CpuTimes cpu_after = metrics::cpu_times();
    report.cpu = cpu_after - cpu_before;
    if (sampler) {
        report.cpu_trace = sampler->stop(ended, cpu_after.total());
        // The measurement leaves itself out: the strategy's CPU, not the sampler's.
        const metrics::CpuTimes own = sampler->own_cpu();
        report.cpu.user = std::max(metrics::Seconds{}, report.cpu.user - own.user);
        report.cpu.system = std::max(metrics::Seconds{}, report.cpu.system - own.system);
    }
    report.peak_rss_bytes = metrics::peak_rss_bytes();
    // A child process's peak counts when this run waited for it (the processes strategy).
    if (const std::size_t children_peak = metrics::children_peak_rss_bytes();
        children_peak > children_peak_before) {
        report.peak_rss_bytes = std::max(report.peak_rss_bytes, children_peak);
    }
    return report;
}

}  // namespace poetry::client
