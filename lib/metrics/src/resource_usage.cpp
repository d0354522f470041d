#include "poetry/metrics/resource_usage.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <cstring>

namespace poetry::metrics {
namespace {

Seconds to_seconds(const timeval& value) noexcept {
    return Seconds(static_cast<double>(value.tv_sec) + static_cast<double>(value.tv_usec) / 1e6);
}

}  // namespace

CpuTimes cpu_times() noexcept {
    rusage self{};
    rusage children{};
    ::getrusage(RUSAGE_SELF, &self);
    ::getrusage(RUSAGE_CHILDREN, &children);
    return {to_seconds(self.ru_utime) + to_seconds(children.ru_utime),
            to_seconds(self.ru_stime) + to_seconds(children.ru_stime)};
}

CpuTimes thread_cpu_times() noexcept {
    rusage thread{};
    ::getrusage(RUSAGE_THREAD, &thread);
    return {to_seconds(thread.ru_utime), to_seconds(thread.ru_stime)};
}

std::size_t peak_rss_bytes() noexcept {
    // VmHWM, unlike getrusage's ru_maxrss, follows reset_peak_rss().
    std::FILE* status = std::fopen("/proc/self/status", "re");
    if (status == nullptr) {
        rusage self{};
        ::getrusage(RUSAGE_SELF, &self);
        return static_cast<std::size_t>(self.ru_maxrss) * 1024;
    }
    char line[256];
    std::size_t kilobytes = 0;
    while (std::fgets(line, sizeof(line), status) != nullptr) {
        if (std::sscanf(line, "VmHWM: %zu kB", &kilobytes) == 1) {
            break;
        }
    }
    std::fclose(status);
    return kilobytes * 1024;
}

std::size_t children_peak_rss_bytes() noexcept {
    rusage children{};
    ::getrusage(RUSAGE_CHILDREN, &children);
    return static_cast<std::size_t>(children.ru_maxrss) * 1024;
}

bool reset_peak_rss() noexcept {
    std::FILE* clear_refs = std::fopen("/proc/self/clear_refs", "we");
    if (clear_refs == nullptr) {
        return false;
    }
    const bool written = std::fputs("5", clear_refs) >= 0;
    return std::fclose(clear_refs) == 0 && written;
}

}  // namespace poetry::metrics
