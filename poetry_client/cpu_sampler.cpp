#include "cpu_sampler.hpp"

#include <algorithm>

#include "poetry/metrics/resource_usage.hpp"

namespace poetry::client {

std::optional<double> CpuTrace::cores_between(TimePoint from, TimePoint to) const noexcept {
    double cpu_seconds = 0;
    double covered = 0;
    TimePoint begin = start;
    for (const auto& sample : samples) {
        const TimePoint a = std::max(begin, from);
        const TimePoint b = std::min(sample.end, to);
        if (b > a) {
            const double overlap = Seconds(b - a).count();
            cpu_seconds += sample.cores * overlap;
            covered += overlap;
        }
        begin = sample.end;
        if (begin >= to) {
            break;
        }
    }
    if (covered <= 0) {
        return std::nullopt;
    }
    return cpu_seconds / covered;
}

CpuSampler::CpuSampler(TimePoint start, std::chrono::nanoseconds interval)
    : interval_(interval),
      last_at_(start),
      last_cpu_seconds_(metrics::cpu_times().total().count()),
      thread_([this] { run(); }) {
    trace_.start = start;
}

CpuSampler::~CpuSampler() {
    if (thread_.joinable()) {
        stop(Clock::now());
    }
}

CpuTrace CpuSampler::stop(TimePoint end) {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    sample(end);
    return std::move(trace_);
}

void CpuSampler::sample(TimePoint at) {
    const double cpu_seconds = metrics::cpu_times().total().count();
    const double wall = Seconds(at - last_at_).count();
    if (wall > 0) {
        trace_.samples.push_back({at, std::max(0.0, cpu_seconds - last_cpu_seconds_) / wall});
        last_at_ = at;
        last_cpu_seconds_ = cpu_seconds;
    }
}

void CpuSampler::run() {
    std::unique_lock lock(mutex_);
    for (TimePoint next = trace_.start + interval_;; next += interval_) {
        if (wake_.wait_until(lock, next, [this] { return stopping_; })) {
            return;
        }
        sample(Clock::now());
        // Behind by more than an interval (a loaded machine): skip the missed ticks rather than sample
        // several times at once; the longer interval is still measured by its own wall time.
        const TimePoint now = Clock::now();
        while (next + interval_ <= now) {
            next += interval_;
        }
    }
}

}  // namespace poetry::client
