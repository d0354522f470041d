#include "reporters/summary.hpp"

#include <algorithm>
#include <cstdio>
#include <ostream>

namespace poetry::client {

std::string summary_line(const RunReport& report) {
    const std::size_t total = report.results.size();
    const std::size_t complete = report.complete();
    char timing[96];
    std::snprintf(timing, sizeof(timing), " in %.2f s (cpu %.2f s)", report.wall.count(),
                  report.cpu.total().count());
    std::string line = "Got ";
    if (complete == total) {
        line += std::to_string(total) + (total == 1 ? " poem" : " poems") + timing;
    } else {
        line += std::to_string(complete) + " of " + std::to_string(total) +
                (total == 1 ? " poem" : " poems") + timing + "; " + std::to_string(report.partial()) +
                " partial, " + std::to_string(report.failed()) + " failed";
        if (const std::size_t interrupted = report.interrupted(); interrupted > 0) {
            line += ", " + std::to_string(interrupted) + " interrupted";
        }
    }
    return line;
}

void print_comparison(std::ostream& out, std::span<const RunReport> reports) {
    char row[160];
    std::snprintf(row, sizeof(row), "%-12s %9s %9s %9s %9s %12s %10s\n", "strategy", "wall s", "cpu s",
                  "user s", "sys s", "poems", "bytes");
    out << row;
    for (const auto& report : reports) {
        const std::string poems =
            std::to_string(report.complete()) + "/" + std::to_string(report.results.size());
        std::snprintf(row, sizeof(row), "%-12s %9.2f %9.2f %9.2f %9.2f %12s %10zu\n", report.strategy.c_str(),
                      report.wall.count(), report.cpu.total().count(), report.cpu.user.count(),
                      report.cpu.system.count(), poems.c_str(), report.bytes());
        out << row;
    }
}

IdentityCheck check_identity(std::span<const RunReport> reports) {
    IdentityCheck check;
    if (reports.empty()) {
        return check;
    }
    const std::size_t downloads = reports.front().results.size();
    for (std::size_t i = 0; i < downloads; ++i) {
        // The strategies grouped by the bytes they received for this download, in the order of the runs.
        struct Group {
            const std::string* bytes;
            std::string strategies;
        };
        std::vector<Group> groups;
        for (const auto& report : reports) {
            const DownloadResult& result = report.results[i];
            check.anything_received = check.anything_received || !result.poem.empty();
            const std::string name = report.strategy + (result.complete() ? "" : " (" +
                                                        std::string(to_string(result.status)) + ")");
            const auto same = std::find_if(groups.begin(), groups.end(),
                                           [&](const Group& group) { return *group.bytes == result.poem; });
            if (same == groups.end()) {
                groups.push_back({&result.poem, name});
            } else {
                same->strategies += ", " + name;
            }
        }
        if (groups.size() < 2) {
            continue;
        }
        const DownloadResult& first = reports.front().results[i];
        std::string line = "task " + std::to_string(first.task) + " (" + first.address.to_string() + "): ";
        for (std::size_t g = 0; g < groups.size(); ++g) {
            const std::size_t size = groups[g].bytes->size();
            // Equal sizes with other bytes: say so, or the line would read as no difference at all.
            const bool same_size_as_another = std::any_of(groups.begin(), groups.end(), [&](const Group& other) {
                return &other != &groups[g] && other.bytes->size() == size;
            });
            line += (g > 0 ? "; " : "") + std::to_string(size) + " bytes" +
                    (same_size_as_another ? " (other bytes)" : "") + " from " + groups[g].strategies;
        }
        check.differences.push_back(std::move(line));
    }
    return check;
}

std::string IdentityCheck::verdict(std::size_t downloads) const {
    if (!anything_received) {
        return "nothing was received, so nothing is identical";
    }
    if (differences.empty()) {
        return "every strategy received byte-identical poems";
    }
    return "strategies received different bytes for " + std::to_string(differences.size()) + " of " +
           std::to_string(downloads) + (downloads == 1 ? " download" : " downloads");
}

}  // namespace poetry::client
