// The server's command line (cxxopts), turned into plain values with one entry per poem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "faults.hpp"
#include "poetry/net/address.hpp"
#include "program_errors.hpp"

namespace poetry::server {

enum class Mode { async, callbacks, coroutines, threaded, blocking };
enum class Verbosity { quiet, normal, verbose };

/// Per-listener lists (ports, num_bytes, delays, faults) have one entry per listener: the poems first,
/// then the upstreams, in the order given.
struct ServerOptions {
    [[nodiscard]] std::size_t listeners() const noexcept { return poems.size() + upstreams.size(); }

    std::vector<std::string> poems;      // paths as given
    std::vector<net::Address> upstreams;  // --upstream: a proxied listener each, after the poems
    double upstream_timeout = 10;         // seconds for a connect to an upstream
    std::vector<std::uint16_t> ports;    // one per listener; 0 picks a free port
    std::vector<std::size_t> num_bytes;  // one per listener, each >= 1
    std::vector<double> delays;          // one per listener, seconds, finite and >= 0
    std::vector<FaultPlan> faults;       // one per listener; FaultPlan::any() is false where none is given
    std::string iface = "localhost";
    Mode mode = Mode::callbacks;  // the cheapest that passes every test (bench/run --only server_cost)
    std::string selector = "auto";  // callbacks and coroutines: make_selector's name
    std::size_t threads = 1;        // async, callbacks and coroutines: event loops on as many threads
    std::optional<std::filesystem::path> ports_file;
    std::optional<std::size_t> max_clients;
    Verbosity verbosity = Verbosity::normal;
};

/// The longest pause between chunks that --delay accepts (one day): larger values would overflow the
/// schedule's clock arithmetic and serve no experiment.
inline constexpr double max_delay_seconds = 86400.0;

/// True for the modes that run on the library's EventLoop (and so take --selector).
[[nodiscard]] constexpr bool on_event_loop(Mode mode) noexcept {
    return mode == Mode::callbacks || mode == Mode::coroutines;
}

/// The most --threads accepts.
inline constexpr std::size_t max_threads = 256;

/// Parses the command line. Returns nullopt when --help or --version was asked for and has been
/// printed on `out`. @throws cli::UsageError.
std::optional<ServerOptions> parse_options(int argc, const char* const* argv, std::ostream& out);

/// "async", "callbacks", "coroutines", "threaded" or "blocking".
const char* to_string(Mode mode) noexcept;

}  // namespace poetry::server
