// Where a run's CPU went over time, for the timelines: a sampler thread reads the process's CPU time
// (metrics::cpu_times, user + system, own and waited-for children's) every 20 ms while a strategy runs.
// Only made when a timeline is asked for; without one, no thread is started and nothing is sampled.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "download.hpp"
#include "poetry/metrics/resource_usage.hpp"

namespace poetry::client {

/// One interval's CPU use: from the previous sample's end (the trace's start for the first) to `end`.
struct CpuSample {
    TimePoint end;
    double cores = 0;  // CPU seconds per wall second: 1 is one core busy (more with child processes)
};

/// A run's CPU use, interval by interval. A child process's CPU counts when it is waited for (getrusage
/// RUSAGE_CHILDREN), so the processes strategy's workers show up at their ends, not while they run.
struct CpuTrace {
    TimePoint start{};
    std::vector<CpuSample> samples;

    [[nodiscard]] bool empty() const noexcept { return samples.empty(); }
    /// The average CPU use over [from, to), in cores, from the intervals that overlap it (weighted by the
    /// overlap); nullopt when none covers any of it (before the run's start or after its end).
    [[nodiscard]] std::optional<double> cores_between(TimePoint from, TimePoint to) const noexcept;
};

/// Samples from construction to stop(). The thread sleeps on a condition variable between samples, at
/// absolute times (start + k * interval), so a late wake-up does not shift the ones after it; each
/// sample is two getrusage calls and a push_back.
class CpuSampler {
public:
    static constexpr std::chrono::milliseconds default_interval{20};

    /// Starts the thread; the trace starts at `start`, when the process's CPU time was `cpu_at_start`
    /// (metrics::cpu_times().total(), read by the caller so that the trace adds up to its own figure).
    CpuSampler(TimePoint start, metrics::Seconds cpu_at_start,
               std::chrono::nanoseconds interval = default_interval);
    CpuSampler(const CpuSampler&) = delete;
    CpuSampler& operator=(const CpuSampler&) = delete;
    ~CpuSampler();

    /// Joins the thread, ends the trace with an interval up to `end`, when the CPU time was `cpu_at_end`,
    /// and hands the trace over.
    CpuTrace stop(TimePoint end, metrics::Seconds cpu_at_end);
    /// After stop(): the CPU the sampler thread itself used, which the run's CPU figure leaves out
    /// (the trace keeps it: about 25 us per sample, 0.1% of a core at 20 ms).
    [[nodiscard]] metrics::CpuTimes own_cpu() const noexcept { return own_cpu_; }

private:
    void sample(TimePoint at, metrics::Seconds cpu);
    void run();

    std::chrono::nanoseconds interval_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    CpuTrace trace_;                // guarded by mutex_ while the thread runs
    TimePoint last_at_{};           // the end of the last interval sampled
    double last_cpu_seconds_ = 0;   // the CPU time read then
    metrics::CpuTimes own_cpu_{};   // the thread's own, read as it ends
    std::thread thread_;            // last: starts once everything above is ready
};

}  // namespace poetry::client
