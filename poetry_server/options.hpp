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

/// How the bytes from a proxy's clients to its upstream are paced (--upstream-num-bytes,
/// --upstream-delay, --upstream-rate); without one, they are forwarded as they come.
struct UpstreamPace {
    std::size_t num_bytes = 10;
    double delay = 0;                 // seconds
    std::optional<double> rate;      // bytes per second, if the pace was given as one
};

/// Per-listener lists (ports, num_bytes, delays, faults) have one entry per listener: the poems first,
/// then the upstreams, in the order given.
struct ServerOptions {
    [[nodiscard]] std::size_t listeners() const noexcept { return poems.size() + upstreams.size(); }

    std::vector<std::string> poems;      // paths as given
    std::vector<net::Address> upstreams;  // --upstream: a proxied listener each, after the poems
    double upstream_timeout = 10;         // seconds for a connect to an upstream
    bool cache = false;                   // --cache: each upstream fetched once, then served as a poem
    std::vector<std::uint16_t> ports;    // one per listener; 0 picks a free port
    std::vector<std::size_t> num_bytes;  // one per listener, each >= 1
    std::vector<double> delays;          // one per listener, seconds, finite and >= 0
    std::vector<std::optional<double>> rates;  // one per listener: --rate, which set its num_bytes and delay
    std::vector<std::optional<UpstreamPace>> upstream_paces;  // one per upstream
    std::vector<FaultPlan> faults;       // one per listener; FaultPlan::any() is false where none is given
    std::string iface = "localhost";
    Mode mode = Mode::callbacks;  // the cheapest that passes every test (bench/run --only server_cost)
    std::string selector = "auto";  // callbacks and coroutines: make_selector's name
    std::size_t threads = 1;        // async, callbacks and coroutines: event loops on as many threads
    std::optional<std::filesystem::path> ports_file;
    std::optional<std::size_t> max_clients;
    std::optional<double> stats_every;  // --stats: seconds between the stats lines
    Verbosity verbosity = Verbosity::normal;
};

/// The longest pause between chunks that --delay accepts (one day): larger values would overflow the
/// schedule's clock arithmetic and serve no experiment.
inline constexpr double max_delay_seconds = 86400.0;

/// The chunk size that --rate picks when --num-bytes is not given: a hundredth of a second's bytes
/// (100 chunks a second, smooth enough for any client's view of a slow link, and cheap), at least 1
/// byte and at most 64 KiB (above 6.5 MB/s the chunks come more often instead).
[[nodiscard]] std::size_t rate_chunk_bytes(double bytes_per_second) noexcept;

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
