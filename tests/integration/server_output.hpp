// Reading what poetry_server printed: the figures of its summary, and its --stats lines.
#pragma once

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "integration/server_process.hpp"

namespace poetry::test {

/// The number after `label` in the server's summary, its last line ("served 12 clients" -> 12 for
/// "served "); fails the test if the server printed no summary.
inline std::uint64_t summary_count(const std::string& out, const std::string& label) {
    const std::string summary = last_line(out);
    const auto at = summary.find(label);
    if (!summary.starts_with("Stopped after ") || at == std::string::npos) {
        BOOST_FAIL("no summary with '" << label << "' at the end of the server's output:\n" << out);
    }
    return std::stoull(summary.substr(at + label.size()));
}

/// One line of --stats: "Stats (last 0.20 s): 2 connected, 0 served, 0 dropped, 40.0 chunks/s, late p50
/// 0.1 ms, p99 0.2 ms", as numbers.
struct StatsLine {
    std::string text;
    double seconds = 0;
    unsigned connected = 0;
    unsigned served = 0;
    unsigned dropped = 0;
    double chunks_per_second = 0;
    bool has_lateness = false;  // ", late p50 ..., p99 ..." follows: paced chunks left in the interval
};

/// Every --stats line in `out`, in order.
inline std::vector<StatsLine> stats_lines(const std::string& out) {
    std::vector<StatsLine> lines;
    std::istringstream in(out);
    for (std::string text; std::getline(in, text);) {
        StatsLine line;
        if (std::sscanf(text.c_str(), "Stats (last %lf s): %u connected, %u served, %u dropped, %lf chunks/s",
                        &line.seconds, &line.connected, &line.served, &line.dropped,
                        &line.chunks_per_second) == 5) {
            line.has_lateness = text.find(", late p50 ") != std::string::npos;
            line.text = std::move(text);
            lines.push_back(std::move(line));
        }
    }
    return lines;
}

}  // namespace poetry::test
