#include "options.hpp"

#include <cxxopts.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <ostream>

namespace poetry::server {
namespace {

constexpr const char* description =
    "Streams each POEM to every client that connects, NUM-BYTES at a time with DELAY seconds between\n"
    "chunks, then closes the connection. Each poem gets its own port. --port, --num-bytes and --delay\n"
    "take one value for all poems or one per poem (comma-separated or by repeating the flag).\n";

cxxopts::Options make_parser() {
    cxxopts::Options parser("poetry_server", description);
    parser.positional_help("POEM...");
    // clang-format off
    parser.add_options()
        ("port", "Port(s); one port with several poems serves them on P, P+1, ...; 0 or none picks free ports",
         cxxopts::value<std::vector<std::string>>(), "P[,P...]")
        ("num-bytes", "Bytes per chunk", cxxopts::value<std::vector<std::string>>()->default_value("10"),
         "N[,N...]")
        ("delay", "Seconds between chunks (decimals allowed, 0 = as fast as the client reads)",
         cxxopts::value<std::vector<std::string>>()->default_value("0.7"), "S[,S...]")
        ("iface", "Address to listen on: IPv4, IPv6 (::1) or a hostname (its first IPv4 address if any)",
         cxxopts::value<std::string>()->default_value("localhost"), "ADDR")
        ("mode", "async (asio coroutines), threaded (a thread per client) or blocking (one client at a "
                 "time per port)", cxxopts::value<std::string>()->default_value("async"), "MODE")
        ("ports-file", "Once every listener is bound, write a JSON list of them here (atomically)",
         cxxopts::value<std::string>(), "FILE")
        ("max-clients", "Clients served at once; beyond it new connections are closed at once (default: "
                        "no limit)", cxxopts::value<std::string>(), "N")
        ("q,quiet", "Print only errors and the summary")
        ("v,verbose", "Also print every chunk sent")
        ("h,help", "Show this help")
        ("version", "Show the version")
        ("poems", "Poem files", cxxopts::value<std::vector<std::string>>());
    // clang-format on
    parser.parse_positional({"poems"});
    return parser;
}

template <class Unsigned>
Unsigned parse_whole(const std::string& text, Unsigned min, Unsigned max, const std::string& what) {
    Unsigned value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value < min ||
        value > max) {
        throw UsageError(what + ": \"" + text + "\" is not a whole number from " + std::to_string(min) +
                             " to " + std::to_string(max),
                         false);
    }
    return value;
}

double parse_delay(const std::string& text) {
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) ||
        value < 0 || value > max_delay_seconds) {
        throw UsageError("--delay: \"" + text + "\" is not a number of seconds from 0 to 86400", false);
    }
    return value;
}

/// One value for every poem, or exactly one per poem.
template <class T>
std::vector<T> per_poem(const std::vector<T>& values, std::size_t poems, const std::string& flag) {
    if (values.size() == poems) {
        return values;
    }
    if (values.size() == 1) {
        return std::vector<T>(poems, values.front());
    }
    throw UsageError(flag + " has " + std::to_string(values.size()) + " values for " + std::to_string(poems) +
                         (poems == 1 ? " poem" : " poems") + ": give one value for all or one per poem",
                     false);
}

Mode parse_mode(const std::string& text) {
    if (text == "async") {
        return Mode::async;
    }
    if (text == "threaded") {
        return Mode::threaded;
    }
    if (text == "blocking") {
        return Mode::blocking;
    }
    throw UsageError("--mode: \"" + text + "\" is not one of async, threaded, blocking", false);
}

}  // namespace

std::string usage() {
    return make_parser().help();
}

const char* to_string(Mode mode) noexcept {
    switch (mode) {
        case Mode::async:
            return "async";
        case Mode::threaded:
            return "threaded";
        case Mode::blocking:
            return "blocking";
    }
    return "?";
}

std::optional<ServerOptions> parse_options(int argc, const char* const* argv, std::ostream& out) {
    auto parser = make_parser();
    cxxopts::ParseResult parsed;
    try {
        parsed = parser.parse(argc, argv);
    } catch (const cxxopts::exceptions::exception& e) {
        throw UsageError(e.what(), true);
    }
    if (parsed.count("help") != 0) {
        out << parser.help();
        return std::nullopt;
    }
    if (parsed.count("version") != 0) {
        out << "poetry_server " << POETRY_VERSION << '\n';
        return std::nullopt;
    }

    ServerOptions options;
    if (parsed.count("poems") == 0) {
        throw UsageError("no poem given: name at least one poem file", true);
    }
    options.poems = parsed["poems"].as<std::vector<std::string>>();
    const std::size_t poems = options.poems.size();

    std::vector<std::uint16_t> ports{0};
    if (parsed.count("port") != 0) {
        ports.clear();
        for (const auto& text : parsed["port"].as<std::vector<std::string>>()) {
            ports.push_back(parse_whole<std::uint16_t>(text, 0, 65535, "--port"));
        }
    }
    if (ports.size() == 1 && poems > 1 && ports.front() != 0) {
        // One port for several poems: consecutive ports from it.
        if (ports.front() + poems - 1 > 65535) {
            throw UsageError("--port " + std::to_string(ports.front()) + " with " + std::to_string(poems) +
                                 " poems would need ports above 65535",
                             false);
        }
        for (std::size_t i = 1; i < poems; ++i) {
            ports.push_back(static_cast<std::uint16_t>(ports.front() + i));
        }
    }
    options.ports = per_poem(ports, poems, "--port");

    std::vector<std::size_t> num_bytes;
    for (const auto& text : parsed["num-bytes"].as<std::vector<std::string>>()) {
        num_bytes.push_back(
            parse_whole<std::size_t>(text, 1, std::numeric_limits<std::uint32_t>::max(), "--num-bytes"));
    }
    options.num_bytes = per_poem(num_bytes, poems, "--num-bytes");

    std::vector<double> delays;
    for (const auto& text : parsed["delay"].as<std::vector<std::string>>()) {
        delays.push_back(parse_delay(text));
    }
    options.delays = per_poem(delays, poems, "--delay");

    options.iface = parsed["iface"].as<std::string>();
    if (options.iface.empty()) {
        throw UsageError("--iface: the address is empty", false);
    }
    options.mode = parse_mode(parsed["mode"].as<std::string>());
    if (parsed.count("ports-file") != 0) {
        options.ports_file = parsed["ports-file"].as<std::string>();
    }
    if (parsed.count("max-clients") != 0) {
        options.max_clients =
            parse_whole<std::size_t>(parsed["max-clients"].as<std::string>(), 1,
                                     std::numeric_limits<std::uint32_t>::max(), "--max-clients");
    }
    if (parsed.count("quiet") != 0 && parsed.count("verbose") != 0) {
        throw UsageError("-q/--quiet and -v/--verbose cannot be used together", false);
    }
    options.verbosity = parsed.count("quiet") != 0     ? Verbosity::quiet
                        : parsed.count("verbose") != 0 ? Verbosity::verbose
                                                       : Verbosity::normal;
    return options;
}

}  // namespace poetry::server
