// --stats S: every S seconds, one line on stdout with what the server did in that interval, for
// watching a long run or a proxy: "Stats (last 5.00 s): 120 connected, 34 served, 2 dropped,
// 2400.0 chunks/s, late p50 0.4 ms, p99 1.2 ms". A thread of its own, beside any mode; when the server
// stops, one last line covers the interval cut short, so the lines add up to the summary.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "server_log.hpp"

namespace poetry::server {

class StatsReporter {
public:
    /// Starts the thread, which reports every `every` until this object goes.
    StatsReporter(const ServerStats& stats, ServerLog& log, std::chrono::nanoseconds every);
    StatsReporter(const StatsReporter&) = delete;
    StatsReporter& operator=(const StatsReporter&) = delete;
    /// Reports the interval so far (the sessions have ended by now) and ends the thread.
    ~StatsReporter();

private:
    void run();

    const ServerStats& stats_;
    ServerLog& log_;
    std::chrono::nanoseconds every_;
    // The destructor sets stopping_ and wakes the thread at once, however long the interval.
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;  // guarded by mutex_
    std::thread thread_;     // last: starts once everything above is ready
};

}  // namespace poetry::server
