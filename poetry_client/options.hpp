// The client's command line (cxxopts), turned into plain values.
#pragma once

#include <cstddef>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "poetry/net/address.hpp"
#include "program_errors.hpp"
#include "strategy.hpp"

namespace poetry::client {

struct ClientOptions {
    std::vector<net::Address> addresses;  // from the command line
    /// --ports-file, each time it is given, in order: their downloads follow the addresses', file by file.
    std::vector<std::filesystem::path> ports_files;
    std::optional<Seconds> wait;  // --wait: how long to wait for each ports file
    std::string strategy = "coroutines";  // a registered name, or "all"
    StrategySettings settings;
    std::size_t connections = 1;  // downloads per address, all at once
    bool print = false;
    std::optional<std::filesystem::path> output_dir;
    bool json = false;
    bool quiet = false;
    bool live = false;  // --live: asked for; shown only on a terminal (main decides)
    /// --timeline: where to draw the run; "-" for the text picture on stdout, else an SVG file.
    std::optional<std::string> timeline;
    bool chunk_times = false;  // --chunk-times: each task's chunks in the JSON

    /// Whether the runs must keep every chunk's time (ChunkLog): memory that grows with every chunk.
    [[nodiscard]] bool records_chunks() const noexcept { return timeline.has_value() || chunk_times; }
    [[nodiscard]] bool timeline_on_stdout() const noexcept { return timeline == "-"; }
};

/// Parses the command line. Returns nullopt when --help or --version was asked for and has been
/// printed on `out`. @throws cli::UsageError.
std::optional<ClientOptions> parse_options(int argc, const char* const* argv, std::ostream& out);

}  // namespace poetry::client
