// Every client strategy against every server fault: one faulty download next to a healthy one in the
// same run. The client must end within its --timeout (plus slack), never crash, report the faulty
// download as partial or failed with its address and what it got, and still get the healthy poem
// byte-exact; the benign faults (delays, jitter, slow close) must not cost a byte. Then the seed:
// two fresh servers with the same --seed and --fault-rate fault the same connections.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "integration/client_run.hpp"
#include "integration/server_process.hpp"
#include "support/timing.hpp"

using namespace std::chrono_literals;
using namespace poetry::test;
namespace data = boost::unit_test::data;
using json = nlohmann::json;

namespace {

const std::vector<std::string> all_strategies{"blocking",  "processes", "threads",    "nonblocking",
                                              "callbacks", "futures",   "coroutines", "asio"};

/// A fault: the server option and its value for the faulty poem (the healthy one gets none), and
/// whether it cuts the poem short (exit status 1) or only changes its pace or chunking (exit status 0).
struct Fault {
    std::string option;
    std::string value;
    bool truncates = false;
};

std::ostream& operator<<(std::ostream& out, const Fault& fault) {
    return out << fault.option << ' ' << fault.value;
}

/// The byte limit of the truncating faults: well inside both poems, and not on a chunk boundary.
constexpr std::size_t limit = 120;

const std::vector<Fault> all_faults{
    {"--close-after", std::to_string(limit), true},
    {"--reset-after", std::to_string(limit), true},
    {"--hang-after", std::to_string(limit), true},
    {"--first-byte-delay", "0.3", false},
    {"--jitter", "0.01", false},
    {"--size-jitter", "20", false},
    {"--slow-close", "0.3", false},
};

/// The client's inactivity timeout, and how late past it (or past a quick run) it may still exit on a
/// loaded 2-core machine.
constexpr double client_timeout = 1.0;
constexpr double slack = 4.0;

/// Small, quick poems: 11 and 13 chunks of 50 bytes 0.01 s apart, about 0.1 s each.
const std::vector<std::string> pace{"--num-bytes", "50", "--delay", "0.01"};
const std::string faulty_poem = poem_path("alla_sera.txt");  // 551 bytes
const std::string healthy_poem = poem_path("science.txt");   // 645 bytes

std::vector<std::string> server_args(std::vector<std::string> options, const std::vector<std::string>& poems) {
    options.insert(options.begin(), pace.begin(), pace.end());
    options.insert(options.begin(), "-q");
    options.insert(options.end(), poems.begin(), poems.end());
    return options;
}

std::string address(std::uint16_t port) {
    return "127.0.0.1:" + std::to_string(port);
}

/// The name --output-dir gives a task's poem: the ports file names each poem.
std::string poem_file(int task, const ListenerInfo& listener, bool complete) {
    return std::to_string(task) + "-" + std::filesystem::path(listener.poem).stem().string() +
           (complete ? ".txt" : ".partial");
}

/// The listeners of every server in `servers`, in order, as one ports file in `dir`.
std::string merged_ports_file(const TempDir& dir, const std::vector<const RunningServer*>& servers) {
    json all = json::array();
    for (const RunningServer* server : servers) {
        for (const auto& entry : json::parse(read_file(server->ports_file()))) {
            all.push_back(entry);
        }
    }
    const auto path = dir / "ports.json";
    std::ofstream(path) << all.dump(2);
    return path.string();
}

/// The faulty poem (task 1) and the healthy one (task 2): their listeners, after the servers' start.
struct Setup {
    std::vector<std::unique_ptr<RunningServer>> servers;
    ListenerInfo faulty;
    ListenerInfo healthy;
    std::string ports_file;
};

/// One server with a per-poem value where "off" can be said per poem (0 seconds or bytes of jitter and
/// delay); for the byte limits, where 0 means "at once" rather than "off", a second server without
/// any fault serves the healthy poem.
Setup start(const Fault& fault, const TempDir& dir) {
    Setup setup;
    if (fault.truncates) {
        setup.servers.push_back(
            std::make_unique<RunningServer>(server_args({fault.option, fault.value}, {faulty_poem})));
        setup.servers.push_back(std::make_unique<RunningServer>(server_args({}, {healthy_poem})));
        setup.faulty = setup.servers[0]->listeners().at(0);
        setup.healthy = setup.servers[1]->listeners().at(0);
        setup.ports_file = merged_ports_file(dir, {setup.servers[0].get(), setup.servers[1].get()});
    } else {
        setup.servers.push_back(std::make_unique<RunningServer>(
            server_args({fault.option, fault.value + ",0"}, {faulty_poem, healthy_poem})));
        setup.faulty = setup.servers[0]->listeners().at(0);
        setup.healthy = setup.servers[0]->listeners().at(1);
        setup.ports_file = setup.servers[0]->ports_file().string();
    }
    return setup;
}

/// Task numbers (from 1) that did not complete.
std::set<int> failed_tasks(const json& report) {
    std::set<int> failed;
    for (const auto& task : report.at("tasks")) {
        if (task.at("status").get<std::string>() != "complete") {
            failed.insert(task.at("task").get<int>());
        }
    }
    return failed;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fault_matrix)

BOOST_DATA_TEST_CASE(a_faulty_download_is_reported_and_the_healthy_one_is_byte_exact,
                     data::make(all_strategies) * data::make(all_faults), strategy, fault) {
    const TempDir dir;
    const Setup setup = start(fault, dir);
    const auto saved = dir / "poems";
    const ProgramRun run =
        run_client({"--strategy", strategy, "--ports-file", setup.ports_file, "--timeout", "1", "--json",
                    "--output-dir", saved.string()});

    // No crash: 1 for a cut, 0 else. Within the timeout (only hang-after waits for it) plus slack, in the
    // plain build (a measurement); a client that never ends is killed after 60 s in every build.
    POETRY_TEST_TIMING(run.took.count() < client_timeout + slack, run);
    BOOST_TEST_REQUIRE((run.status == 0 || run.status == 1), run);
    BOOST_TEST(run.status == (fault.truncates ? 1 : 0), run);

    const json report = report_of(run);
    const json& tasks = report.at("tasks");
    BOOST_TEST_REQUIRE(tasks.size() == 2U, run);
    const json& faulty = tasks[0];
    const json& healthy = tasks[1];
    const std::string faulty_bytes = read_file(setup.faulty.poem);
    const std::string healthy_bytes = read_file(setup.healthy.poem);

    // The healthy download, in the same run, is whole whatever happened to the other.
    BOOST_TEST(healthy.at("address").get<std::string>() == address(setup.healthy.port), run);
    BOOST_TEST(healthy.at("status").get<std::string>() == "complete", run);
    BOOST_TEST(healthy.at("bytes").get<std::size_t>() == setup.healthy.bytes, run);
    BOOST_TEST(healthy.at("error").is_null(), run);
    BOOST_TEST(read_file(saved / poem_file(2, setup.healthy, true)) == healthy_bytes, run);

    BOOST_TEST(faulty.at("address").get<std::string>() == address(setup.faulty.port), run);
    const auto status = faulty.at("status").get<std::string>();
    const auto got = faulty.at("bytes").get<std::size_t>();
    // For the table in tests/FAULTS.md: tests/faults_report.py reads these (--log_level=message).
    const json outcome{{"strategy", strategy},         {"fault", fault.option}, {"value", fault.value},
                       {"exit", run.status},           {"status", status},      {"bytes", got},
                       {"error", faulty.at("error")}, {"seconds", run.took.count()}};
    BOOST_TEST_MESSAGE("outcome: " << outcome.dump());
    if (!fault.truncates) {
        BOOST_TEST(status == "complete", run);
        BOOST_TEST(got == setup.faulty.bytes, run);
        BOOST_TEST(faulty.at("error").is_null(), run);
        BOOST_TEST(read_file(saved / poem_file(1, setup.faulty, true)) == faulty_bytes, run);
        return;
    }

    BOOST_TEST((status == "partial" || status == "failed"), run);
    BOOST_TEST_REQUIRE(faulty.at("error").is_string(), run);
    const auto error = faulty.at("error").get<std::string>();
    BOOST_TEST(!error.empty(), run);
    BOOST_TEST(got <= limit, run);
    if (fault.option == "--close-after") {
        // A clean close before the end: exactly the limit, and the error says how much of how much.
        BOOST_TEST(status == "partial", run);
        BOOST_TEST(got == limit, run);
        BOOST_TEST(error == "connection closed after " + std::to_string(limit) + " of " +
                                std::to_string(setup.faulty.bytes) + " bytes",
                   run);
    } else if (fault.option == "--hang-after") {
        // Everything before the silence arrives; then the timeout ends it, not the server.
        BOOST_TEST(status == "partial", run);
        BOOST_TEST(got == limit, run);
        BOOST_TEST(error == "no data for 1.00 s", run);
        BOOST_TEST(run.took.count() >= client_timeout, run);
    } else {
        // A reset may lose what was still unread; whatever arrived is a prefix of the poem.
        BOOST_TEST(error.find("reset") != std::string::npos, run);
    }
    // What arrived is saved as .partial (a download that got nothing saves nothing), and is the poem's
    // first bytes.
    if (got > 0) {
        BOOST_TEST(read_file(saved / poem_file(1, setup.faulty, false)) == faulty_bytes.substr(0, got),
                   run);
    }
    BOOST_TEST(!std::filesystem::exists(saved / poem_file(1, setup.faulty, true)), run);
}

/// The file --output-dir wrote for task `task` (from 1): a proxied listener names no poem, so the client
/// names it by its address. Empty if there is none.
std::filesystem::path saved_file(const std::filesystem::path& dir, int task, const std::string& extension) {
    if (!std::filesystem::exists(dir)) {
        return {};
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(std::to_string(task) + "-", 0) == 0 && entry.path().extension() == extension) {
            return entry.path();
        }
    }
    return {};
}

// The proxied column: every strategy downloads both poems through poetry_server --upstream, which
// paces them and resets the faulty one after `limit` bytes of its own (the upstream serves both whole,
// at full speed). The healthy one arrives byte-exact; the faulty one is reported as reset, with a
// prefix of the poem.
BOOST_DATA_TEST_CASE(through_the_proxy_the_healthy_download_is_byte_exact_and_the_proxys_reset_is_reported,
                     data::make(all_strategies), strategy) {
    const TempDir dir;
    RunningServer upstream({"-q", "--num-bytes", "100000", "--delay", "0", faulty_poem, healthy_poem});
    RunningServer proxy({"-q", "--num-bytes", "50", "--delay", "0.01", "--upstream",
                         address(upstream.port(0)) + "," + address(upstream.port(1)), "--reset-after",
                         std::to_string(limit) + ",-"});
    const auto saved = dir / "poems";
    const ProgramRun run = run_client({"--strategy", strategy, "--ports-file", proxy.ports_file().string(), "--timeout",
                                       "1", "--json", "--output-dir", saved.string()});
    POETRY_TEST_TIMING(run.took.count() < client_timeout + slack, run);
    BOOST_TEST_REQUIRE(run.status == 1, run);
    const json report = report_of(run);
    const json& tasks = report.at("tasks");
    BOOST_TEST_REQUIRE(tasks.size() == 2U, run);
    const json& faulty = tasks[0];
    const json& healthy = tasks[1];
    const std::string faulty_bytes = read_file(faulty_poem);
    const std::string healthy_bytes = read_file(healthy_poem);

    BOOST_TEST(healthy.at("address").get<std::string>() == address(proxy.port(1)), run);
    BOOST_TEST(healthy.at("status").get<std::string>() == "complete", run);
    BOOST_TEST(healthy.at("bytes").get<std::size_t>() == healthy_bytes.size(), run);
    BOOST_TEST(read_file(saved_file(saved, 2, ".txt")) == healthy_bytes, run);

    const auto status = faulty.at("status").get<std::string>();
    const auto got = faulty.at("bytes").get<std::size_t>();
    const json outcome{{"strategy", strategy},         {"fault", "proxied --reset-after"},
                       {"value", std::to_string(limit)}, {"exit", run.status},
                       {"status", status},             {"bytes", got},
                       {"error", faulty.at("error")},  {"seconds", run.took.count()}};
    BOOST_TEST_MESSAGE("outcome: " << outcome.dump());
    BOOST_TEST(faulty.at("address").get<std::string>() == address(proxy.port(0)), run);
    BOOST_TEST((status == "partial" || status == "failed"), run);
    BOOST_TEST_REQUIRE(faulty.at("error").is_string(), run);
    BOOST_TEST(faulty.at("error").get<std::string>().find("reset") != std::string::npos, run);
    BOOST_TEST(got <= limit, run);
    if (got > 0) {
        BOOST_TEST(read_file(saved_file(saved, 1, ".partial")) == faulty_bytes.substr(0, got), run);
    }
}

// Which connections get faults depends only on the seed and the connection number: two fresh servers
// with the same seed fault the same downloads. blocking connects one after another, so connection
// number k is task k + 1.
BOOST_AUTO_TEST_CASE(the_same_seed_faults_the_same_connections_on_a_fresh_server) {
    std::vector<std::set<int>> runs;
    for (int i = 0; i < 2; ++i) {
        RunningServer server(
            server_args({"--fault-rate", "0.5", "--seed", "7", "--close-after", "100"}, {faulty_poem}));
        const ProgramRun run = run_client({"--strategy", "blocking", "--ports-file", server.ports_file().string(),
                                          "--connections", "10", "--timeout", "1", "--json"});
        POETRY_TEST_TIMING(run.took.count() < client_timeout + slack, run);
        const json report = report_of(run);
        BOOST_TEST_REQUIRE(report.at("tasks").size() == 10U, run);
        const std::set<int> failed = failed_tasks(report);
        BOOST_TEST(run.status == (failed.empty() ? 0 : 1), run);
        for (const auto& task : report.at("tasks")) {
            const bool complete = task.at("status").get<std::string>() == "complete";
            BOOST_TEST(task.at("bytes").get<std::size_t>() == (complete ? 551U : 100U), run);
        }
        runs.push_back(failed);
    }
    // A rate of 0.5 over 10 connections: seed 7 faults some and spares some (else the check says little).
    BOOST_TEST(!runs[0].empty());
    BOOST_TEST(runs[0].size() < 10U);
    BOOST_TEST(runs[0] == runs[1]);
}

BOOST_AUTO_TEST_SUITE_END()
