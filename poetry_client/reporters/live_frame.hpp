// One frame of --live: what the downloads have done so far, drawn as lines for a terminal of a given
// size. Pure (no terminal, no clock, no threads), so that a test can draw any state at any size; the
// LiveView (live_view.hpp) keeps the state and writes the frames.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "download.hpp"

namespace poetry::client {

/// Where one download is. `waiting` has not started: it waits its turn (blocking, a pool of workers).
enum class LiveState : std::uint8_t {
    waiting,
    connecting,
    receiving,
    complete,
    partial,
    failed,
    interrupted
};
inline constexpr std::size_t live_state_count = 7;

std::string_view to_string(LiveState state) noexcept;
LiveState live_state_of(DownloadStatus status) noexcept;

/// A download's last chunks (when, how many bytes), oldest overwritten first: enough for the strip,
/// which shows the last few seconds, at a fixed size whatever the poem's length.
class RecentChunks {
public:
    static constexpr std::size_t capacity = 32;

    void add(TimePoint at, std::size_t bytes) noexcept;
    /// The bytes that came in [from, to).
    [[nodiscard]] std::size_t bytes_between(TimePoint from, TimePoint to) const noexcept;

private:
    struct Chunk {
        TimePoint at{};
        std::size_t bytes = 0;
    };
    std::array<Chunk, capacity> chunks_{};
    std::size_t next_ = 0;
    std::size_t size_ = 0;
};

/// What a line shows of one download.
struct LiveDownload {
    const Download* download = nullptr;
    LiveState state = LiveState::waiting;
    std::size_t bytes = 0;
    RecentChunks recent;
};

/// What a frame shows: the header's figures, the first downloads (as many as the frame has lines for;
/// the caller copies only those) and how many downloads are in each state, all of them.
struct LiveSnapshot {
    std::string_view strategy;
    Seconds elapsed{};
    Seconds cpu{};
    std::size_t downloads = 0;
    std::size_t bytes = 0;  // all downloads together
    std::array<std::size_t, live_state_count> in_state{};
    std::vector<LiveDownload> first;
    TimePoint now{};  // the strips end here
};

struct TerminalSize {
    int rows = 24;
    int columns = 80;
};

struct LiveStyle {
    bool colour = false;   // ANSI colours (a terminal, and NO_COLOR unset or empty)
    bool unicode = false;  // block characters for the bars and strips (a UTF-8 locale)
};

/// How many download lines a frame of `downloads` has on a terminal of `rows`: all of them if they fit
/// under the header, else as many as leave room for the line that sums up the rest. The frame keeps one
/// row free, so that it never scrolls its own first line away.
std::size_t live_lines_for(std::size_t downloads, int rows) noexcept;

/// The frame's lines, each at most `size.columns - 1` characters wide on screen (colour codes aside),
/// without line ends: the header, a line per download in `snapshot.first`, and a line for the rest when
/// there are more downloads than lines.
std::vector<std::string> render_live_frame(const LiveSnapshot& snapshot, TerminalSize size, LiveStyle style);

/// The seconds each cell of a strip stands for: one redraw's worth at the most frequent redraws.
inline constexpr Seconds strip_cell{0.1};

}  // namespace poetry::client
