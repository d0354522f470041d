// --live: the downloads as they happen, redrawn in place on the terminal at most 10 times a second.
// An observer like the others: it keeps what each download has done, passes every event on to the
// next observer, and draws from a thread of its own, so a strategy never waits for the terminal and a
// quiet download (a slow server) still sees its clock move. Made only when --live is asked for and
// stdout is a terminal; otherwise nothing of it exists.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "download.hpp"
#include "reporters/live_frame.hpp"
#include "task_index.hpp"

namespace poetry::client {

class LiveView final : public DownloadObserver {
public:
    static constexpr std::chrono::milliseconds redraw_every{100};

    /// Draws on the terminal `fd` in `style`; events go on to `next`.
    LiveView(DownloadObserver& next, int fd, LiveStyle style) noexcept
        : next_(next), fd_(fd), style_(style) {}
    LiveView(const LiveView&) = delete;
    LiveView& operator=(const LiveView&) = delete;
    ~LiveView();

    /// Starts a view of a run of `downloads` (which must outlive it) by `strategy`, drawn below the
    /// cursor's line, and the thread that redraws it.
    void start_run(std::string_view strategy, std::span<const Download> downloads);
    /// Stops redrawing and draws the last frame, with every download's outcome; the cursor is left on
    /// the line below it, for the summary.
    void finish_run();

    void started(const Download& download, TimePoint at) override;
    void connected(const Download& download, TimePoint at) override;
    void chunk(const Download& download, std::size_t bytes, TimePoint at) override;
    void finished(const Download& download, const DownloadResult& result) override;

private:
    /// What the events change of one download.
    struct Progress {
        LiveState state = LiveState::waiting;
        std::size_t bytes = 0;
    };
    /// Strips are kept for the first downloads only: no terminal shows more lines than this, and a
    /// strip is 168 bytes, against 24 for the rest of a download's state and index (--connections may be
    /// 10^6).
    static constexpr std::size_t most_strips = 1000;

    /// Moves download `i` to `state`, keeping the counts of each state. Called with mutex_ held.
    void move_to(std::size_t i, LiveState state) noexcept;
    void stop_redrawing();
    void redraw_until_stopped();
    void draw();
    void write_out(const std::string& text) noexcept;

    DownloadObserver& next_;
    int fd_;
    LiveStyle style_;

    std::string strategy_;
    TimePoint started_{};
    double cpu_at_start_ = 0;

    std::span<const Download> downloads_;
    std::mutex mutex_;                // guards what the events change: the members from here to stopping_
    std::vector<Progress> progress_;  // one per download, in the downloads' order
    std::vector<ChunkStrip> strips_;  // the first most_strips downloads'
    TaskIndex index_;                 // task number -> index in progress_
    std::array<std::size_t, live_state_count> in_state_{};
    std::size_t bytes_ = 0;
    bool stopping_ = false;
    std::condition_variable wake_;

    // Only the drawing thread, or finish_run once it has joined it, touches these.
    std::size_t lines_on_screen_ = 0;
    std::optional<TerminalSize> drawn_size_;
    bool broken_ = false;  // a write to the terminal failed: draw no more
    std::thread thread_;
};

}  // namespace poetry::client
