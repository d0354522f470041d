#include "options.hpp"

#include <ostream>

#include "command_line.hpp"

namespace poetry::client {
namespace {

constexpr std::string_view description =
    "Downloads one poem from each ADDRESS (PORT, HOST:PORT or [IPv6]:PORT; the host\n"
    "defaults to 127.0.0.1) with the chosen strategy, and reports what it got and\n"
    "what it cost. A poem ends when the server closes the connection. Only with\n"
    "--ports-file, which carries each poem's size, is a poem cut short by a clean\n"
    "close reported as partial; otherwise it looks like a short poem. --ports-file\n"
    "may be given once per server: the addresses come first, then each file's\n"
    "listeners in the order the files are given.\n";

constexpr std::string_view epilogue =
    "Exit status: 0 when every poem arrived whole; 1 when a download failed or a\n"
    "result could not be written; 2 for bad usage or input (one line on stderr,\n"
    "before any download); 128+N when stopped by signal N.\n"
    "Signals: SIGINT or SIGTERM stops the downloads, marks the unfinished ones\n"
    "interrupted, reports what arrived and exits 130 or 143; a second one exits at\n"
    "once.\n"
    "Limits: --timeout, --deadline and --wait above 0 up to 86400 s; --connections\n"
    "1 to 1000000; --workers 1 to 100000.\n";

/// "callbacks, futures and coroutines": the strategies for which `applies` holds.
template <class Predicate>
std::string names_of(Predicate applies) {
    std::vector<std::string_view> names;
    for (const auto& strategy : strategies()) {
        if (applies(strategy)) {
            names.push_back(strategy.name);
        }
    }
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i) {
        text += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + std::string(names[i]);
    }
    return text;
}

std::string strategy_list() {
    std::string names;
    for (const auto& strategy : strategies()) {
        names += std::string(strategy.name) + ", ";
    }
    return names + "all";
}

constexpr cli::ProgramText program{"poetry_client", POETRY_VERSION, description, "ADDRESS...", epilogue};

cxxopts::Options make_parser() {
    cxxopts::Options parser = cli::make_parser(program);
    // clang-format off
    parser.add_options()
        ("strategy", "How to download: " + strategy_list(),
         cxxopts::value<std::string>()->default_value("coroutines"), "NAME")
        ("selector", "For callbacks, futures and coroutines: auto, epoll, poll or select",
         cxxopts::value<std::string>()->default_value("auto"), "NAME")
        ("connections", "Download from each address K times at once (load generation)",
         cxxopts::value<std::string>()->default_value("1"), "K")
        ("workers", "For processes and threads: a pool of N instead of one per download",
         cxxopts::value<std::string>(), "N")
        ("timeout", "A download that receives nothing for S seconds fails (default: wait forever)",
         cxxopts::value<std::string>(), "S")
        ("deadline", "A download not finished S seconds after it started fails (default: none)",
         cxxopts::value<std::string>(), "S")
        ("ports-file", "Take the addresses (and each poem's size) from poetry_server's --ports-file; "
                       "repeat it for several servers, read in the order given",
         cxxopts::value<std::string>(), "FILE")
        ("wait", "With --ports-file: wait up to S seconds for each file to appear, written by a "
                 "running server", cxxopts::value<std::string>(), "S")
        ("print", "Print the poems before the summary, each after a header on stderr")
        ("output-dir", "Save each poem to DIR/<task>-<poem>.txt (the ports file's name, else "
                       "<host>-<port>), or .partial if incomplete",
         cxxopts::value<std::string>(), "DIR")
        ("json", "Print one JSON document instead of the human report")
        ("chunk-times", "With --json: each task's chunks as [seconds since the run's start, bytes]")
        ("timeline", "Draw each download's connect, chunks and end over time: an SVG file, or - for text",
         cxxopts::value<std::string>(), "FILE")
        ("q,quiet", "No progress lines: only the summary (and errors)")
        ("live", "On a terminal: the downloads as they happen, a line each, redrawn in place (at most "
                 "10 times a second) instead of the progress lines; elsewhere the usual report")
        ("addresses", "Server addresses", cxxopts::value<std::vector<std::string>>());
    // clang-format on
    cli::add_help_and_version(parser);
    parser.parse_positional({"addresses"});
    return parser;
}

/// --connections and --workers: a whole number of at least 1.
std::size_t parse_count(const std::string& text, std::size_t max, const std::string& flag) {
    return cli::parse_whole<std::size_t>(text, 1, max, flag);
}

Seconds parse_seconds(const std::string& text, const std::string& flag) {
    const std::optional<double> value = cli::to_number<double>(text);
    if (!value || *value <= 0 || *value > 86400) {
        throw cli::UsageError(flag + ": \"" + text + "\" is not a number of seconds above 0 and up to 86400");
    }
    return Seconds(*value);
}

}  // namespace

std::optional<ClientOptions> parse_options(int argc, const char* const* argv, std::ostream& out) {
    auto parser = make_parser();
    const auto answered = cli::parse_or_answer(parser, program, argc, argv, out);
    if (!answered) {
        return std::nullopt;
    }
    const cxxopts::ParseResult& parsed = *answered;

    cli::refuse_repeated(parsed, {"addresses", "ports-file"});
    ClientOptions options;
    if (parsed.count("addresses") != 0) {
        for (const auto& text : parsed["addresses"].as<std::vector<std::string>>()) {
            try {
                options.addresses.push_back(net::Address::parse(text));
            } catch (const std::invalid_argument& e) {
                throw cli::UsageError(e.what());
            }
        }
    }
    // Each --ports-file as given, in order. Not a vector<string> option: cxxopts splits those at commas,
    // and a comma is a legal character in a file name.
    for (const auto& argument : parsed.arguments()) {
        if (argument.key() == "ports-file") {
            options.ports_files.emplace_back(argument.value());
        }
    }
    if (parsed.count("wait") != 0) {
        if (options.ports_files.empty()) {
            throw cli::UsageError("--wait waits for a --ports-file: give one");
        }
        options.wait = parse_seconds(parsed["wait"].as<std::string>(), "--wait");
    }
    if (options.addresses.empty() && options.ports_files.empty()) {
        throw cli::UsageError("no address given: name at least one server address or a --ports-file");
    }

    options.strategy = parsed["strategy"].as<std::string>();
    if (options.strategy != "all" && find_strategy(options.strategy) == nullptr) {
        throw cli::UsageError("--strategy: \"" + options.strategy + "\" is not one of " + strategy_list());
    }
    options.settings.selector = cli::parse_selector(parsed["selector"].as<std::string>());
    options.connections = parse_count(parsed["connections"].as<std::string>(), 1'000'000, "--connections");
    const StrategyInfo* strategy = find_strategy(options.strategy);  // null: all
    if (parsed.count("selector") != 0 && strategy != nullptr && !strategy->uses_selector) {
        throw cli::UsageError("--selector applies to " +
                              names_of([](const StrategyInfo& s) { return s.uses_selector; }) +
                              " (or all), not to " + options.strategy);
    }
    if (parsed.count("workers") != 0) {
        if (strategy != nullptr && !strategy->uses_workers) {
            throw cli::UsageError("--workers applies to " +
                                  names_of([](const StrategyInfo& s) { return s.uses_workers; }) +
                                  " (or all), not to " + options.strategy);
        }
        options.settings.workers = parse_count(parsed["workers"].as<std::string>(), 100'000, "--workers");
    }
    if (parsed.count("timeout") != 0) {
        options.settings.timeout = parse_seconds(parsed["timeout"].as<std::string>(), "--timeout");
    }
    if (parsed.count("deadline") != 0) {
        options.settings.deadline = parse_seconds(parsed["deadline"].as<std::string>(), "--deadline");
    }
    options.print = parsed.count("print") != 0;
    if (parsed.count("output-dir") != 0) {
        options.output_dir = parsed["output-dir"].as<std::string>();
    }
    options.json = parsed.count("json") != 0;
    options.quiet = parsed.count("quiet") != 0;
    options.live = parsed.count("live") != 0;
    if (options.json && options.print) {
        throw cli::UsageError("--json and --print cannot be used together: both write to stdout");
    }
    if (parsed.count("timeline") != 0) {
        options.timeline = parsed["timeline"].as<std::string>();
        if (options.timeline->empty()) {
            throw cli::UsageError("--timeline: give a file name for the SVG, or - for text on stdout");
        }
    }
    if (options.json && options.timeline_on_stdout()) {
        throw cli::UsageError(
            "--timeline - and --json cannot be used together: both write to stdout (give "
            "--timeline a file name for the SVG)");
    }
    options.chunk_times = parsed.count("chunk-times") != 0;
    if (options.chunk_times && !options.json) {
        throw cli::UsageError("--chunk-times adds the chunks to the --json report: use it with --json");
    }
    return options;
}

}  // namespace poetry::client
