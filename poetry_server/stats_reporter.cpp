#include "stats_reporter.hpp"

#include <cstdio>
#include <string>

namespace poetry::server {
namespace {

/// The counters an interval is the difference of.
struct Totals {
    std::uint64_t served = 0;
    std::uint64_t dropped = 0;
    std::uint64_t chunks = 0;
    LatenessHistogram::Counts lateness{};

    static Totals of(const ServerStats& stats) {
        return {stats.served.load(), stats.dropped.load() + stats.upstream_failed.load(), stats.chunks.load(),
                stats.lateness.counts()};
    }
};

}  // namespace

StatsReporter::StatsReporter(const ServerStats& stats, ServerLog& log, std::chrono::nanoseconds every)
    : stats_(stats), log_(log), every_(every), thread_([this] { run(); }) {}

StatsReporter::~StatsReporter() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void StatsReporter::run() {
    Totals last = Totals::of(stats_);
    auto since = Clock::now();
    auto next = since + every_;
    for (bool stopping = false; !stopping;) {
        {
            std::unique_lock lock(mutex_);
            stopping = wake_.wait_until(lock, next, [this] { return stopping_; });
        }
        const auto now = Clock::now();
        if (now < next && !stopping) {
            continue;  // a wait may end a hair before its time: the interval is not over
        }
        if (stopping && now == since) {
            break;
        }
        const Totals totals = Totals::of(stats_);
        LatenessHistogram::Counts interval{};
        std::uint64_t paced = 0;
        for (std::size_t i = 0; i < interval.size(); ++i) {
            interval[i] = totals.lateness[i] - last.lateness[i];
            paced += interval[i];
        }
        const double seconds = std::chrono::duration<double>(now - since).count();
        char line[256];
        std::snprintf(line, sizeof(line),
                      "Stats (last %.2f s): %llu connected, %llu served, %llu dropped, %.1f chunks/s",
                      seconds, static_cast<unsigned long long>(stats_.active.load()),
                      static_cast<unsigned long long>(totals.served - last.served),
                      static_cast<unsigned long long>(totals.dropped - last.dropped),
                      static_cast<double>(totals.chunks - last.chunks) / seconds);
        std::string text = line;
        if (paced > 0) {
            std::snprintf(line, sizeof(line), ", late p50 %.1f ms, p99 %.1f ms",
                          stats_.lateness.percentile_ms(interval, 0.5),
                          stats_.lateness.percentile_ms(interval, 0.99));
            text += line;
        }
        log_.always(text);
        last = totals;
        since = now;
        next += every_;
        if (next < now) {
            next = now + every_;  // the machine stalled past a whole interval: no burst of lines
        }
    }
}

}  // namespace poetry::server
