// poetry_server: streams poem files slowly, many poems on many ports in one process.
// Exit status: 0 after a stop signal, 1 if serving failed, 2 for bad usage or input.
#include <algorithm>
#include <csignal>
#include <iostream>
#include <optional>

#include "exit_status.hpp"
#include "listener.hpp"
#include "options.hpp"
#include "poetry/loop/clock.hpp"
#include "poetry/net/fd_limit.hpp"
#include "ports_file.hpp"
#include "serve.hpp"
#include "server_log.hpp"
#include "stats_reporter.hpp"
#include "stop_signal.hpp"

namespace server = poetry::server;

namespace {

/// The server, from the command line to the exit status: 0 once stopped by a signal. What it throws,
/// main() reports through exit_status_of: a UsageError, or an InputError such as a PoemError or a
/// StartupError, is 2; a failure while serving, 1.
int run(int argc, char** argv) {
    const server::StopSignal stop;  // first, before any thread exists
    const auto options = server::parse_options(argc, argv, std::cout);
    if (!options) {
        return 0;
    }
    poetry::net::raise_fd_limit();  // to the hard limit: each client costs an fd
    std::optional<server::PortsFile> ports_file;
    if (options->ports_file) {
        ports_file.emplace(*options->ports_file);  // refused before anything is bound
    }
    std::vector<server::Listener> listeners = server::bind_listeners(*options);
    if (ports_file) {
        ports_file->write(listeners);
    }

    server::ServerLog log(std::cout, std::cerr, options->verbosity);
    if (options->cache) {
        for (auto& listener : listeners) {
            if (listener.upstream) {
                listener.cache = std::make_shared<server::UpstreamCache>(listener, log, stop.fd());
            }
        }
    }
    for (const auto& listener : listeners) {
        log.listening(listener);
    }
    log.ready(listeners);
    server::ServerStats stats;
    server::ServeContext context{listeners, options->max_clients, stats, log, stop, options->threads};
    const auto start = poetry::Clock::now();
    std::optional<server::StatsReporter> stats_lines;
    if (options->stats_every) {
        stats_lines.emplace(stats, log, server::to_nanoseconds(*options->stats_every));
    }
    switch (options->mode) {
        case server::Mode::async:
            server::serve_async(context);
            break;
        case server::Mode::callbacks:
            server::serve_callbacks(context, options->selector);
            break;
        case server::Mode::coroutines:
            server::serve_coroutines(context, options->selector);
            break;
        case server::Mode::threaded:
            server::serve_threaded(context);
            break;
        case server::Mode::blocking:
            server::serve_blocking(context);
            break;
    }
    stats_lines.reset();
    for (auto& listener : listeners) {
        listener.cache.reset();  // its fetch, if one runs, has seen the stop; it logs, so before the log goes
    }
    if (ports_file) {
        ports_file->remove();  // before the summary: a script that has read it finds no stale file
    }
    const bool faults =
        std::any_of(listeners.begin(), listeners.end(),
                    [](const server::Listener& listener) { return listener.faults.any(); });
    const bool proxying = !options->upstreams.empty();
    log.summary(stats, poetry::Clock::now() - start, faults, proxying);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Essential: chunks leave with sendfile(2), which has no MSG_NOSIGNAL; a client that has gone must
    // give EPIPE, not kill the server.
    std::signal(SIGPIPE, SIG_IGN);
    return poetry::cli::exit_status_of("poetry_server", [&] { return run(argc, argv); });
}
