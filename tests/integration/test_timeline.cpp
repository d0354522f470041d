// poetry_client's pictures of a run, from the real binary against a real poetry_server on free ports:
// --timeline FILE.svg (well-formed, renders, a lane per download and a mark per chunk, one panel per
// strategy on one time axis, capped lanes, a CPU strip per panel), --timeline - (a text row per
// download, a CPU row per strategy), busy polling's full CPU strip against blocking's empty one,
// --chunk-times in the JSON, and the usage errors. xmllint and rsvg-convert must be installed (scripts/install-deps.sh):
// without them the SVG checks fail rather than pass unchecked.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "integration/bad_input.hpp"
#include "integration/client_run.hpp"
#include "integration/server_process.hpp"
#include "support/timing.hpp"
#include "poetry/net/socket.hpp"

using namespace std::chrono_literals;
using namespace poetry::test;
namespace data = boost::unit_test::data;
namespace net = poetry::net;
using json = nlohmann::json;

namespace {

//---------------------------------------------------------------------------------------------------------
// Checking pictures with real tools (running programs: integration/client_run.hpp)

/// The full path of `name` on PATH (ChildProcess does not search it). A missing tool fails the test:
/// CI installs it, and a picture nobody checked must not pass.
std::string installed(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
    }
    BOOST_FAIL(name << " is not installed (scripts/install-deps.sh installs it): cannot check the SVG");
    return {};
}

/// xmllint finds the file well-formed, and rsvg-convert draws it into a PNG.
void check_renders(const std::filesystem::path& svg) {
    const ProgramRun lint = run_program({installed("xmllint"), "--noout", svg.string()});
    BOOST_TEST(lint.status == 0, lint);
    BOOST_TEST(lint.err.empty(), lint);
    const TempDir dir;
    const ProgramRun render = run_program({installed("rsvg-convert"), "-o", (dir / "out.png").string(), svg.string()});
    BOOST_TEST_REQUIRE(render.status == 0, render);
    const std::string png = read_file(dir / "out.png");
    BOOST_TEST(png.size() > 1000U, "a PNG of " << png.size() << " bytes");
    BOOST_TEST(png.starts_with("\x89PNG\r\n\x1a\n"), "not a PNG");
}

//---------------------------------------------------------------------------------------------------------
// Reading the pictures

/// The parts of `text` that start with `marker`, each up to the next (or to the end).
std::vector<std::string> parts_from(const std::string& text, const std::string& marker) {
    std::vector<std::string> parts;
    for (auto at = text.find(marker); at != std::string::npos;) {
        const auto next = text.find(marker, at + marker.size());
        parts.push_back(text.substr(at, next == std::string::npos ? std::string::npos : next - at));
        at = next;
    }
    return parts;
}

/// An SVG lane: its <g class="lane"> element, up to its end.
struct Lane {
    std::string label;
    std::size_t chunks = 0;  // class="chunk" marks
    std::size_t connects = 0;
    std::size_t finishes = 0;
    std::size_t fails = 0;
    std::optional<double> finish_x;
};

std::vector<Lane> lanes_of(const std::string& panel) {
    std::vector<Lane> lanes;
    for (const auto& part : parts_from(panel, "<g class=\"lane\"")) {
        const std::string lane = part.substr(0, part.find("</g>"));
        Lane parsed;
        std::smatch match;
        if (std::regex_search(lane, match, std::regex("text-anchor=\"end\">([^<]*)</text>"))) {
            parsed.label = match[1];
        }
        parsed.chunks = count(lane, "class=\"chunk\"");
        parsed.connects = count(lane, "class=\"connect\"");
        parsed.finishes = count(lane, "class=\"finish\"");
        parsed.fails = count(lane, "class=\"fail\"");
        if (std::regex_search(lane, match, std::regex("class=\"finish\" cx=\"([0-9.]+)\""))) {
            parsed.finish_x = std::stod(match[1]);
        }
        lanes.push_back(parsed);
    }
    return lanes;
}

/// A panel's CPU strip (<g class="cpu-strip">): the share of its length (the run's) drawn at least
/// `busy_cores` high, read from its step path ("M x bottom", then V y and H x, then "V bottom Z").
struct CpuStrip {
    unsigned cores = 0;  // full height
    double length = 0;   // in px, the run's wall time
    double busy = 0;     // in px, at least busy_cores of use
};

constexpr double busy_cores = 0.05;  // the text row's first mark, '.'
constexpr double cpu_strip_height = 10;

std::optional<CpuStrip> cpu_strip_of(const std::string& panel) {
    std::smatch match;
    if (!std::regex_search(panel, match,
                           std::regex("<g class=\"cpu-strip\" data-cores=\"(\\d+)\">.*<path class=\"cpu\" "
                                      "d=\"M([0-9.]+) ([0-9.]+)([^\"]*)Z\"/>"))) {
        return std::nullopt;
    }
    CpuStrip strip;
    strip.cores = static_cast<unsigned>(std::stoul(match[1]));
    double x = std::stod(match[2]);
    const double bottom = std::stod(match[3]);
    double y = bottom;
    const double busy_height = cpu_strip_height * busy_cores / strip.cores - 0.05;  // drawn to 0.1 px
    const std::string commands = match[4];
    const std::regex command("([VH])([0-9.]+)");
    for (auto it = std::sregex_iterator(commands.begin(), commands.end(), command); it != std::sregex_iterator();
         ++it) {
        const double value = std::stod((*it)[2]);
        if ((*it)[1] == "V") {
            y = value;
        } else {
            strip.length += value - x;
            strip.busy += bottom - y >= busy_height ? value - x : 0;
            x = value;
        }
    }
    return strip;
}

/// An SVG panel (<g class="panel">): its title, lanes and CPU strip.
struct Panel {
    std::string title;
    std::vector<Lane> lanes;
    std::optional<CpuStrip> cpu;
};

std::vector<Panel> panels_of(const std::string& svg) {
    std::vector<Panel> panels;
    for (const auto& part : parts_from(svg, "<g class=\"panel\">")) {
        Panel panel;
        std::smatch match;
        if (std::regex_search(part, match, std::regex("class=\"title\"[^>]*>([^<]*)</text>"))) {
            panel.title = match[1];
        }
        panel.lanes = lanes_of(part);
        panel.cpu = cpu_strip_of(part);
        panels.push_back(panel);
    }
    return panels;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

/// A row of the text timeline, "Task 3 127.0.0.1:8000  c1.1.1|": its task and its marks, from the
/// first column of time (so that positions in two rows compare). Task 0 is the strategy's CPU row,
/// "CPU  ::-==#|".
struct Row {
    int task = 0;
    std::string marks;
};

/// The text timeline's rows by strategy, from the "Timeline:" line on. The line after it is the ruler,
/// whose first label stands over the first column of time.
std::map<std::string, std::vector<Row>> text_rows(const std::string& out) {
    std::map<std::string, std::vector<Row>> rows;
    const std::regex header("== (\\w+): \\d+\\.\\d\\d s wall, \\d+\\.\\d\\d s CPU, \\d+ of \\d+ complete ==");
    const std::regex row("(?:Task (\\d+) \\S+|CPU) .*");
    std::string strategy;
    std::optional<std::size_t> first_column;
    bool in_timeline = false;
    for (const auto& line : lines_of(out)) {
        std::smatch match;
        if (line.starts_with("Timeline: ")) {
            in_timeline = true;
        } else if (in_timeline && !first_column) {
            first_column = line.find_first_not_of(' ');
        } else if (in_timeline && std::regex_match(line, match, header)) {
            strategy = match[1];
        } else if (in_timeline && !strategy.empty() && std::regex_match(line, match, row)) {
            // The CPU row is task 0.
            rows[strategy].push_back({match[1].matched ? std::stoi(match[1]) : 0,
                                      line.substr(std::min(*first_column, line.size()))});
        }
    }
    return rows;
}

/// The chunks a row shows: the sum of its digits.
std::size_t chunks_in(const std::string& marks) {
    std::size_t chunks = 0;
    for (const char c : marks) {
        if (c >= '0' && c <= '9') {
            chunks += static_cast<std::size_t>(c - '0');
        }
    }
    return chunks;
}

/// The share of a CPU row's columns (before its closing '|') marked at least '.': 5% of a core.
double busy_share(const std::string& cpu_marks) {
    const std::string columns = cpu_marks.substr(0, cpu_marks.find('|'));
    if (columns.empty()) {
        return 0;
    }
    return static_cast<double>(std::count_if(columns.begin(), columns.end(), [](char c) { return c != ' '; })) /
           static_cast<double>(columns.size());
}

//---------------------------------------------------------------------------------------------------------
// Servers

/// Two poems in 100-byte chunks 20 ms apart: alla_sera.txt 6 chunks in 0.10 s, science.txt 7 in 0.12 s.
std::vector<std::string> two_paced_poems() {
    return {"--num-bytes", "100", "--delay", "0.02", poem_path("alla_sera.txt"), poem_path("science.txt")};
}

std::vector<std::string> ports_of(const RunningServer& server) {
    std::vector<std::string> ports;
    for (const auto& listener : server.listeners()) {
        ports.push_back(std::to_string(listener.port));
    }
    return ports;
}

const std::vector<std::string> all_strategies{"blocking",  "processes", "threads",    "nonblocking",
                                              "callbacks", "futures",   "coroutines", "asio"};

}  // namespace

//---------------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(timeline)

BOOST_AUTO_TEST_CASE(the_svg_renders_with_a_lane_per_download_and_a_mark_per_chunk_and_failures_crossed) {
    RunningServer server(two_paced_poems());
    const RefusedPort refused;
    const TempDir dir;
    const auto svg_path = dir / "run.svg";
    std::vector<std::string> args{"--json", "--connections", "2", "--timeline", svg_path.string()};
    for (const auto& port : ports_of(server)) {
        args.push_back(port);
    }
    args.push_back(refused.port());
    const ProgramRun client = run_client(args);
    BOOST_TEST_REQUIRE(client.status == 1, client);  // the refused port's two downloads failed
    const json tasks = report_of(client).at("tasks");
    BOOST_REQUIRE_EQUAL(tasks.size(), 6U);

    check_renders(svg_path);
    const std::string svg = read_file(svg_path);
    const auto panels = panels_of(svg);
    BOOST_REQUIRE_EQUAL(panels.size(), 1U);
    BOOST_TEST(panels[0].title.starts_with("coroutines"), panels[0].title);
    const auto& lanes = panels[0].lanes;
    BOOST_REQUIRE_EQUAL(lanes.size(), 6U);
    std::size_t chunks = 0;
    for (std::size_t i = 0; i < lanes.size(); ++i) {
        const json& task = tasks[i];
        BOOST_TEST_CONTEXT("task " << i + 1 << ": " << task.dump()) {
            BOOST_TEST(lanes[i].label ==
                       "Task " + std::to_string(i + 1) + " " + task.at("address").get<std::string>());
            BOOST_TEST(lanes[i].chunks == task.at("chunks").get<std::size_t>());
            const bool complete = task.at("status") == "complete";
            BOOST_TEST(lanes[i].finishes == (complete ? 1U : 0U));
            BOOST_TEST(lanes[i].fails == (complete ? 0U : 1U));
            BOOST_TEST(lanes[i].connects == (task.at("connected").is_null() ? 0U : 1U));
        }
        chunks += task.at("chunks").get<std::size_t>();
    }
    // The refused downloads are tasks 5 and 6, and the whole poems came in several chunks each.
    BOOST_TEST(lanes[4].fails == 1U);
    BOOST_TEST(lanes[5].connects == 0U);
    BOOST_TEST(chunks >= 4 * 2U);
    BOOST_TEST(count(svg, "class=\"chunk\"") == chunks);
    BOOST_TEST(count(svg, "class=\"lane\"") == 6U);
    BOOST_TEST(count(svg, "class=\"more\"") == 0U);
}

BOOST_AUTO_TEST_CASE(strategy_all_draws_a_titled_panel_per_strategy_on_one_time_axis) {
    RunningServer server(two_paced_poems());
    const TempDir dir;
    const auto svg_path = dir / "all.svg";
    std::vector<std::string> args{"--strategy", "all", "--json", "--timeline", svg_path.string()};
    for (const auto& port : ports_of(server)) {
        args.push_back(port);
    }
    const ProgramRun client = run_client(args);
    BOOST_TEST_REQUIRE(client.status == 0, client);
    const json runs = report_of(client).at("strategies");
    BOOST_REQUIRE_EQUAL(runs.size(), all_strategies.size());

    check_renders(svg_path);
    const auto panels = panels_of(read_file(svg_path));
    BOOST_REQUIRE_EQUAL(panels.size(), all_strategies.size());
    // Each panel's finish marks sit where its own times put them on one shared scale: x = a + b * t for
    // the same a and b in every panel, t the task's "finished" (seconds since its strategy's start).
    std::vector<std::pair<double, double>> finishes;  // (t, x)
    for (std::size_t s = 0; s < panels.size(); ++s) {
        const std::string& strategy = all_strategies[s];
        BOOST_TEST_CONTEXT(strategy) {
            const json& run = runs[s];
            char wall[32];
            std::snprintf(wall, sizeof(wall), "%.2f s", run.at("totals").at("wall").get<double>());
            BOOST_TEST(panels[s].title.starts_with(strategy + " "), panels[s].title);
            BOOST_TEST(panels[s].title.find(wall) != std::string::npos, panels[s].title << " lacks " << wall);
            // The CPU beside it (its figure is the report's, rounded after the user and system times add up).
            BOOST_TEST(std::regex_search(panels[s].title, std::regex(" s wall, \\d+\\.\\d\\d s CPU, ")),
                       panels[s].title);
            // Every panel has its CPU strip, as long as the run.
            BOOST_TEST_REQUIRE(panels[s].cpu.has_value(), strategy << " has no CPU strip");
            BOOST_TEST(panels[s].cpu->cores >= 1U);
            BOOST_TEST(panels[s].cpu->length > 0);
            BOOST_REQUIRE_EQUAL(panels[s].lanes.size(), 2U);
            for (std::size_t i = 0; i < 2; ++i) {
                const json& task = run.at("tasks")[i];
                BOOST_TEST(panels[s].lanes[i].chunks == task.at("chunks").get<std::size_t>());
                BOOST_TEST_REQUIRE(panels[s].lanes[i].finish_x.has_value());
                finishes.emplace_back(task.at("finished").get<double>(), *panels[s].lanes[i].finish_x);
            }
        }
    }
    const auto [earliest, latest] = std::minmax_element(finishes.begin(), finishes.end());
    BOOST_REQUIRE(latest->first - earliest->first > 0.05);  // blocking's second poem ends a poem later
    const double b = (latest->second - earliest->second) / (latest->first - earliest->first);
    BOOST_TEST(b > 0);
    for (const auto& [t, x] : finishes) {
        const double expected = earliest->second + b * (t - earliest->first);
        BOOST_TEST(std::abs(x - expected) < 1.0,
                   "finished " << t << " s drawn at x " << x << ", not " << expected);
    }
}

BOOST_AUTO_TEST_CASE(the_text_timeline_has_a_row_per_download_and_blocking_makes_a_staircase) {
    RunningServer server(two_paced_poems());
    const RefusedPort refused;
    std::vector<std::string> args{"--strategy", "all", "--timeline", "-"};
    for (const auto& port : ports_of(server)) {
        args.push_back(port);
    }
    args.push_back(refused.port());
    const ProgramRun client = run_client(args);
    BOOST_TEST_REQUIRE(client.status == 1, client);

    // The chunks of each whole poem, from the report's lines: "Task 1: got the whole poem ... in 6 chunks".
    std::map<std::pair<std::string, int>, std::size_t> chunks;
    std::string section;
    const std::regex whole("Task (\\d+): got the whole poem from \\S+: \\d+ bytes in (\\d+) chunks?, .*");
    for (const auto& line : lines_of(client.out)) {
        std::smatch match;
        if (line.starts_with("== ") && line.ends_with(" ==") && line.find(':') == std::string::npos) {
            section = line.substr(3, line.size() - 6);
        } else if (std::regex_match(line, match, whole)) {
            chunks[{section, std::stoi(match[1])}] = std::stoul(match[2]);
        }
    }
    BOOST_TEST(client.out.find("Timeline: 1 column = ") != std::string::npos, client);

    const auto rows = text_rows(client.out);
    BOOST_REQUIRE_EQUAL(rows.size(), all_strategies.size());
    for (const auto& strategy : all_strategies) {
        BOOST_TEST_CONTEXT(strategy << "\n" << client.out) {
            BOOST_REQUIRE(rows.contains(strategy));
            // First the strategy's CPU row, a mark per column up to the run's end, then a row per task.
            auto rows_of = rows.at(strategy);
            BOOST_REQUIRE_EQUAL(rows_of.size(), 4U);
            BOOST_TEST(rows_of[0].task == 0);
            BOOST_TEST(std::regex_match(rows_of[0].marks, std::regex("[ .:=#-]+\\|")), rows_of[0].marks);
            BOOST_TEST(rows_of[0].marks.size() <= 61U, rows_of[0].marks);
            rows_of.erase(rows_of.begin());
            for (int task = 1; task <= 2; ++task) {
                const std::string& marks = rows_of[task - 1].marks;
                BOOST_TEST(rows_of[task - 1].task == task);
                BOOST_TEST(std::regex_match(marks, std::regex(" *c[1-9.]*\\|")), marks);
                const std::size_t received = chunks[std::make_pair(strategy, task)];
                BOOST_TEST(received >= 1U);
                BOOST_TEST(chunks_in(marks) == received, marks);
                BOOST_TEST(marks.size() <= 62U, marks);  // 60 columns, and the marks may push the end on
            }
            BOOST_TEST(rows_of[2].task == 3);
            BOOST_TEST(std::regex_match(rows_of[2].marks, std::regex(" *x")), rows_of[2].marks);
            const std::size_t first_end = rows_of[0].marks.find('|');
            const std::size_t second_connect = rows_of[1].marks.find('c');
            if (strategy == "blocking" || strategy == "nonblocking") {
                // One after another: the second connects only once the first has ended.
                BOOST_TEST(second_connect + 1 >= first_end, rows_of[0].marks << "\n" << rows_of[1].marks);
            } else {
                BOOST_TEST(second_connect < first_end, rows_of[0].marks << "\n" << rows_of[1].marks);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(chunk_times_list_each_chunk_in_order_between_first_and_last_byte) {
    RunningServer server(two_paced_poems());
    std::vector<std::string> args{"--strategy", "all", "--json", "--chunk-times"};
    for (const auto& port : ports_of(server)) {
        args.push_back(port);
    }
    const ProgramRun client = run_client(args);
    BOOST_TEST_REQUIRE(client.status == 0, client);
    const json report = report_of(client);  // for (... : report_of(client).at(...)) reads a freed temporary
    for (const auto& run : report.at("strategies")) {
        for (const auto& task : run.at("tasks")) {
            BOOST_TEST_CONTEXT(run.at("strategy") << " task " << task.at("task")) {
                const json& times = task.at("chunk_times");
                BOOST_TEST(times.size() == task.at("chunks").get<std::size_t>());
                const double first = task.at("first_byte").get<double>();
                const double last = task.at("last_byte").get<double>();
                std::size_t bytes = 0;
                double previous = first;
                for (const auto& chunk : times) {
                    BOOST_REQUIRE_EQUAL(chunk.size(), 2U);
                    const double at = chunk[0].get<double>();
                    BOOST_TEST(at >= previous, chunk.dump());
                    BOOST_TEST(at <= last, chunk.dump());
                    BOOST_TEST(chunk[1].get<std::size_t>() >= 1U);
                    bytes += chunk[1].get<std::size_t>();
                    previous = at;
                }
                BOOST_TEST(bytes == task.at("bytes").get<std::size_t>());
                BOOST_TEST(times.front()[0].get<double>() == first);
                BOOST_TEST(times.back()[0].get<double>() == last);
            }
        }
    }
    // Only when asked: the JSON of a plain run has no chunk times.
    const ProgramRun plain = run_client({"--json", ports_of(server).front()});
    BOOST_TEST_REQUIRE(plain.status == 0, plain);
    BOOST_TEST(!report_of(plain).at("tasks")[0].contains("chunk_times"), plain);
}

// The CPU row and strip tell busy polling from blocking: both fetch the two poems one after the other
// (about 1 s), but nonblocking spins on recv all the while, and blocking sleeps in it. The shares are
// measurements (plain build only) with room for a loaded 2-core machine: nonblocking keeps a core busy
// when it has one (0.4 of one beside four busy loops), and 5% of a core marks a column busy.
BOOST_DATA_TEST_CASE(busy_polling_fills_the_cpu_row_and_strip_and_blocking_leaves_them_empty,
                     data::make(std::vector<std::string>{"nonblocking", "blocking"}), strategy) {
    RunningServer server({"--num-bytes", "100", "--delay", "0.08", poem_path("alla_sera.txt"),
                          poem_path("science.txt")});
    std::vector<std::string> args{"-q", "--strategy", strategy, "--timeline", "-"};
    for (const auto& port : ports_of(server)) {
        args.push_back(port);
    }
    const ProgramRun text = run_client(args);
    BOOST_TEST_REQUIRE(text.status == 0, text);
    const auto rows = text_rows(text.out);
    BOOST_REQUIRE(rows.contains(strategy));
    BOOST_REQUIRE(!rows.at(strategy).empty());
    const Row& cpu = rows.at(strategy).front();
    BOOST_TEST_REQUIRE(cpu.task == 0, text);
    BOOST_TEST(std::regex_match(cpu.marks, std::regex("[ .:=#-]{20,}\\|")), cpu.marks);  // 1 s: 50+ columns
    const double text_busy = busy_share(cpu.marks);

    const TempDir dir;
    const auto svg_path = dir / "cpu.svg";
    args[4] = svg_path.string();
    const ProgramRun picture = run_client(args);
    BOOST_TEST_REQUIRE(picture.status == 0, picture);
    check_renders(svg_path);
    const auto panels = panels_of(read_file(svg_path));
    BOOST_REQUIRE_EQUAL(panels.size(), 1U);
    BOOST_TEST_REQUIRE(panels[0].cpu.has_value());
    const CpuStrip& strip = *panels[0].cpu;
    BOOST_TEST_REQUIRE(strip.length > 100);  // the run spans the axis: 740 px
    const double svg_busy = strip.busy / strip.length;

    BOOST_TEST_MESSAGE(strategy << ": busy in " << text_busy << " of the text row, " << svg_busy
                                << " of the strip\n" << text.out);
    if (strategy == "nonblocking") {
        POETRY_TEST_TIMING(text_busy >= 0.5, cpu.marks << "\n" << text.out);
        POETRY_TEST_TIMING(svg_busy >= 0.5, "busy " << svg_busy);
    } else {
        POETRY_TEST_TIMING(text_busy <= 0.2, cpu.marks << "\n" << text.out);
        POETRY_TEST_TIMING(svg_busy <= 0.2, "busy " << svg_busy);
    }
}

BOOST_AUTO_TEST_CASE(many_downloads_draw_at_most_50_lanes_and_say_how_many_more) {
    RunningServer server({"--num-bytes", "100", "--delay", "0.02", poem_path("alla_sera.txt")});
    const std::string port = std::to_string(server.port());
    const TempDir dir;
    const auto svg_path = dir / "many.svg";
    const ProgramRun client = run_client({"-q", "--connections", "80", "--timeline", svg_path.string(), port});
    BOOST_TEST_REQUIRE(client.status == 0, client);
    check_renders(svg_path);
    const std::string svg = read_file(svg_path);
    BOOST_TEST(count(svg, "class=\"lane\"") == 50U);
    BOOST_TEST(svg.find("\u2026 and 30 more downloads not shown") != std::string::npos);
    BOOST_TEST(svg.size() < 100'000U, "an SVG of " << svg.size() << " bytes for 50 lanes");

    const ProgramRun text = run_client({"-q", "--connections", "80", "--timeline", "-", port});
    BOOST_TEST_REQUIRE(text.status == 0, text);
    const auto rows = text_rows(text.out);
    BOOST_REQUIRE(rows.contains("coroutines"));
    const auto& coroutines = rows.at("coroutines");
    BOOST_TEST(coroutines.size() == 51U);  // the CPU row and 50 tasks
    BOOST_TEST(std::count_if(coroutines.begin(), coroutines.end(), [](const Row& r) { return r.task > 0; }) == 50);
    BOOST_TEST(text.out.find("... and 30 more downloads not shown") != std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END()

//---------------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(timeline_input)

// A listener that never accepts: if a download started, the connection would wait in its queue.
BOOST_DATA_TEST_CASE(
    usage_errors_exit_2_with_one_line_before_any_download,
    data::make(std::vector<BadInput>{
        {{"--timeline", "-", "--json"}, "--timeline - and --json cannot be used together"},
        {{"--json", "--timeline=-"}, "--timeline - and --json cannot be used together"},
        {{"--chunk-times"}, "--chunk-times adds the chunks to the --json report: use it with --json"},
        {{"--timeline", "/nonexistent-dir/x.svg"}, "--timeline /nonexistent-dir/x.svg: cannot write it"},
        {{"--timeline", ""}, "--timeline: give a file name for the SVG, or - for text on stdout"},
    }),
    input) {
    const auto listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    std::vector<std::string> args = input.args;
    args.push_back(std::to_string(listener.local_endpoint().port()));
    const ProgramRun client = run_client(args);
    std::ostringstream context;
    context << client;
    check_refused("poetry_client", client.status, client.out, client.err, input.message, input.usage,
                  context.str());
    pollfd ready{listener.fd(), POLLIN, 0};
    BOOST_TEST(::poll(&ready, 1, 0) == 0, "a download started");
}

BOOST_AUTO_TEST_SUITE_END()
