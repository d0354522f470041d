// What a piece of work cost the process: CPU time (user and system, its own and its waited-for
// children's) and peak resident memory. Both programs and the benchmarks measure the same way.
#pragma once

#include <chrono>
#include <cstddef>

namespace poetry::metrics {

using Seconds = std::chrono::duration<double>;

/// CPU time used so far by this process and by the children it has waited for (getrusage).
struct CpuTimes {
    Seconds user{};
    Seconds system{};

    [[nodiscard]] Seconds total() const noexcept { return user + system; }
    friend CpuTimes operator-(const CpuTimes& a, const CpuTimes& b) noexcept {
        return {a.user - b.user, a.system - b.system};
    }
};

/// RUSAGE_SELF + RUSAGE_CHILDREN, so that work done in child processes counts like work done in
/// threads (a child counts once it has been waited for).
CpuTimes cpu_times() noexcept;
/// The calling thread's own CPU time (RUSAGE_THREAD): what a measuring thread costs, so that a
/// measurement can leave itself out.
CpuTimes thread_cpu_times() noexcept;

/// The process's peak resident set size in bytes (VmHWM), since start or the last reset_peak_rss().
std::size_t peak_rss_bytes() noexcept;

/// The largest peak resident set of any child waited for so far, in bytes.
std::size_t children_peak_rss_bytes() noexcept;

/// Starts a new peak at the current resident size (Linux: "5" to /proc/self/clear_refs), so that
/// several runs in one process each get their own peak. @returns false where the kernel does not
/// allow it; then peak_rss_bytes() keeps the process-wide peak.
bool reset_peak_rss() noexcept;

}  // namespace poetry::metrics
