#include "reporters/json_report.hpp"

#include <nlohmann/json.hpp>
#include <ostream>

#include "reporters/summary.hpp"

namespace poetry::client {
namespace {

nlohmann::json seconds_since(TimePoint start, const std::optional<TimePoint>& at) {
    return at ? nlohmann::json(Seconds(*at - start).count()) : nlohmann::json(nullptr);
}

nlohmann::json run_to_json(const RunReport& report) {
    auto tasks = nlohmann::json::array();
    for (const auto& result : report.results) {
        tasks.push_back({
            {"task", result.task},
            {"address", result.address.to_string()},
            {"status", to_string(result.status)},
            {"bytes", result.poem.size()},
            {"chunks", result.chunks},
            {"connected", seconds_since(report.started, result.connected)},
            {"first_byte", seconds_since(report.started, result.first_byte)},
            {"last_byte", seconds_since(report.started, result.last_byte)},
            {"finished", seconds_since(report.started, result.finished)},
            {"error", result.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(result.error)},
        });
    }
    return {
        {"strategy", report.strategy},
        {"tasks", std::move(tasks)},
        {"totals",
         {
             {"downloads", report.results.size()},
             {"complete", report.complete()},
             {"partial", report.partial()},
             {"failed", report.failed()},
             {"bytes", report.bytes()},
             {"wall", report.wall.count()},
             {"cpu_user", report.cpu.user.count()},
             {"cpu_sys", report.cpu.system.count()},
             {"peak_memory_bytes", report.peak_rss_bytes},
         }},
    };
}

}  // namespace

void write_json(std::ostream& out, std::span<const RunReport> reports, bool several) {
    nlohmann::json document;
    if (several) {
        auto runs = nlohmann::json::array();
        for (const auto& report : reports) {
            runs.push_back(run_to_json(report));
        }
        const auto differences = identity_differences(reports);
        document = {{"strategies", std::move(runs)},
                    {"identical", differences.empty()},
                    {"differences", differences}};
    } else {
        document = run_to_json(reports.front());
    }
    // Poems are bytes: an error text from the system is UTF-8, but never let one bad byte lose the report.
    out << document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace poetry::client
