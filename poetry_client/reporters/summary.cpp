#include "reporters/summary.hpp"

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

std::vector<std::string> identity_differences(std::span<const RunReport> reports) {
    std::vector<std::string> differences;
    if (reports.empty()) {
        return differences;
    }
    const std::size_t downloads = reports.front().results.size();
    for (std::size_t i = 0; i < downloads; ++i) {
        const RunReport* reference = nullptr;
        for (const auto& report : reports) {
            const DownloadResult& result = report.results[i];
            if (!result.complete()) {
                continue;
            }
            if (reference == nullptr) {
                reference = &report;
            } else if (result.poem != reference->results[i].poem) {
                differences.push_back("task " + std::to_string(result.task) + " (" +
                                      result.address.to_string() + "): " + report.strategy + " received " +
                                      std::to_string(result.poem.size()) + " bytes that differ from " +
                                      reference->strategy + "'s " +
                                      std::to_string(reference->results[i].poem.size()));
            }
        }
    }
    return differences;
}

}  // namespace poetry::client
