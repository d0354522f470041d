#include "reporters/live_frame.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

namespace poetry::client {
namespace {

constexpr std::size_t most_label_width = 28;  // "fascination 127.0.0.1:65535"
constexpr std::size_t least_label_width = 12;
constexpr std::size_t state_width = 11;  // "interrupted"
constexpr std::size_t bytes_width = 17;  // "123,456/123,456 B"
constexpr std::size_t most_strip_cells = ChunkStrip::cells;

/// How wide a download line's columns are at a screen width: on a narrow screen the bar and the label
/// shrink before anything is cut (80 columns show all but the strip), and the strip takes what is left.
struct Columns {
    std::size_t label = most_label_width;
    std::size_t bar = 20;  // cells inside the bar's two ends
    std::size_t strip = 0;
};

Columns columns_for(std::size_t width) {
    // The task, the state, the bar's ends, the bytes and the gaps between them: all but label, bar and strip.
    constexpr std::size_t rest = 5 + 2 + 2 + state_width + 2 + 2 + 2 + bytes_width;
    Columns columns;
    if (width < rest + columns.bar + most_label_width + 2 + 10) {
        columns.bar = 10;  // too narrow for a wide bar, the whole label and a few seconds of strip
    }
    const std::size_t room = width > rest + columns.bar ? width - rest - columns.bar : 0;
    columns.label = std::clamp(room, least_label_width, most_label_width);
    const std::size_t used = rest + columns.bar + columns.label + 2;
    columns.strip = width > used ? std::min(most_strip_cells, width - used) : 0;
    return columns;
}

/// Whether `byte` begins a UTF-8 character (rather than continuing one): what a column on screen counts.
constexpr bool starts_character(char byte) noexcept {
    return (static_cast<unsigned char>(byte) & 0xC0U) != 0x80U;
}

/// The first `width` characters of `text` (UTF-8 characters, not bytes).
std::string first_characters(const std::string& text, std::size_t width) {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (starts_character(text[i]) && seen++ == width) {
            return text.substr(0, i);
        }
    }
    return text;
}

// ANSI SGR codes: the state's colour on its word and bar; dim for what has not begun.
const char* colour_of(LiveState state) noexcept {
    switch (state) {
        case LiveState::waiting:
            return "2";
        case LiveState::connecting:
            return "33";
        case LiveState::receiving:
            return "36";
        case LiveState::complete:
            return "32";
        case LiveState::partial:
            return "35";
        case LiveState::failed:
            return "31";
        case LiveState::interrupted:
            return "35";
    }
    return nullptr;
}

/// A line no wider than the screen allows: text past the width is cut, and colour codes (which take no
/// room) are only written around text that made it in.
class ScreenLine {
public:
    ScreenLine(std::size_t width, bool colour) : width_(width), colour_(colour) {}

    void add(std::string_view text, const char* colour = nullptr) {
        const std::size_t before = text_.size();
        if (colour_ && colour != nullptr) {
            text_ += "\x1b[";
            text_ += colour;
            text_ += 'm';
        }
        const std::size_t codes = text_.size();
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (starts_character(text[i])) {
                if (used_ == width_) {
                    break;
                }
                ++used_;
            }
            text_ += text[i];
        }
        if (text_.size() == codes) {
            text_.resize(before);  // nothing fitted: no colour codes around nothing
        } else if (colour_ && colour != nullptr) {
            text_ += "\x1b[0m";
        }
    }
    void pad(std::string_view text, std::size_t width, const char* colour = nullptr) {
        add(text, colour);
        const std::size_t length = characters(text);
        if (length < width) {
            add(std::string(width - length, ' '));
        }
    }
    std::string take() { return std::move(text_); }

    static std::size_t characters(std::string_view text) noexcept {
        return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), starts_character));
    }

private:
    std::size_t width_;
    bool colour_;
    std::size_t used_ = 0;
    std::string text_;
};

/// "12,345".
std::string with_commas(std::size_t n) {
    std::string digits = std::to_string(n);
    for (auto i = static_cast<std::ptrdiff_t>(digits.size()) - 3; i > 0; i -= 3) {
        digits.insert(static_cast<std::size_t>(i), ",");
    }
    return digits;
}

/// "850 B/s", "12.3 kB/s", "1.25 MB/s".
std::string rate_text(double bytes_per_second) {
    char text[32];
    if (bytes_per_second < 1e3) {
        std::snprintf(text, sizeof(text), "%.0f B/s", bytes_per_second);
    } else if (bytes_per_second < 1e6) {
        std::snprintf(text, sizeof(text), "%.1f kB/s", bytes_per_second / 1e3);
    } else {
        std::snprintf(text, sizeof(text), "%.2f MB/s", bytes_per_second / 1e6);
    }
    return text;
}

std::string header(const LiveSnapshot& snapshot) {
    const auto count = [&snapshot](LiveState state) {
        return snapshot.in_state[static_cast<std::size_t>(state)];
    };
    const std::size_t done = count(LiveState::complete) + count(LiveState::partial) +
                             count(LiveState::failed) + count(LiveState::interrupted);
    const double elapsed = snapshot.elapsed.count();
    char text[160];
    std::snprintf(text, sizeof(text), "%.*s  %.1f s  %zu/%zu done  ",
                  static_cast<int>(snapshot.strategy.size()), snapshot.strategy.data(), elapsed, done,
                  snapshot.downloads);
    std::string line = text;
    line += rate_text(elapsed > 0 ? static_cast<double>(snapshot.bytes) / elapsed : 0.0);
    std::snprintf(text, sizeof(text), "  CPU %.2f s (%.0f%%)", snapshot.cpu.count(),
                  elapsed > 0 ? 100.0 * snapshot.cpu.count() / elapsed : 0.0);
    line += text;
    for (const LiveState state : {LiveState::partial, LiveState::failed, LiveState::interrupted}) {
        if (count(state) > 0) {
            line += "  " + std::to_string(count(state)) + " " + std::string(to_string(state));
        }
    }
    return line;
}

std::string label_of(const Download& download) {
    std::string address = download.address.to_string();
    return download.name ? *download.name + " " + address : address;
}

std::string bar(const LiveDownload& line, std::size_t bar_cells, LiveStyle style) {
    if (!line.download->expected_size) {
        return std::string(bar_cells + 2, ' ');
    }
    const std::size_t expected = std::max<std::size_t>(*line.download->expected_size, 1);
    const std::size_t filled = std::min(bar_cells, line.bytes * bar_cells / expected);
    std::string text;
    if (style.unicode) {
        text += "\u2595";  // a thin edge, so that an empty bar is still seen as one
        for (std::size_t i = 0; i < bar_cells; ++i) {
            text += i < filled ? "\u2588" : "\u2591";
        }
        text += "\u258f";
    } else {
        text = "[" + std::string(filled, '#') + std::string(bar_cells - filled, '.') + "]";
    }
    return text;
}

std::string bytes_text(const LiveDownload& line) {
    if (line.download->expected_size) {
        return with_commas(line.bytes) + "/" + with_commas(*line.download->expected_size) + " B";
    }
    return with_commas(line.bytes) + " B";
}

/// The bytes in each strip cell of each line, oldest cell first; the largest of them all scales them.
struct Strips {
    std::vector<std::vector<std::size_t>> cells;
    std::size_t largest = 0;
};

Strips measure_strips(const LiveSnapshot& snapshot, std::size_t width) {
    Strips strips;
    for (const auto& line : snapshot.first) {
        auto& cells = strips.cells.emplace_back(width, 0);
        for (std::size_t i = 0; i < width; ++i) {
            cells[i] = line.strip.bytes_in(snapshot.now_cell - static_cast<std::int64_t>(width - 1 - i));
            strips.largest = std::max(strips.largest, cells[i]);
        }
    }
    return strips;
}

std::string strip_text(const std::vector<std::size_t>& cells, std::size_t largest, LiveStyle style) {
    static constexpr std::array<std::string_view, 9> blocks{" ",      "\u2581", "\u2582", "\u2583", "\u2584",
                                                            "\u2585", "\u2586", "\u2587", "\u2588"};
    static constexpr std::string_view ascii = " .:-=+*#@";
    std::string text;
    for (const std::size_t bytes : cells) {
        std::size_t level = 0;
        if (bytes > 0 && largest > 0) {
            level = std::clamp<std::size_t>((bytes * 8 + largest - 1) / largest, 1, 8);
        }
        if (style.unicode) {
            text += blocks[level];
        } else {
            text += ascii[level];
        }
    }
    return text;
}

std::string rest_line(const LiveSnapshot& snapshot) {
    std::array<std::size_t, live_state_count> rest = snapshot.in_state;
    for (const auto& line : snapshot.first) {
        auto& n = rest[static_cast<std::size_t>(line.state)];
        n -= std::min<std::size_t>(n, 1);
    }
    std::string text = "  ... " + with_commas(snapshot.downloads - snapshot.first.size()) + " more:";
    const char* separator = " ";
    for (std::size_t s = 0; s < rest.size(); ++s) {
        if (rest[s] > 0) {
            text +=
                separator + with_commas(rest[s]) + " " + std::string(to_string(static_cast<LiveState>(s)));
            separator = ", ";
        }
    }
    return text;
}

}  // namespace

std::string_view to_string(LiveState state) noexcept {
    switch (state) {
        case LiveState::waiting:
            return "waiting";
        case LiveState::connecting:
            return "connecting";
        case LiveState::receiving:
            return "receiving";
        case LiveState::complete:
            return "complete";
        case LiveState::partial:
            return "partial";
        case LiveState::failed:
            return "failed";
        case LiveState::interrupted:
            return "interrupted";
    }
    return "failed";
}

LiveState live_state_of(DownloadStatus status) noexcept {
    switch (status) {
        case DownloadStatus::complete:
            return LiveState::complete;
        case DownloadStatus::partial:
            return LiveState::partial;
        case DownloadStatus::interrupted:
            return LiveState::interrupted;
        case DownloadStatus::failed:
            break;
    }
    return LiveState::failed;
}

void ChunkStrip::add(std::int64_t cell, std::size_t bytes) noexcept {
    constexpr auto span = static_cast<std::int64_t>(cells);
    if (cell > newest_) {
        // The cells since the newest count again from zero (all of them after a long silence).
        for (std::int64_t k = std::max(newest_ + 1, cell - span + 1); k <= cell; ++k) {
            bytes_[static_cast<std::size_t>(k % span)] = 0;
        }
        newest_ = cell;
    } else if (cell <= newest_ - span || cell < 0) {
        return;
    }
    auto& count = bytes_[static_cast<std::size_t>(cell % span)];
    count = static_cast<std::uint32_t>(std::min<std::size_t>(count + bytes, UINT32_MAX));
}

std::size_t ChunkStrip::bytes_in(std::int64_t cell) const noexcept {
    constexpr auto span = static_cast<std::int64_t>(cells);
    if (cell < 0 || cell > newest_ || cell <= newest_ - span) {
        return 0;
    }
    return bytes_[static_cast<std::size_t>(cell % span)];
}

std::int64_t strip_cell_of(TimePoint start, TimePoint at) noexcept {
    if (at <= start) {
        return 0;
    }
    return static_cast<std::int64_t>((at - start) / std::chrono::duration_cast<Clock::duration>(strip_cell));
}

std::size_t live_lines_for(std::size_t downloads, int rows) noexcept {
    // Rows: the header, the download lines, maybe the rest's line, and one kept free.
    const std::size_t room = rows > 3 ? static_cast<std::size_t>(rows - 2) : 0;
    if (downloads <= room) {
        return downloads;
    }
    return room > 0 ? room - 1 : 0;
}

std::vector<std::string> render_live_frame(const LiveSnapshot& snapshot, TerminalSize size, LiveStyle style) {
    const std::size_t width = size.columns > 1 ? static_cast<std::size_t>(size.columns - 1) : 0;
    std::vector<std::string> lines;
    ScreenLine top(width, style.colour);
    top.add(header(snapshot), "1");
    lines.push_back(top.take());

    const Columns columns = columns_for(width);
    const Strips strips = measure_strips(snapshot, columns.strip);
    for (std::size_t i = 0; i < snapshot.first.size(); ++i) {
        const LiveDownload& download = snapshot.first[i];
        const char* colour = colour_of(download.state);
        ScreenLine line(width, style.colour);
        char task[16];
        std::snprintf(task, sizeof(task), "%5d  ", download.download->task);
        line.add(task);
        line.pad(first_characters(label_of(*download.download), columns.label), columns.label + 2);
        line.pad(to_string(download.state), state_width + 2, colour);
        line.add(bar(download, columns.bar, style), colour);
        const std::string bytes = bytes_text(download);
        line.add("  " + std::string(bytes_width > bytes.size() ? bytes_width - bytes.size() : 0, ' ') +
                 bytes + "  ");
        line.add(strip_text(strips.cells[i], strips.largest, style), colour);
        lines.push_back(line.take());
    }
    if (snapshot.first.size() < snapshot.downloads && static_cast<int>(lines.size()) + 1 < size.rows) {
        ScreenLine rest(width, style.colour);
        rest.add(rest_line(snapshot));
        lines.push_back(rest.take());
    }
    return lines;
}

}  // namespace poetry::client
