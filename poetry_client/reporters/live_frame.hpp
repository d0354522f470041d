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

/// A download's bytes in each of its last `cells` strip cells, cell k being [k, k + 1) x strip_cell
/// after the run's start: the last 4 s at a fixed size, however fast the chunks come.
class ChunkStrip {
public:
    static constexpr std::size_t cells = 40;

    /// Counts `bytes` in `cell`; a cell older than the last `cells` is dropped.
    void add(std::int64_t cell, std::size_t bytes) noexcept;
    /// The bytes that came during `cell`: zero for one older than the last `cells`, or still to come.
    [[nodiscard]] std::size_t bytes_in(std::int64_t cell) const noexcept;

private:
    std::array<std::uint32_t, cells> bytes_{};  // cell k at k % cells; saturates rather than wraps
    std::int64_t newest_ = -1;
};

/// The strip cell of time `at` in a run that started at `start`.
std::int64_t strip_cell_of(TimePoint start, TimePoint at) noexcept;

/// What a line shows of one download.
struct LiveDownload {
    const Download* download = nullptr;
    LiveState state = LiveState::waiting;
    std::size_t bytes = 0;
    ChunkStrip strip;
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
    std::int64_t now_cell = 0;  // the strips end with this cell
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
