#include "chunk_log.hpp"

#include <algorithm>
#include <utility>

namespace poetry::client {
namespace {

/// The last event in `log` (a finish, or failing that a chunk or connect) as time since `start`; zero
/// for a log without events.
Seconds last_event_since(TimePoint start, const RunLog& log) noexcept {
    TimePoint last = start;
    for (const auto& download : log) {
        if (download.connected) {
            last = std::max(last, *download.connected);
        }
        if (!download.chunks.empty()) {
            last = std::max(last, download.chunks.back().at);
        }
        if (download.finished) {
            last = std::max(last, *download.finished);
        }
    }
    return last - start;
}

}  // namespace

double timeline_span_seconds(std::span<const RunReport> reports, std::span<const RunLog> logs) noexcept {
    double span = 1e-3;
    for (std::size_t r = 0; r < reports.size() && r < logs.size(); ++r) {
        span = std::max({span, reports[r].wall.count(), last_event_since(reports[r].started, logs[r]).count()});
    }
    return span;
}

void ChunkLog::start_run(std::span<const Download> downloads) {
    run_.clear();
    run_.reserve(downloads.size());
    for (const auto& download : downloads) {
        run_.push_back({download.task, std::nullopt, {}, std::nullopt, DownloadStatus::failed});
    }
    index_.assign(downloads);
}

RunLog ChunkLog::take_run() noexcept {
    index_.clear();  // events after this belong to no run
    return std::move(run_);
}

DownloadLog* ChunkLog::find(const Download& download) noexcept {
    const auto at = index_.find(download);
    return at ? &run_[*at] : nullptr;
}

void ChunkLog::connected(const Download& download, TimePoint at) {
    if (auto* log = find(download)) {
        log->connected = at;
    }
    next_.connected(download, at);
}

void ChunkLog::chunk(const Download& download, std::size_t bytes, TimePoint at) {
    if (auto* log = find(download)) {
        log->chunks.push_back({at, static_cast<std::uint32_t>(bytes)});
    }
    next_.chunk(download, bytes, at);
}

void ChunkLog::finished(const Download& download, const DownloadResult& result) {
    if (auto* log = find(download)) {
        log->finished = result.finished;
        log->status = result.status;
    }
    next_.finished(download, result);
}

}  // namespace poetry::client
