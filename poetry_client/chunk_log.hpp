// The events of a run as they happened, kept for the reporters that draw them (--timeline) or list them
// (--chunk-times): when each download connected, every chunk's arrival time and size, and how and when it
// ended. Only made when one of those options asks, because it grows with every chunk of every download.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "download.hpp"
#include "run.hpp"
#include "task_index.hpp"

namespace poetry::client {

/// One chunk as the strategy reported it. Sixteen bytes: a run of 10,000 downloads of 65 chunks keeps
/// 650,000 of these.
struct ChunkTime {
    TimePoint at;
    std::uint32_t bytes = 0;  // at most receive_buffer_size
};

/// One download's events, in the order they came.
struct DownloadLog {
    int task = 0;
    std::optional<TimePoint> connected;  // none when the connect failed
    std::vector<ChunkTime> chunks;
    std::optional<TimePoint> finished;  // none only if the strategy never reported the end
    DownloadStatus status = DownloadStatus::failed;
};

/// One run's logs, one per download in the downloads' order (the order of RunReport::results).
using RunLog = std::vector<DownloadLog>;

/// The length, in seconds, of the time axis that every timeline panel shares: the longest of the runs,
/// by its wall time or by its last event (a late finish or chunk); never zero, to divide by.
double timeline_span_seconds(std::span<const RunReport> reports, std::span<const RunLog> logs) noexcept;

/// Records every event into a RunLog and passes it on to `next` (the progress lines), so that it sits
/// in front of the other observer and the strategies still see one observer.
class ChunkLog final : public DownloadObserver {
public:
    explicit ChunkLog(DownloadObserver& next) noexcept : next_(next) {}

    /// Starts a fresh log for a run of `downloads`; events for tasks not among them are only passed on.
    void start_run(std::span<const Download> downloads);
    /// The log of the run since start_run (moved out: call once per run).
    RunLog take_run() noexcept;

    void started(const Download& download, TimePoint at) override { next_.started(download, at); }
    void connected(const Download& download, TimePoint at) override;
    void chunk(const Download& download, std::size_t bytes, TimePoint at) override;
    void finished(const Download& download, const DownloadResult& result) override;

private:
    /// The log of `download`'s task, or null if the run does not have it.
    DownloadLog* find(const Download& download) noexcept;

    DownloadObserver& next_;
    RunLog run_;
    TaskIndex index_;  // task number -> index in run_
};

}  // namespace poetry::client
