#include "reporters/timeline_text.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace poetry::client {
namespace {

constexpr std::size_t ruler_step = 10;  // a time label every this many columns
constexpr std::string_view cpu_label = "CPU";

std::string format(const char* pattern, double value) {
    char text[64];
    std::snprintf(text, sizeof(text), pattern, value);
    return text;
}

std::string label_of(const DownloadResult& result) {
    return "Task " + std::to_string(result.task) + " " + result.address.to_string();
}

/// The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) that is at least
/// `seconds`: a column that wide puts the ruler's labels on round numbers, and leaves at most a quarter
/// of the row unused.
double round_up(double seconds) {
    const double magnitude = std::pow(10.0, std::floor(std::log10(seconds)));
    for (const double factor : {1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0}) {
        if (seconds <= factor * magnitude * (1 + 1e-9)) {
            return factor * magnitude;
        }
    }
    return 10 * magnitude;
}

/// Maps seconds since a strategy's start to a column, the same for every strategy.
class Columns {
public:
    explicit Columns(double span) : seconds_(round_up(span / text_timeline_columns)) {}
    [[nodiscard]] double seconds() const noexcept { return seconds_; }
    [[nodiscard]] std::size_t of(TimePoint at, TimePoint start) const noexcept {
        const double column = std::floor(Seconds(at - start).count() / seconds_);
        return static_cast<std::size_t>(std::clamp(column, 0.0, double{text_timeline_columns - 1}));
    }

private:
    double seconds_;
};

/// One download's row (without its label).
std::string row_of(const DownloadResult& result, const DownloadLog& log, TimePoint start,
                   const Columns& columns) {
    std::vector<std::size_t> chunks_in;  // per column
    const auto cell = [&chunks_in](std::size_t column) -> std::size_t& {
        if (chunks_in.size() <= column) {
            chunks_in.resize(column + 1, 0);
        }
        return chunks_in[column];
    };
    std::optional<std::size_t> connect;
    if (log.connected) {
        connect = columns.of(*log.connected, start);
    }
    // The earliest column the end may take: after the connect and after every chunk.
    std::size_t end_at_least = connect ? *connect + 1 : 0;
    for (const auto& chunk : log.chunks) {
        const std::size_t column = std::max(columns.of(chunk.at, start), connect ? *connect + 1 : 0);
        ++cell(column);
        end_at_least = std::max(end_at_least, column + 1);
    }
    const std::size_t end = std::max(columns.of(log.finished.value_or(result.finished), start), end_at_least);

    std::string row(end + 1, ' ');
    if (connect) {
        row[*connect] = 'c';
        std::fill(row.begin() + static_cast<std::ptrdiff_t>(*connect) + 1,
                  row.begin() + static_cast<std::ptrdiff_t>(end), '.');
    }
    for (std::size_t column = 0; column < chunks_in.size(); ++column) {
        if (const std::size_t n = chunks_in[column]; n > 0) {
            row[column] = n > 9 ? '+' : static_cast<char>('0' + n);
        }
    }
    row[end] = log.status == DownloadStatus::complete ? '|' : 'x';
    return row;
}

/// The CPU row's marks for a share of one core: blank below 5%, then . : - = up to 95%, # from 95% (and
/// for more than one core, which only child processes reach).
char cpu_mark(double cores) {
    constexpr std::string_view marks = " .:-=#";
    constexpr double below[] = {0.05, 0.25, 0.50, 0.75, 0.95};
    std::size_t level = 0;
    while (level < std::size(below) && cores >= below[level]) {
        ++level;
    }
    return marks[level];
}

/// The run's CPU use, a mark per column from its start to its end, then '|'. Empty without a trace.
std::string cpu_row(const RunReport& report, const Columns& columns) {
    if (report.cpu_trace.empty()) {
        return {};
    }
    const TimePoint end = report.started + std::chrono::duration_cast<Clock::duration>(report.wall);
    const std::size_t last = columns.of(end, report.started);
    const auto column_time = [&](std::size_t column) {
        return report.started + std::chrono::duration_cast<Clock::duration>(
                                    Seconds(static_cast<double>(column) * columns.seconds()));
    };
    std::string row;
    for (std::size_t column = 0; column <= last; ++column) {
        const auto cores = report.cpu_trace.cores_between(column_time(column), column_time(column + 1));
        row += cpu_mark(cores.value_or(0));
    }
    return row + '|';
}

/// Time labels every ruler_step columns, starting at the first column of the rows.
std::string ruler(const Columns& columns) {
    const double step = columns.seconds() * ruler_step;
    // Enough decimals for the step (0.25 s needs two, 0.5 s one).
    int decimals = 0;
    while (decimals < 6 &&
           std::abs(step * std::pow(10.0, decimals) - std::round(step * std::pow(10.0, decimals))) > 1e-6) {
        ++decimals;
    }
    std::string line;
    for (std::size_t column = 0; column <= text_timeline_columns; column += ruler_step) {
        line.resize(column, ' ');
        char text[48];
        std::snprintf(text, sizeof(text), "%.*f", decimals, static_cast<double>(column) * columns.seconds());
        line += text;
    }
    return line + " s";
}

}  // namespace

void write_timeline_text(std::ostream& out, std::span<const RunReport> reports, std::span<const RunLog> logs,
                         std::size_t max_rows) {
    std::size_t label_width = cpu_label.size();
    for (std::size_t r = 0; r < reports.size() && r < logs.size(); ++r) {
        const std::size_t rows = std::min(reports[r].results.size(), max_rows);
        for (std::size_t i = 0; i < rows; ++i) {
            label_width = std::max(label_width, label_of(reports[r].results[i]).size());
        }
    }
    const Columns columns(timeline_span_seconds(reports, logs));  // one scale for every strategy
    const std::string indent(label_width + 2, ' ');

    out << "\nTimeline: 1 column = " << format("%.3g", columns.seconds())
        << " s; c connected, a digit: chunks in that column (+ for 10 or more), . waiting, | complete, "
           "x failed or partial; "
           "CPU: ' .:-=#' for 0 to 100% of a core, | the run's end\n";
    out << indent << ruler(columns) << '\n';
    for (std::size_t r = 0; r < reports.size() && r < logs.size(); ++r) {
        const RunReport& report = reports[r];
        out << "== " << report.strategy << ": " << format("%.2f", report.wall.count()) << " s wall, "
            << format("%.2f", report.cpu.total().count()) << " s CPU, " << report.complete() << " of "
            << report.results.size() << " complete ==\n";
        if (const std::string cpu = cpu_row(report, columns); !cpu.empty()) {
            std::string label(cpu_label);
            label.resize(label_width, ' ');
            out << label << "  " << cpu << '\n';
        }
        const std::size_t rows = std::min({report.results.size(), logs[r].size(), max_rows});
        for (std::size_t i = 0; i < rows; ++i) {
            std::string label = label_of(report.results[i]);
            label.resize(label_width, ' ');
            out << label << "  " << row_of(report.results[i], logs[r][i], report.started, columns) << '\n';
        }
        if (report.results.size() > rows) {
            out << "... and " << report.results.size() - rows << " more downloads not shown\n";
        }
    }
}

}  // namespace poetry::client
