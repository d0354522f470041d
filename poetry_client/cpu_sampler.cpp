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

CpuSampler::CpuSampler(TimePoint start, metrics::Seconds cpu_at_start, std::chrono::nanoseconds interval)
    : interval_(interval),
      last_at_(start),
      last_cpu_seconds_(cpu_at_start.count()),
      thread_([this] { run(); }) {
    trace_.start = start;
}

CpuSampler::~CpuSampler() {
    if (thread_.joinable()) {
        stop(Clock::now(), metrics::cpu_times().total());
    }
}

CpuTrace CpuSampler::stop(TimePoint end, metrics::Seconds cpu_at_end) {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    // A last interval much shorter than the others would magnify getrusage's granularity (a tick's worth
    // of CPU in a fraction of a millisecond reads as several cores): it joins the one before it.
    if (!trace_.samples.empty() && end > last_at_ && end - last_at_ < interval_ / 2) {
        const CpuSample previous = trace_.samples.back();
        trace_.samples.pop_back();
        const TimePoint begin = trace_.samples.empty() ? trace_.start : trace_.samples.back().end;
        last_cpu_seconds_ -= previous.cores * Seconds(previous.end - begin).count();
        last_at_ = begin;
    }
    sample(end, cpu_at_end);  // dropped if the thread sampled after `end`: the trace then ends there
    return std::move(trace_);
}

void CpuSampler::sample(TimePoint at, metrics::Seconds cpu) {
    const double cpu_seconds = cpu.count();
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
            own_cpu_ = metrics::thread_cpu_times();
            return;
        }
        const metrics::CpuTimes cpu = metrics::cpu_times();
        sample(Clock::now(), cpu.total());
        // Behind by more than an interval (a loaded machine): skip the missed ticks rather than sample
        // several times at once; the longer interval is still measured by its own wall time.
        const TimePoint now = Clock::now();
        while (next + interval_ <= now) {
            next += interval_;
        }
    }
}

}  // namespace poetry::client
