#include "reporters/timeline_svg.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>

namespace poetry::client {
namespace {

// The page, in SVG user units (pixels). Lane labels ("Task 10000 [2001:db8::1]:65535") fit on the left.
constexpr double width = 1000;
constexpr double plot_left = 230;
constexpr double plot_width = 740;
constexpr double header_height = 52;  // the title and the legend
constexpr double panel_title_height = 22;
constexpr double lane_height = 16;
constexpr double note_height = 16;
constexpr double panel_gap = 12;
constexpr double axis_height = 46;  // ticks, their labels and the axis caption
constexpr double bar_height = 12;   // the tallest chunk bar: the largest chunk in the picture
constexpr double bar_width = 2;
constexpr double char_width = 6.7;  // of the 11 px monospace font, to lay out the key
constexpr double cpu_height = 10;   // the CPU strip under a panel's lanes: full height is every core
constexpr double cpu_gap = 4;       // between the last lane (or the note) and the strip
// The strip is drawn in slices of the axis this many to the plot's width (2 px), so that a long run's
// thousands of 20 ms samples stay one short path.
constexpr std::size_t cpu_slices = 370;
constexpr std::string_view cpu_colour = "#555";

// A lane with more chunks than this merges those that fall in the same slice of the axis into one bar
// (class "chunks"): beyond a few hundred, the bars would overlap anyway, and the file would grow with
// every chunk of a long download.
constexpr std::size_t max_marks_per_lane = 370;

// d3's category10 without its red, which marks failures. Cycles by task number, so a download keeps its
// colour in every panel.
constexpr std::array<std::string_view, 9> palette{"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                                  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr std::string_view failure_colour = "#d62728";

/// A coordinate with one decimal: enough for a screen, and it keeps the file small.
struct Px {
    double value;
};

std::ostream& operator<<(std::ostream& out, Px px) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.1f", px.value);
    return out << text;
}

/// Text for an XML text node or attribute. Characters XML 1.0 forbids (control characters) become '?',
/// so that an odd byte in a name cannot make the whole file unreadable.
std::string escape_xml(std::string_view text) {
    std::string escaped;
    escaped.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&':
                escaped += "&amp;";
                break;
            case '<':
                escaped += "&lt;";
                break;
            case '>':
                escaped += "&gt;";
                break;
            case '"':
                escaped += "&quot;";
                break;
            case '\'':
                escaped += "&apos;";
                break;
            default:
                const auto byte = static_cast<unsigned char>(c);
                escaped += (byte < 0x20 && c != '\t' && c != '\n' && c != '\r') ? '?' : c;
        }
    }
    return escaped;
}

std::string seconds_text(double seconds, int decimals) {
    char text[48];
    std::snprintf(text, sizeof(text), "%.*f", decimals, seconds);
    return text;
}

/// A tick step of 1, 2 or 5 times a power of ten that gives at most about ten ticks over `span`.
double tick_step(double span) {
    const double rough = span / 10;
    const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
    for (const double factor : {1.0, 2.0, 5.0}) {
        if (rough <= factor * magnitude) {
            return factor * magnitude;
        }
    }
    return 10 * magnitude;
}

/// Maps seconds since a strategy's start to x, the same for every panel.
class TimeAxis {
public:
    explicit TimeAxis(double span) : span_(span) {}
    [[nodiscard]] double span() const noexcept { return span_; }
    [[nodiscard]] double x(TimePoint at, TimePoint start) const noexcept {
        return plot_left + std::clamp(Seconds(at - start).count() / span_, 0.0, 1.0) * plot_width;
    }

private:
    double span_;
};

/// Fixed across panels, so that every panel's chunk bars and CPU strips compare.
struct Scales {
    TimeAxis axis;
    std::uint32_t largest_chunk;
    std::size_t max_lanes;
    unsigned cores;  // a full CPU strip: every core of the machine busy
};

std::size_t lanes_drawn(const RunReport& report, std::size_t max_lanes) {
    return std::min(report.results.size(), max_lanes);
}

double panel_height(const RunReport& report, std::size_t max_lanes) {
    const bool note = report.results.size() > max_lanes;
    const bool cpu = !report.cpu_trace.empty();
    return panel_title_height + static_cast<double>(lanes_drawn(report, max_lanes)) * lane_height +
           (note ? note_height : 0) + (cpu ? cpu_gap + cpu_height : 0) + panel_gap;
}

/// The CPU strip: a grey band as wide as the run, and in it a step area whose height is the CPU use of
/// each slice of the axis, from 0 to every core (a dashed line marks one core when there are more).
/// One <path class="cpu"> of M, V and H commands only: "M x0 bottom", then "V y" for each change of height
/// and "H x" to where that height ends, then back down: "V bottom Z".
void write_cpu_strip(std::ostream& out, const RunReport& report, double top, const Scales& scales) {
    const CpuTrace& trace = report.cpu_trace;
    const double bottom = top + cpu_height;
    const TimePoint start = report.started;
    const TimePoint end = start + std::chrono::duration_cast<Clock::duration>(report.wall);
    const double x_end = scales.axis.x(end, start);
    out << "<g class=\"cpu-strip\" data-cores=\"" << scales.cores << "\">";
    out << "<text x=\"" << Px{plot_left - 8} << "\" y=\"" << Px{bottom} << "\" text-anchor=\"end\">CPU</text>";
    out << "<rect class=\"cpu-band\" x=\"" << Px{plot_left} << "\" y=\"" << Px{top} << "\" width=\""
        << Px{std::max(x_end - plot_left, 0.0)} << "\" height=\"" << Px{cpu_height} << "\"/>";
    const double slice_seconds = scales.axis.span() / static_cast<double>(cpu_slices);
    out << "<path class=\"cpu\" d=\"M" << Px{plot_left} << ' ' << Px{bottom};
    double y = bottom;
    double x = plot_left;  // where the current height began to be drawn ...
    double x_to = plot_left;  // ... and how far it goes
    for (std::size_t k = 0; k < cpu_slices; ++k) {
        const TimePoint from = start + std::chrono::duration_cast<Clock::duration>(
                                           Seconds(static_cast<double>(k) * slice_seconds));
        if (from >= end) {
            break;
        }
        const TimePoint to = std::min(end, start + std::chrono::duration_cast<Clock::duration>(
                                                       Seconds(static_cast<double>(k + 1) * slice_seconds)));
        const double cores =
            std::clamp(trace.cores_between(from, to).value_or(0), 0.0, static_cast<double>(scales.cores));
        // Rounded as it is written, so that slices of one height merge into one H.
        const double height = std::round(cpu_height * cores / scales.cores * 10) / 10;
        if (bottom - height != y) {
            if (x_to > x) {
                out << 'H' << Px{x_to};
            }
            y = bottom - height;
            x = x_to;
            out << 'V' << Px{y};
        }
        x_to = scales.axis.x(to, start);
    }
    out << 'H' << Px{x_to};
    out << 'V' << Px{bottom} << "Z\"/>";
    if (scales.cores > 1) {
        const double one_core = bottom - cpu_height / scales.cores;
        out << "<line x1=\"" << Px{plot_left} << "\" y1=\"" << Px{one_core} << "\" x2=\"" << Px{x_end}
            << "\" y2=\"" << Px{one_core} << "\" stroke=\"#999\" stroke-dasharray=\"1 2\"/>";
    }
    out << "</g>\n";
}

void write_chunks(std::ostream& out, const DownloadLog& log, TimePoint start, double y_bottom,
                  const Scales& scales) {
    const auto bar = [&](double x, double bytes) {
        const double height = std::clamp(bar_height * bytes / scales.largest_chunk, 1.0, bar_height);
        out << " x=\"" << Px{x - bar_width / 2} << "\" y=\"" << Px{y_bottom - height} << "\" width=\""
            << Px{bar_width} << "\" height=\"" << Px{height} << "\"/>";
    };
    if (log.chunks.size() <= max_marks_per_lane) {
        for (const auto& chunk : log.chunks) {
            out << "<rect class=\"chunk\"";
            bar(scales.axis.x(chunk.at, start), chunk.bytes);
        }
        return;
    }
    // Crowded: one bar per slice of the axis, as tall as the slice's bytes allow (capped at a lane).
    const double slice = plot_width / static_cast<double>(max_marks_per_lane);
    std::size_t i = 0;
    while (i < log.chunks.size()) {
        const auto bin = std::floor((scales.axis.x(log.chunks[i].at, start) - plot_left) / slice);
        double bytes = 0;
        std::size_t count = 0;
        for (; i < log.chunks.size() &&
               std::floor((scales.axis.x(log.chunks[i].at, start) - plot_left) / slice) == bin;
             ++i) {
            bytes += log.chunks[i].bytes;
            ++count;
        }
        out << "<rect class=\"chunks\" data-chunks=\"" << count << "\"";
        bar(plot_left + (bin + 0.5) * slice, bytes);
    }
}

/// One download's lane: its label, a dashed line while it connects, a line while it waits, a bar per
/// chunk, a ring at connect and a dot at the end (a red cross when it did not end whole).
void write_lane(std::ostream& out, const DownloadResult& result, const DownloadLog& log, TimePoint start,
                double top, const Scales& scales) {
    const double middle = top + lane_height / 2;
    const std::string_view colour =
        palette[static_cast<std::size_t>(std::max(result.task - 1, 0)) % palette.size()];
    out << "<g class=\"lane\" fill=\"" << colour << "\" stroke=\"" << colour << "\">";
    out << "<text x=\"" << Px{plot_left - 8} << "\" y=\"" << Px{middle + 4} << "\" text-anchor=\"end\">Task "
        << result.task << ' ' << escape_xml(result.address.to_string()) << "</text>";

    const TimePoint finished = log.finished.value_or(result.finished);
    const double x_start = scales.axis.x(result.started, start);
    const double x_end = scales.axis.x(finished, start);
    const double x_connect = log.connected ? scales.axis.x(*log.connected, start) : x_end;
    out << "<line class=\"attempt\" x1=\"" << Px{x_start} << "\" y1=\"" << Px{middle} << "\" x2=\""
        << Px{x_connect} << "\" y2=\"" << Px{middle} << "\"/>";
    if (log.connected) {
        out << "<line class=\"wait\" x1=\"" << Px{x_connect} << "\" y1=\"" << Px{middle} << "\" x2=\""
            << Px{x_end} << "\" y2=\"" << Px{middle} << "\"/>";
    }
    write_chunks(out, log, start, middle + bar_height / 2, scales);
    if (log.connected) {
        out << "<circle class=\"connect\" cx=\"" << Px{x_connect} << "\" cy=\"" << Px{middle}
            << "\" r=\"3\"/>";
    }
    if (log.status == DownloadStatus::complete) {
        out << "<circle class=\"finish\" cx=\"" << Px{x_end} << "\" cy=\"" << Px{middle} << "\" r=\"3.5\"/>";
    } else {
        out << "<path class=\"fail\" d=\"M" << Px{x_end - 4} << ' ' << Px{middle - 4} << "l8 8m0-8l-8 8\"/>";
    }
    out << "</g>\n";
}

void write_panel(std::ostream& out, const RunReport& report, const RunLog& log, double top,
                 const Scales& scales) {
    out << "<g class=\"panel\">\n";
    const std::string title = report.strategy + " \u2014 " + seconds_text(report.wall.count(), 2) +
                              " s wall, " + seconds_text(report.cpu.total().count(), 2) + " s CPU, " +
                              std::to_string(report.complete()) + " of " +
                              std::to_string(report.results.size()) + " complete";
    out << "<text class=\"title\" x=\"" << Px{plot_left} << "\" y=\"" << Px{top + 15} << "\">"
        << escape_xml(title) << "</text>\n";
    const std::size_t drawn = lanes_drawn(report, scales.max_lanes);
    double lane_top = top + panel_title_height;
    for (std::size_t i = 0; i < drawn && i < log.size(); ++i, lane_top += lane_height) {
        write_lane(out, report.results[i], log[i], report.started, lane_top, scales);
    }
    if (report.results.size() > drawn) {
        out << "<text class=\"more\" x=\"" << Px{plot_left} << "\" y=\"" << Px{lane_top + 12} << "\">"
            << "\u2026 and " << report.results.size() - drawn << " more downloads not shown</text>\n";
        lane_top += note_height;
    }
    if (!report.cpu_trace.empty()) {
        write_cpu_strip(out, report, lane_top + cpu_gap, scales);
    }
    out << "</g>\n";
}

/// Grid lines through every panel, and the tick labels under the last.
void write_axis(std::ostream& out, const TimeAxis& axis, double top, double bottom) {
    const double step = tick_step(axis.span());
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    out << "<g class=\"axis\">\n";
    out << "<line x1=\"" << Px{plot_left} << "\" y1=\"" << Px{bottom} << "\" x2=\""
        << Px{plot_left + plot_width} << "\" y2=\"" << Px{bottom} << "\" stroke=\"#444\"/>\n";
    for (int k = 0; k * step <= axis.span() * (1 + 1e-9); ++k) {
        const double x = plot_left + k * step / axis.span() * plot_width;
        out << "<line x1=\"" << Px{x} << "\" y1=\"" << Px{top} << "\" x2=\"" << Px{x} << "\" y2=\""
            << Px{bottom} << "\" stroke=\"#e4e4e4\"/>";
        out << "<line x1=\"" << Px{x} << "\" y1=\"" << Px{bottom} << "\" x2=\"" << Px{x} << "\" y2=\""
            << Px{bottom + 5} << "\" stroke=\"#444\"/>";
        out << "<text x=\"" << Px{x} << "\" y=\"" << Px{bottom + 17} << "\" text-anchor=\"middle\">"
            << seconds_text(k * step, decimals) << "</text>\n";
    }
    out << "<text x=\"" << Px{plot_left + plot_width / 2} << "\" y=\"" << Px{bottom + 34}
        << "\" text-anchor=\"middle\">seconds since each strategy's start</text>\n";
    out << "</g>\n";
}

/// The title and a key to the marks (drawn without the classes the marks carry, so that counting marks
/// by class counts only the run's).
void write_header(std::ostream& out, std::span<const RunReport> reports, std::uint32_t largest_chunk,
                  unsigned cores) {
    const std::size_t downloads = reports.empty() ? 0 : reports.front().results.size();
    out << "<text class=\"title\" x=\"10\" y=\"18\">poetry_client timeline: " << downloads
        << (downloads == 1 ? " download" : " downloads") << ", "
        << (reports.size() == 1 ? "1 strategy" : std::to_string(reports.size()) + " strategies")
        << "</text>\n";
    const double y = 38;
    const std::string marks[] = {
        "<line x1=\"0\" y1=\"0\" x2=\"16\" y2=\"0\" stroke-dasharray=\"2 2\"/>",
        "<circle cx=\"8\" cy=\"0\" r=\"3\" fill=\"#fff\" stroke-width=\"1.5\"/>",
        "<rect x=\"7\" y=\"-6\" width=\"2\" height=\"12\" stroke=\"none\"/>",
        "<circle cx=\"8\" cy=\"0\" r=\"3.5\" stroke=\"none\"/>",
        std::string("<path d=\"M4 -4l8 8m0-8l-8 8\" stroke=\"") + std::string(failure_colour) +
            "\" stroke-width=\"2\"/>",
    };
    const std::string words[] = {
        "connecting",
        "connected",
        "a chunk, as tall as its bytes (full height " + std::to_string(largest_chunk) + " bytes)",
        "complete",
        "failed or partial",
    };
    out << "<g class=\"key\" fill=\"#444\" stroke=\"#444\">";
    double x = 10;
    for (std::size_t i = 0; i < std::size(marks); ++i) {
        out << "<g transform=\"translate(" << Px{x} << ' ' << Px{y} << ")\">" << marks[i]
            << "<text x=\"20\" y=\"4\">" << escape_xml(words[i]) << "</text></g>";
        x += 20 + static_cast<double>(words[i].size()) * char_width + 18;
    }
    out << "</g>\n";
    // The CPU strip's key, right of the title (the marks' row is full).
    if (std::any_of(reports.begin(), reports.end(), [](const auto& r) { return !r.cpu_trace.empty(); })) {
        const std::string cpu_words =
            "the process's CPU use, sampled every " +
            std::to_string(CpuSampler::default_interval.count()) + " ms: full height " +
            std::to_string(cores) + (cores == 1 ? " core" : " cores (dotted: one)");
        out << "<g class=\"key\" fill=\"#444\" stroke=\"#444\"><g transform=\"translate(430 14)\">"
            << "<rect x=\"0\" y=\"-6\" width=\"16\" height=\"10\" fill=\"#f0f0f0\" stroke=\"none\"/>"
            << "<rect x=\"0\" y=\"-1\" width=\"16\" height=\"5\" fill=\"" << cpu_colour
            << "\" stroke=\"none\"/><text x=\"20\" y=\"4\">" << escape_xml(cpu_words) << "</text></g></g>\n";
    }
}

}  // namespace

void write_timeline_svg(std::ostream& out, std::span<const RunReport> reports, std::span<const RunLog> logs,
                        std::size_t max_lanes) {
    std::uint32_t largest_chunk = 1;
    for (std::size_t r = 0; r < reports.size() && r < logs.size(); ++r) {
        const std::size_t drawn = std::min(logs[r].size(), lanes_drawn(reports[r], max_lanes));
        for (std::size_t i = 0; i < drawn; ++i) {
            for (const auto& chunk : logs[r][i].chunks) {
                largest_chunk = std::max(largest_chunk, chunk.bytes);
            }
        }
    }
    const Scales scales{TimeAxis(timeline_span_seconds(reports, logs)), largest_chunk, max_lanes,
                        std::max(1U, std::thread::hardware_concurrency())};

    double height = header_height;
    for (const auto& report : reports) {
        height += panel_height(report, max_lanes);
    }
    const double axis_top = header_height;
    const double axis_bottom = height;
    height += axis_height;

    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << Px{height}
        << "\" viewBox=\"0 0 " << width << ' ' << Px{height} << "\">\n"
        << "<title>poetry_client timeline</title>\n"
        << "<style>\n"
        << "text{font-family:monospace;font-size:11px;fill:#222;stroke:none}\n"
        << ".title{font-size:12px;font-weight:bold}\n"
        << ".more{font-style:italic}\n"
        << ".attempt{stroke-dasharray:2 2;stroke-width:1}\n"
        << ".wait{stroke-width:1;stroke-opacity:.45}\n"
        << ".chunk,.chunks{stroke:none}\n"
        << ".connect{fill:#fff;stroke-width:1.5}\n"
        << ".finish{stroke:none}\n"
        << ".fail{stroke:" << failure_colour << ";stroke-width:2;fill:none}\n"
        << ".cpu-band{fill:#f0f0f0}\n"
        << ".cpu{fill:" << cpu_colour << ";stroke:none}\n"
        << "</style>\n"
        << "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
    write_header(out, reports, largest_chunk, scales.cores);
    write_axis(out, scales.axis, axis_top, axis_bottom);
    double top = header_height;
    for (std::size_t r = 0; r < reports.size() && r < logs.size(); ++r) {
        write_panel(out, reports[r], logs[r], top, scales);
        top += panel_height(reports[r], max_lanes);
    }
    out << "</svg>\n";
}

}  // namespace poetry::client
