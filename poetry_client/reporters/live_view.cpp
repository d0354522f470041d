#include "reporters/live_view.hpp"

#include <unistd.h>

#include <algorithm>
#include <system_error>

#include "poetry/detail/syscall.hpp"
#include "poetry/metrics/resource_usage.hpp"
#include "reporters/terminal.hpp"

namespace poetry::client {
LiveView::~LiveView() {
    stop_redrawing();
}

void LiveView::start_run(std::string_view strategy, std::span<const Download> downloads) {
    strategy_ = strategy;
    downloads_ = downloads;
    {
        const std::lock_guard lock(mutex_);
        progress_.assign(downloads.size(), Progress{});
        strips_.assign(std::min(downloads.size(), most_strips), ChunkStrip{});
        index_.assign(downloads);
        in_state_ = {};
        in_state_[static_cast<std::size_t>(LiveState::waiting)] = downloads.size();
        bytes_ = 0;
        stopping_ = false;
        started_ = Clock::now();
    }
    cpu_at_start_ = metrics::cpu_times().total().count();
    lines_on_screen_ = 0;
    drawn_size_.reset();
    thread_ = std::thread([this] { redraw_until_stopped(); });
}

void LiveView::finish_run() {
    if (!thread_.joinable()) {
        return;
    }
    stop_redrawing();
    draw();
    const std::lock_guard lock(mutex_);
    index_.clear();  // events after this belong to no run
}

void LiveView::stop_redrawing() {
    if (!thread_.joinable()) {
        return;
    }
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void LiveView::move_to(std::size_t i, LiveState state) noexcept {
    --in_state_[static_cast<std::size_t>(progress_[i].state)];
    ++in_state_[static_cast<std::size_t>(state)];
    progress_[i].state = state;
}

void LiveView::started(const Download& download, TimePoint at) {
    {
        const std::lock_guard lock(mutex_);
        if (const auto i = index_.find(download); i && progress_[*i].state == LiveState::waiting) {
            move_to(*i, LiveState::connecting);
        }
    }
    next_.started(download, at);
}

void LiveView::connected(const Download& download, TimePoint at) {
    {
        const std::lock_guard lock(mutex_);
        if (const auto i = index_.find(download); i && progress_[*i].state <= LiveState::connecting) {
            move_to(*i, LiveState::receiving);
        }
    }
    next_.connected(download, at);
}

void LiveView::chunk(const Download& download, std::size_t bytes, TimePoint at) {
    {
        const std::lock_guard lock(mutex_);
        if (const auto i = index_.find(download)) {
            if (progress_[*i].state <= LiveState::connecting) {
                move_to(*i, LiveState::receiving);
            }
            progress_[*i].bytes += bytes;
            bytes_ += bytes;
            if (*i < strips_.size()) {
                strips_[*i].add(strip_cell_of(started_, at), bytes);
            }
        }
    }
    next_.chunk(download, bytes, at);
}

void LiveView::finished(const Download& download, const DownloadResult& result) {
    {
        const std::lock_guard lock(mutex_);
        if (const auto i = index_.find(download)) {
            move_to(*i, live_state_of(result.status));
            // The result is the truth: an observer that failed the download kept fewer bytes than came.
            bytes_ = bytes_ - std::min(bytes_, progress_[*i].bytes) + result.poem.size();
            progress_[*i].bytes = result.poem.size();
        }
    }
    next_.finished(download, result);
}

void LiveView::redraw_until_stopped() {
    auto next = Clock::now();
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        draw();
        lock.lock();
        // Absolute ticks, so that drawing time does not stretch the interval; a stall skips, not bursts.
        next = std::max(next + redraw_every, Clock::now());
        wake_.wait_until(lock, next, [this] { return stopping_; });
    }
}

void LiveView::draw() {
    if (broken_) {
        return;
    }
    const TerminalSize size = terminal_size(fd_).value_or(drawn_size_.value_or(TerminalSize{}));
    LiveSnapshot snapshot;
    snapshot.strategy = strategy_;
    TimePoint now;
    {
        const std::lock_guard lock(mutex_);
        now = Clock::now();
        snapshot.downloads = progress_.size();
        snapshot.bytes = bytes_;
        snapshot.in_state = in_state_;
        const std::size_t shown = live_lines_for(progress_.size(), size.rows);
        snapshot.first.reserve(shown);
        for (std::size_t i = 0; i < shown; ++i) {
            snapshot.first.push_back({&downloads_[i], progress_[i].state, progress_[i].bytes,
                                      i < strips_.size() ? strips_[i] : ChunkStrip{}});
        }
    }
    snapshot.now_cell = strip_cell_of(started_, now);
    snapshot.elapsed = now - started_;
    snapshot.cpu = Seconds(std::max(0.0, metrics::cpu_times().total().count() - cpu_at_start_));

    std::string out;
    if (drawn_size_ && (drawn_size_->rows != size.rows || drawn_size_->columns != size.columns)) {
        // The terminal may have rewrapped the old frame: its lines can no longer be counted, so start
        // again from a clear screen.
        out += "\x1b[H\x1b[2J";
    } else if (lines_on_screen_ > 0) {
        out += "\r\x1b[" + std::to_string(lines_on_screen_) + "A";
    }
    const std::vector<std::string> lines = render_live_frame(snapshot, size, style_);
    for (const auto& line : lines) {
        out += line;
        out += "\x1b[K\n";  // the rest of the old, maybe longer, line goes
    }
    out += "\x1b[J";  // and the old frame's lines below this one, if it had more
    write_out(out);
    lines_on_screen_ = lines.size();
    drawn_size_ = size;
}

void LiveView::write_out(const std::string& text) noexcept {
    std::size_t written = 0;
    while (written < text.size()) {
        std::error_code ec;
        const ssize_t n = detail::retry_on_eintr(
            ec, [&] { return ::write(fd_, text.data() + written, text.size() - written); });
        if (ec || n == 0) {
            broken_ = true;  // the terminal has gone (EIO) or is not writable: the run goes on unseen
            return;
        }
        written += static_cast<std::size_t>(n);
    }
}

}  // namespace poetry::client
