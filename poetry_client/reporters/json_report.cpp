#include "reporters/json_report.hpp"

#include <nlohmann/json.hpp>
#include <ostream>

#include "reporters/summary.hpp"

namespace poetry::client {
namespace {

nlohmann::json seconds_since(TimePoint start, const std::optional<TimePoint>& at) {
    return at ? nlohmann::json(Seconds(*at - start).count()) : nlohmann::json(nullptr);
}

/// [[seconds since the run started, bytes], ...]: the same clock and origin as the task's other times,
/// so the first and last entries equal "first_byte" and "last_byte".
nlohmann::json chunk_times(TimePoint start, const DownloadLog& log) {
    auto times = nlohmann::json::array();
    for (const auto& chunk : log.chunks) {
        times.push_back({Seconds(chunk.at - start).count(), chunk.bytes});
    }
    return times;
}

/// `log`: the run's chunk log, or null when --chunk-times was not asked for.
nlohmann::json run_to_json(const RunReport& report, const RunLog* log) {
    auto tasks = nlohmann::json::array();
    for (std::size_t i = 0; i < report.results.size(); ++i) {
        const DownloadResult& result = report.results[i];
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
        if (log != nullptr && i < log->size()) {
            tasks.back()["chunk_times"] = chunk_times(report.started, (*log)[i]);
        }
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
             {"interrupted", report.interrupted()},
             {"bytes", report.bytes()},
             {"wall", report.wall.count()},
             {"cpu_user", report.cpu.user.count()},
             {"cpu_sys", report.cpu.system.count()},
             {"peak_memory_bytes", report.peak_rss_bytes},
         }},
    };
}

}  // namespace

void write_json(std::ostream& out, std::span<const RunReport> reports, bool several,
                std::span<const RunLog> chunk_logs) {
    const auto log_of = [chunk_logs](std::size_t run) {
        return run < chunk_logs.size() ? &chunk_logs[run] : nullptr;
    };
    nlohmann::json document;
    if (several) {
        auto runs = nlohmann::json::array();
        for (std::size_t i = 0; i < reports.size(); ++i) {
            runs.push_back(run_to_json(reports[i], log_of(i)));
        }
        const IdentityCheck identity = check_identity(reports);
        document = {{"strategies", std::move(runs)},
                    {"identical", identity.identical()},
                    {"identity", identity.verdict(reports.front().results.size())},
                    {"differences", identity.differences}};
    } else {
        document = run_to_json(reports.front(), log_of(0));
    }
    const int indent = chunk_logs.empty() ? 2 : -1;
    // Poems are bytes: an error text from the system is UTF-8, but never let one bad byte lose the report.
    out << document.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace poetry::client
