// poetry_client: downloads poems from slow poetry servers with a strategy the user picks, and reports
// what arrived and what it cost. Exit status: 0 every poem whole, 1 a download failed or a result
// could not be written, 2 bad usage or input, 128 + N stopped by signal N (after reporting).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <span>
#include <sstream>
#include <vector>

#include "chunk_log.hpp"
#include "exit_status.hpp"
#include "fd_budget.hpp"
#include "options.hpp"
#include "reporters/json_report.hpp"
#include "reporters/live_view.hpp"
#include "reporters/outputs.hpp"
#include "reporters/poem_files.hpp"
#include "reporters/progress.hpp"
#include "reporters/summary.hpp"
#include "reporters/terminal.hpp"
#include "reporters/timeline_svg.hpp"
#include "reporters/timeline_text.hpp"
#include "run.hpp"
#include "targets.hpp"

namespace cli = poetry::cli;
namespace client = poetry::client;

namespace {

// One process per download stops being an experiment and starts being a fork bomb well before this.
constexpr std::size_t max_processes_without_pool = 1000;

std::vector<const client::StrategyInfo*> chosen_strategies(const std::string& name) {
    std::vector<const client::StrategyInfo*> chosen;
    if (name == "all") {
        for (const auto& strategy : client::strategies()) {
            chosen.push_back(&strategy);
        }
    } else {
        chosen.push_back(client::find_strategy(name));
    }
    return chosen;
}

/// Everything that would make a run fail for a reason known in advance, all named in one message
/// (so that fixing one does not merely reveal the next). @throws cli::UsageError.
void check_feasible(const client::ClientOptions& options,
                    const std::vector<const client::StrategyInfo*>& chosen, std::size_t downloads) {
    std::string problems;
    const auto add = [&problems](const std::string& problem) {
        problems += (problems.empty() ? "" : "; ") + problem;
    };
    const bool on_select =
        options.settings.selector == "select" &&
        std::any_of(chosen.begin(), chosen.end(), [](auto* s) { return s->uses_selector; });
    if (on_select) {
        if (auto error = client::select_cannot_watch(downloads)) {
            add(*error);
        }
    }
    const bool forks =
        std::any_of(chosen.begin(), chosen.end(), [](auto* s) { return s->name == "processes"; });
    if (forks && options.settings.workers == 0 && downloads > max_processes_without_pool) {
        add("--strategy processes would start " + std::to_string(downloads) +
            " processes at once (more than " + std::to_string(max_processes_without_pool) +
            "): use --workers N");
    }
    if (!problems.empty()) {
        throw cli::UsageError(problems);
    }
}

std::vector<client::Target> collect_targets(const client::ClientOptions& options) {
    std::vector<client::Target> targets;
    for (const auto& address : options.addresses) {
        targets.push_back({address, std::nullopt, std::nullopt});
    }
    auto listed = client::read_ports_files(options.ports_files, options.wait);
    std::move(listed.begin(), listed.end(), std::back_inserter(targets));
    return targets;
}

/// Whether --live can be shown: it was asked for and stdout is a terminal that can redraw. When it
/// cannot, says so once on stderr; the usual report follows.
bool shows_live_view(const client::ClientOptions& options) {
    if (!options.live) {
        return false;
    }
    if (const auto why = client::why_no_live_view(STDOUT_FILENO)) {
        std::cerr << "poetry_client: --live: " << *why << "; the usual report follows" << std::endl;
        return false;
    }
    return true;
}

/// Opens --timeline's SVG file before any download, so that a path that cannot be written is refused at
/// once, not after a long run. @throws cli::InputError naming it.
std::ofstream open_timeline(const std::string& path) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (!file) {
        throw cli::InputError("--timeline " + path + ": cannot write it: " + std::strerror(errno));
    }
    return file;
}

/// Draws the runs into the file open_timeline opened. @throws OutputError naming it if the write failed.
void write_timeline(std::ofstream& file, const std::string& path, std::span<const client::RunReport> reports,
                    std::span<const client::RunLog> logs) {
    client::write_timeline_svg(file, reports, logs);
    file.close();
    if (!file) {
        throw client::OutputError("cannot write --timeline " + path + ": " + std::strerror(errno));
    }
}

/// Everything after the runs: the reports, pictures and files the options ask for, all checked.
/// @throws OutputError for a result that could not be written.
void write_results(const client::ClientOptions& options, std::span<const client::Download> downloads,
                   std::span<const client::RunReport> reports, std::span<const client::RunLog> logs,
                   const client::IdentityCheck& identity, bool several, int stdout_errno) {
    if (options.json) {
        client::write_json(std::cout, reports, several,
                           options.chunk_times ? logs : std::span<const client::RunLog>());
    } else if (several) {
        std::cout << '\n';
        client::print_comparison(std::cout, reports);
        std::cout << "Identity check: " << identity.verdict(downloads.size()) << '\n';
        for (const auto& difference : identity.differences) {
            std::cout << "  " << difference << '\n';
        }
    }
    if (options.timeline_on_stdout()) {
        client::write_timeline_text(std::cout, reports, logs);
    }
    client::check_written(std::cout, "to stdout", stdout_errno);
    if (options.output_dir) {
        for (const auto& report : reports) {
            const auto dir = several ? *options.output_dir / report.strategy : *options.output_dir;
            std::error_code ec;
            std::filesystem::create_directories(dir, ec);
            if (ec) {
                throw client::OutputError("cannot write in " + dir.string() + ": " + ec.message());
            }
            client::save_poems(dir, report.results, downloads);
        }
    }
}

/// The program, from the command line to the exit status: 0 every poem whole, 1 a download failed,
/// 128 + N stopped by signal N. What it throws, main() reports through exit_status_of: a UsageError or
/// an InputError is 2; an OutputError (a result that could not be written), like a failed download, 1.
int run(int argc, char** argv) {
    const auto options = client::parse_options(argc, argv, std::cout);
    if (!options) {
        return 0;
    }
    const auto targets = collect_targets(*options);
    const auto downloads = client::make_downloads(targets, options->connections);
    const auto chosen = chosen_strategies(options->strategy);
    check_feasible(*options, chosen, downloads.size());
    // Every output is checked before the first download: a long run never ends in "cannot write".
    client::check_stdout_open();
    if (options->output_dir) {
        client::check_output_dir(*options->output_dir);
    }
    std::ofstream timeline_file;
    const bool timeline_svg = options->timeline && !options->timeline_on_stdout();
    if (timeline_svg) {
        timeline_file = open_timeline(*options->timeline);
    }
    if (auto warning = client::make_room_for(downloads.size())) {
        std::cerr << "poetry_client: " << *warning << '\n';
    }

    // Ctrl-C or SIGTERM during the downloads stops them, keeps what they have, and reports it all
    // as usual; the exit status then says which signal (128 + N). A second one ends it at once.
    // A stdout that can no longer be written (the reader of a pipe has gone) stops them too.
    client::Interruption interruption;
    const client::InterruptOnSignals interrupt_on_signals(interruption);
    client::StrategySettings settings = options->settings;
    settings.interruption = &interruption;

    const bool several = chosen.size() > 1;
    // The live view takes the place of the progress lines; the lines of tasks that fail, which go to
    // stderr even with -q, wait until the view's last frame is drawn, instead of tearing it.
    const bool live = shows_live_view(*options);
    std::ostringstream held_errors;
    client::ProgressReporter progress(std::cout, live ? held_errors : std::cerr, options->quiet || live,
                                      options->json, [&interruption] { interruption.request(0); });
    std::optional<client::LiveView> live_view;
    if (live) {
        live_view.emplace(progress, STDOUT_FILENO, client::live_style_from_environment());
    }
    client::DownloadObserver& reporter =
        live_view ? static_cast<client::DownloadObserver&>(*live_view) : progress;
    // Chunk times only when asked: they cost memory with every chunk, and the runs measure their memory.
    std::optional<client::ChunkLog> chunk_log;
    if (options->records_chunks()) {
        chunk_log.emplace(reporter);
    }
    client::DownloadObserver& observer =
        chunk_log ? static_cast<client::DownloadObserver&>(*chunk_log) : reporter;
    std::vector<client::RunReport> reports;
    std::vector<client::RunLog> logs;
    for (const auto* strategy : chosen) {
        if (several && !options->json) {
            std::cout << "== " << strategy->name << " ==" << std::endl;
        }
        if (chunk_log) {
            chunk_log->start_run(downloads);
        }
        if (live_view) {
            std::cout.flush();  // the view writes to the terminal's fd, below what is already there
            live_view->start_run(strategy->name, downloads);
        }
        // The CPU sampler runs only for a timeline, which draws what it samples.
        reports.push_back(
            client::run_strategy(*strategy, downloads, settings, observer, options->timeline.has_value()));
        if (chunk_log) {
            logs.push_back(chunk_log->take_run());
        }
        if (live_view) {
            live_view->finish_run();
            std::cerr << held_errors.str() << std::flush;
            held_errors.str({});
        }
        if (options->print && reports.size() == 1) {
            // The first run's poems, before its summary line (poems on stdout, headers on stderr).
            client::print_poems(std::cout, std::cerr, reports.back().results, downloads);
        }
        if (!options->json) {
            std::cout << client::summary_line(reports.back()) << std::endl;
        }
        if (interruption.requested()) {
            break;  // the strategies after it do not start
        }
    }

    const client::IdentityCheck identity = client::check_identity(reports);
    bool ok = std::all_of(reports.begin(), reports.end(), [](const auto& r) { return r.all_complete(); }) &&
              (!several || identity.identical());
    write_results(*options, downloads, reports, logs, identity, several, progress.out_error());
    if (timeline_svg) {
        write_timeline(timeline_file, *options->timeline, reports, logs);
    }
    if (interruption.requested() && interruption.signal() != 0) {
        return 128 + interruption.signal();
    }
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);  // a server that goes away must be an error code, not a dead client
    return cli::exit_status_of("poetry_client", [&] { return run(argc, argv); });
}
