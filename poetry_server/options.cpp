#include "options.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <ostream>
#include <random>

#include "command_line.hpp"

namespace poetry::server {
namespace {

constexpr std::string_view description =
    "Streams each POEM to every client that connects, NUM-BYTES at a time with DELAY\n"
    "seconds between chunks, then closes the connection. Each poem gets its own port.\n"
    "Each --upstream gets a port too, after the poems': a proxy that relays every\n"
    "client to that TCP service, paced and faulted like a poem on the way back.\n"
    "--port, --num-bytes, --delay and the fault options take one value for all\n"
    "listeners or one per listener, poems first, then upstreams (comma-separated or\n"
    "by repeating the flag); in a fault's list, - (or none) leaves that listener\n"
    "without the fault. The fault options make the server a faulty peer on demand,\n"
    "for testing clients.\n";

constexpr std::string_view epilogue =
    "Exit status: 0 after SIGINT or SIGTERM, 1 if serving failed, 2 for bad usage or\n"
    "input (one line on stderr, nothing served).\n"
    "Signals: SIGINT or SIGTERM stops the server: it closes its clients, removes its\n"
    "ports file and prints the summary.\n"
    "Limits: --delay and the fault seconds 0 to 86400; --upstream-timeout above 0 to\n"
    "86400; --num-bytes 1 to 4294967295; --port 0 to 65535; --fault-rate 0 to 1;\n"
    "--max-clients 1 to 4294967295.\n";

constexpr cli::ProgramText program{"poetry_server", POETRY_VERSION, description, "[POEM...]", epilogue};

cxxopts::Options make_parser() {
    cxxopts::Options parser = cli::make_parser(program);
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
        ("mode", "async (asio coroutines), callbacks (our event loop, a callback object per client), "
                 "coroutines (our event loop, a Task per client), threaded (a thread per client) or blocking "
                 "(one client at a time per port)", cxxopts::value<std::string>()->default_value("callbacks"), "MODE")
        ("threads", "For async, callbacks and coroutines: event loops, each on its own thread, all "
                    "accepting on the same ports; a client stays on the loop that accepted it",
         cxxopts::value<std::string>()->default_value("1"), "N")
        ("selector", "For callbacks and coroutines: auto (epoll), epoll, poll or select (which serves "
                     "fds below FD_SETSIZE only)", cxxopts::value<std::string>()->default_value("auto"), "NAME")
        ("upstream", "Proxy: one more listener that relays each client to this TCP service (repeatable "
                     "or comma-separated)", cxxopts::value<std::vector<std::string>>(), "HOST:PORT")
        ("upstream-timeout", "Proxy: seconds a connect to the upstream may take before the client is closed",
         cxxopts::value<std::string>()->default_value("10"), "S")
        ("cache", "Proxy: fetch each upstream once, to its end, when the first client comes; then serve "
                  "that to every client like a poem (clients that come meanwhile wait for it)")
        ("rate", "Bytes per second, instead of --delay: chunks of --num-bytes (default: a hundredth of a "
                 "second's bytes, 1 to 65536) at the delay that makes the rate",
         cxxopts::value<std::vector<std::string>>(), "B[,B...]")
        ("upstream-num-bytes", "Proxy: pace what clients send to the upstream too, in chunks of N bytes "
                               "(default 10 once paced; one value for all upstreams or one per upstream)",
         cxxopts::value<std::vector<std::string>>(), "N[,N...]")
        ("upstream-delay", "Proxy: seconds between those chunks (without a pace toward the upstream, what "
                           "clients send is forwarded as it comes)",
         cxxopts::value<std::vector<std::string>>(), "S[,S...]")
        ("upstream-rate", "Proxy: bytes per second toward the upstream, instead of --upstream-delay",
         cxxopts::value<std::vector<std::string>>(), "B[,B...]")
        ("ports-file", "Once every listener is bound, write a JSON list of them here (atomically)",
         cxxopts::value<std::string>(), "FILE")
        ("max-clients", "Clients served at once; beyond it new connections are closed at once (default: "
                        "no limit)", cxxopts::value<std::string>(), "N")
        ("stats", "Every S seconds, one line on stdout with the interval's clients connected, served and dropped, "
                  "chunks per second and lateness p50/p99 (even with -q)", cxxopts::value<std::string>(), "S")
        ("jitter", "Fault: each pause is the delay plus or minus up to S seconds (uniform), never negative",
         cxxopts::value<std::vector<std::string>>(), "S[,S...]")
        ("size-jitter", "Fault: each chunk is --num-bytes plus or minus up to N bytes (uniform), at least 1",
         cxxopts::value<std::vector<std::string>>(), "N[,N...]")
        ("first-byte-delay", "Fault: seconds after accept before the first chunk",
         cxxopts::value<std::vector<std::string>>(), "S[,S...]")
        ("close-after", "Fault: send that many bytes, then close cleanly (FIN) before the poem's end",
         cxxopts::value<std::vector<std::string>>(), "BYTES[,...]")
        ("reset-after", "Fault: send that many bytes, then reset the connection (RST)",
         cxxopts::value<std::vector<std::string>>(), "BYTES[,...]")
        ("hang-after", "Fault: send that many bytes, then nothing more until the client leaves or the server "
                       "stops", cxxopts::value<std::vector<std::string>>(), "BYTES[,...]")
        ("slow-close", "Fault: seconds between the last byte and closing",
         cxxopts::value<std::vector<std::string>>(), "S[,S...]")
        ("fault-rate", "Share of connections, 0 to 1, that get the faults",
         cxxopts::value<std::vector<std::string>>()->default_value("1"), "P[,P...]")
        ("seed", "Makes which connections get faults, and every jitter, reproducible (default: random, "
                 "shown at start)", cxxopts::value<std::vector<std::string>>(), "N[,N...]")
        ("q,quiet", "Print only errors, the ready line and the summary")
        ("v,verbose", "Also print every chunk sent")
        ("poems", "Poem files", cxxopts::value<std::vector<std::string>>());
    // clang-format on
    cli::add_help_and_version(parser);
    parser.parse_positional({"poems"});
    return parser;
}

/// A finite number from `min` to `max`, or a UsageError that names `what` and says `unit`.
double parse_number(const std::string& text, double min, double max, const std::string& what,
                    const std::string& unit) {
    const std::optional<double> value = cli::to_number<double>(text);
    if (!value || *value < min || *value > max) {
        char range[64];
        std::snprintf(range, sizeof(range), "%g to %g", min, max);
        throw cli::UsageError(what + ": \"" + text + "\" is not " + unit + " from " + range);
    }
    return *value;
}

/// Seconds for --delay and the fault options: from 0 to max_delay_seconds.
auto seconds(const std::string& what) {
    return [what](const std::string& text) {
        return parse_number(text, 0, max_delay_seconds, what, "a number of seconds");
    };
}

auto byte_count(const std::string& what, std::uint64_t min, std::uint64_t max) {
    return [=](const std::string& text) { return cli::parse_whole<std::uint64_t>(text, min, max, what); };
}

/// How many listeners of each kind: what the per-listener lists are counted against.
struct ListenerCount {
    std::size_t poems = 0;
    std::size_t upstreams = 0;

    [[nodiscard]] std::size_t total() const noexcept { return poems + upstreams; }
    /// "2 poems", "1 upstream", or "3 listeners (2 poems, 1 upstream)".
    [[nodiscard]] std::string describe() const {
        const auto count = [](std::size_t n, const char* noun) {
            return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
        };
        if (upstreams == 0) {
            return count(poems, "poem");
        }
        if (poems == 0) {
            return count(upstreams, "upstream");
        }
        return count(total(), "listener") + " (" + count(poems, "poem") + ", " + count(upstreams, "upstream") + ")";
    }
};

/// One value for every listener, or exactly one per listener.
template <class T>
std::vector<T> per_listener(const std::vector<T>& values, const ListenerCount& listeners, const std::string& flag) {
    if (values.size() == listeners.total()) {
        return values;
    }
    if (values.size() == 1) {
        return std::vector<T>(listeners.total(), values.front());
    }
    throw cli::UsageError(flag + " has " + std::to_string(values.size()) + " values for " + listeners.describe() +
                          ": give one value for all or one per " +
                          (listeners.upstreams == 0 ? "poem" : "listener, poems first"));
}

/// A per-listener option (--num-bytes, --delay, the faults): each value read by `parse`, then one for
/// every listener as per_listener() says.
template <class Parse>
auto per_listener_option(const cxxopts::ParseResult& parsed, const std::string& name,
                         const ListenerCount& listeners, Parse parse) {
    std::vector<decltype(parse(std::string{}))> values;
    for (const auto& item : cli::list_items(parsed, name)) {
        values.push_back(parse(item));
    }
    return per_listener(values, listeners, "--" + name);
}

/// `parse` for a fault's list, where "-" or "none" leaves a poem without that fault.
template <class Parse>
auto or_none(Parse parse) {
    return [parse](const std::string& item) -> std::optional<decltype(parse(item))> {
        if (item == "-" || item == "none") {
            return std::nullopt;
        }
        return parse(item);
    };
}

/// The fault options as one FaultPlan per listener. Without --seed, one random seed serves every listener.
std::vector<FaultPlan> parse_faults(const cxxopts::ParseResult& parsed, const ListenerCount& listeners) {
    const std::size_t count = listeners.total();
    std::vector<FaultPlan> plans(count);
    bool any = false;
    // Applies option `name`, if given, to every poem's plan through `set(plan, value)`, but for the
    // poems whose item is "-" or "none".
    const auto apply = [&](const std::string& name, auto parse, auto set) {
        if (parsed.count(name) == 0) {
            return;
        }
        const auto values = per_listener_option(parsed, name, listeners, or_none(parse));
        for (std::size_t i = 0; i < count; ++i) {
            if (values[i]) {
                set(plans[i], *values[i]);
                any = true;
            }
        }
    };
    constexpr auto bytes_max = std::numeric_limits<std::uint64_t>::max();
    apply("jitter", seconds("--jitter"), [](FaultPlan& plan, double value) { plan.jitter = value; });
    apply("size-jitter", byte_count("--size-jitter", 0, std::numeric_limits<std::uint32_t>::max()),
          [](FaultPlan& plan, std::uint64_t value) { plan.size_jitter = value; });
    apply("first-byte-delay", seconds("--first-byte-delay"),
          [](FaultPlan& plan, double value) { plan.first_byte_delay = value; });
    apply("close-after", byte_count("--close-after", 0, bytes_max),
          [](FaultPlan& plan, std::uint64_t value) { plan.close_after = value; });
    apply("reset-after", byte_count("--reset-after", 0, bytes_max),
          [](FaultPlan& plan, std::uint64_t value) { plan.reset_after = value; });
    apply("hang-after", byte_count("--hang-after", 0, bytes_max),
          [](FaultPlan& plan, std::uint64_t value) { plan.hang_after = value; });
    apply("slow-close", seconds("--slow-close"),
          [](FaultPlan& plan, double value) { plan.slow_close = value; });
    if (!any && (parsed.count("fault-rate") != 0 || parsed.count("seed") != 0)) {
        throw cli::UsageError(std::string(parsed.count("seed") != 0 ? "--seed" : "--fault-rate") +
                              " needs a fault: --jitter, --size-jitter, --first-byte-delay, --close-after, "
                              "--reset-after, --hang-after or --slow-close");
    }
    const auto rates = per_listener_option(parsed, "fault-rate", listeners, [](const std::string& text) {
        return parse_number(text, 0, 1, "--fault-rate", "a share");
    });
    std::vector<std::uint64_t> seeds(count, std::random_device{}());
    if (parsed.count("seed") != 0) {
        seeds = per_listener_option(parsed, "seed", listeners, byte_count("--seed", 0, bytes_max));
    }
    for (std::size_t i = 0; i < count; ++i) {
        plans[i].rate = rates[i];
        plans[i].seed = seeds[i];
    }
    return plans;
}

/// A rate for --rate and --upstream-rate: bytes per second, at least 1.
auto bytes_per_second(const std::string& what) {
    return [what](const std::string& text) { return parse_number(text, 1, 1e12, what, "a number of bytes per second"); };
}

/// The delay between chunks of `num_bytes` that makes `rate`, within --delay's limit.
double delay_for_rate(std::size_t num_bytes, double rate, const std::string& what) {
    const double delay = static_cast<double>(num_bytes) / rate;
    if (delay > max_delay_seconds) {
        throw cli::UsageError(what + " " + format_number(rate) + " with chunks of " + std::to_string(num_bytes) +
                              " bytes would wait more than a day between chunks");
    }
    return delay;
}

/// The pace toward each upstream, if --upstream-num-bytes, --upstream-delay or --upstream-rate is given:
/// one value for all upstreams or one per upstream.
std::vector<std::optional<UpstreamPace>> parse_upstream_paces(const cxxopts::ParseResult& parsed,
                                                               const ListenerCount& listeners) {
    std::vector<std::optional<UpstreamPace>> paces(listeners.upstreams);
    const bool paced = parsed.count("upstream-num-bytes") != 0 || parsed.count("upstream-delay") != 0 ||
                       parsed.count("upstream-rate") != 0;
    if (!paced) {
        return paces;
    }
    if (listeners.upstreams == 0) {
        throw cli::UsageError("--upstream-num-bytes, --upstream-delay and --upstream-rate pace a proxy's "
                              "upstream: give --upstream HOST:PORT");
    }
    if (parsed.count("upstream-rate") != 0 && parsed.count("upstream-delay") != 0) {
        throw cli::UsageError("--upstream-rate and --upstream-delay cannot be used together: --upstream-rate "
                              "sets the delay");
    }
    const ListenerCount upstreams{0, listeners.upstreams};
    const auto values = [&](const std::string& name, auto parse, auto fallback) {
        return parsed.count(name) != 0 ? per_listener_option(parsed, name, upstreams, parse)
                                       : std::vector<decltype(fallback)>(listeners.upstreams, fallback);
    };
    const auto num_bytes = values(
        "upstream-num-bytes",
        [](const std::string& text) {
            return cli::parse_whole<std::size_t>(text, 1, std::numeric_limits<std::uint32_t>::max(),
                                                 "--upstream-num-bytes");
        },
        std::size_t{10});
    const auto delays = values("upstream-delay", seconds("--upstream-delay"), 0.0);
    const auto rates = values("upstream-rate", bytes_per_second("--upstream-rate"), 0.0);
    for (std::size_t i = 0; i < listeners.upstreams; ++i) {
        UpstreamPace& pace = paces[i].emplace();
        pace.num_bytes = num_bytes[i];
        pace.delay = delays[i];
        if (parsed.count("upstream-rate") != 0) {
            if (parsed.count("upstream-num-bytes") == 0) {
                pace.num_bytes = rate_chunk_bytes(rates[i]);
            }
            pace.delay = delay_for_rate(pace.num_bytes, rates[i], "--upstream-rate");
            pace.rate = rates[i];
        }
    }
    return paces;
}

constexpr Mode all_modes[] = {Mode::async, Mode::callbacks, Mode::coroutines, Mode::threaded, Mode::blocking};

Mode parse_mode(const std::string& text) {
    std::string known;
    for (const Mode mode : all_modes) {
        if (text == to_string(mode)) {
            return mode;
        }
        known += (known.empty() ? "" : ", ") + std::string(to_string(mode));
    }
    throw cli::UsageError("--mode: \"" + text + "\" is not one of " + known);
}

}  // namespace

std::size_t rate_chunk_bytes(double bytes_per_second) noexcept {
    return static_cast<std::size_t>(std::clamp(std::llround(bytes_per_second / 100), 1LL, 65536LL));
}

const char* to_string(Mode mode) noexcept {
    switch (mode) {
        case Mode::async:
            return "async";
        case Mode::callbacks:
            return "callbacks";
        case Mode::coroutines:
            return "coroutines";
        case Mode::threaded:
            return "threaded";
        case Mode::blocking:
            return "blocking";
    }
    return "?";
}

std::optional<ServerOptions> parse_options(int argc, const char* const* argv, std::ostream& out) {
    auto parser = make_parser();
    const auto answered = cli::parse_or_answer(parser, program, argc, argv, out);
    if (!answered) {
        return std::nullopt;
    }
    const cxxopts::ParseResult& parsed = *answered;

    cli::refuse_repeated(
        parsed, {"port", "num-bytes", "delay", "jitter", "size-jitter", "first-byte-delay", "close-after",
                 "reset-after", "hang-after", "slow-close", "fault-rate", "seed", "poems", "upstream", "rate",
                 "upstream-num-bytes", "upstream-delay", "upstream-rate"});
    ServerOptions options;
    if (parsed.count("poems") != 0) {
        options.poems = parsed["poems"].as<std::vector<std::string>>();
    }
    if (parsed.count("upstream") != 0) {
        for (const auto& item : cli::list_items(parsed, "upstream")) {
            try {
                options.upstreams.push_back(net::Address::parse(item));
            } catch (const std::invalid_argument& e) {
                throw cli::UsageError(std::string("--upstream: ") + e.what());
            }
        }
    }
    if (options.listeners() == 0) {
        throw cli::UsageError("nothing to serve: name at least one poem file or --upstream HOST:PORT");
    }
    const ListenerCount listeners{options.poems.size(), options.upstreams.size()};
    const std::size_t count = listeners.total();
    options.upstream_timeout = parse_number(parsed["upstream-timeout"].as<std::string>(), 0, max_delay_seconds,
                                            "--upstream-timeout", "a number of seconds");
    if (options.upstream_timeout <= 0) {
        throw cli::UsageError("--upstream-timeout: \"" + parsed["upstream-timeout"].as<std::string>() +
                              "\" must be above 0 seconds");
    }

    std::vector<std::uint16_t> ports{0};
    if (parsed.count("port") != 0) {
        ports.clear();
        for (const auto& item : cli::list_items(parsed, "port")) {
            ports.push_back(cli::parse_whole<std::uint16_t>(item, 0, 65535, "--port"));
        }
    }
    if (ports.size() == 1 && count > 1 && ports.front() != 0) {
        // One port for several listeners: consecutive ports from it.
        if (ports.front() + count - 1 > 65535) {
            throw cli::UsageError("--port " + std::to_string(ports.front()) + " with " + listeners.describe() +
                                  " would need ports above 65535");
        }
        for (std::size_t i = 1; i < count; ++i) {
            ports.push_back(static_cast<std::uint16_t>(ports.front() + i));
        }
    }
    options.ports = per_listener(ports, listeners, "--port");

    options.num_bytes = per_listener_option(parsed, "num-bytes", listeners, [](const std::string& text) {
        return cli::parse_whole<std::size_t>(text, 1, std::numeric_limits<std::uint32_t>::max(),
                                             "--num-bytes");
    });
    options.delays = per_listener_option(parsed, "delay", listeners, seconds("--delay"));
    options.rates.assign(count, std::nullopt);
    if (parsed.count("rate") != 0) {
        if (parsed.count("delay") != 0) {
            throw cli::UsageError("--rate and --delay cannot be used together: --rate sets the delay");
        }
        const auto rates = per_listener_option(parsed, "rate", listeners, bytes_per_second("--rate"));
        for (std::size_t i = 0; i < count; ++i) {
            if (parsed.count("num-bytes") == 0) {
                options.num_bytes[i] = rate_chunk_bytes(rates[i]);
            }
            options.delays[i] = delay_for_rate(options.num_bytes[i], rates[i], "--rate");
            options.rates[i] = rates[i];
        }
    }
    options.upstream_paces = parse_upstream_paces(parsed, listeners);
    options.faults = parse_faults(parsed, listeners);

    options.iface = parsed["iface"].as<std::string>();
    if (options.iface.empty()) {
        throw cli::UsageError("--iface: the address is empty");
    }
    options.mode = parse_mode(parsed["mode"].as<std::string>());
    options.cache = parsed.count("cache") != 0;
    if (options.cache && options.upstreams.empty()) {
        throw cli::UsageError("--cache keeps what an upstream sends: give --upstream HOST:PORT");
    }
    if (!options.upstreams.empty() && options.mode == Mode::blocking) {
        // One client at a time per port would hold every other client of a proxied service in the
        // backlog for as long as the first stays connected, which for most services is forever.
        throw cli::UsageError("--upstream needs a mode that serves clients at once: async, callbacks, "
                              "coroutines or threaded, not blocking");
    }
    options.selector = cli::parse_selector(parsed["selector"].as<std::string>());
    if (parsed.count("selector") != 0 && !on_event_loop(options.mode)) {
        throw cli::UsageError("--selector applies to --mode callbacks or coroutines, not to " +
                              std::string(to_string(options.mode)));
    }
    options.threads =
        cli::parse_whole<std::size_t>(parsed["threads"].as<std::string>(), 1, max_threads, "--threads");
    if (parsed.count("threads") != 0 && !on_event_loop(options.mode) && options.mode != Mode::async) {
        throw cli::UsageError("--threads applies to --mode async, callbacks or coroutines, not to " +
                              std::string(to_string(options.mode)));
    }
    if (parsed.count("ports-file") != 0) {
        options.ports_file = parsed["ports-file"].as<std::string>();
    }
    if (parsed.count("max-clients") != 0) {
        options.max_clients =
            cli::parse_whole<std::size_t>(parsed["max-clients"].as<std::string>(), 1,
                                          std::numeric_limits<std::uint32_t>::max(), "--max-clients");
    }
    if (parsed.count("stats") != 0) {
        options.stats_every = parse_number(parsed["stats"].as<std::string>(), 0.01, max_delay_seconds, "--stats",
                                           "a number of seconds");
    }
    if (parsed.count("quiet") != 0 && parsed.count("verbose") != 0) {
        throw cli::UsageError("-q/--quiet and -v/--verbose cannot be used together");
    }
    options.verbosity = parsed.count("quiet") != 0     ? Verbosity::quiet
                        : parsed.count("verbose") != 0 ? Verbosity::verbose
                                                       : Verbosity::normal;
    return options;
}

}  // namespace poetry::server
