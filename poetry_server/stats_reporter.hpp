// --stats S: every S seconds, one line on stdout with what the server did in that interval, for
// watching a long run or a proxy: "Stats (last 5.00 s): 120 connected, 34 served, 2 dropped,
// 2400.0 chunks/s, late p50 0.4 ms, p99 1.2 ms". A thread of its own, beside any mode.
#pragma once

#include <chrono>
#include <thread>

#include "poetry/detail/unique_fd.hpp"
#include "server_log.hpp"
#include "stop_signal.hpp"

namespace poetry::server {

class StatsReporter {
public:
    /// Starts the thread; it ends with the stop signal, or with this object.
    StatsReporter(const ServerStats& stats, ServerLog& log, const StopSignal& stop,
                  std::chrono::nanoseconds every);
    StatsReporter(const StatsReporter&) = delete;
    StatsReporter& operator=(const StatsReporter&) = delete;
    ~StatsReporter();

private:
    void run();

    const ServerStats& stats_;
    ServerLog& log_;
    const StopSignal& stop_;
    std::chrono::nanoseconds every_;
    // A pipe: the destructor writes to end the thread before any stop signal comes.
    detail::UniqueFd wake_read_;
    detail::UniqueFd wake_write_;
    std::thread thread_;
};

}  // namespace poetry::server
