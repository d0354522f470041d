// poetry_server's faults on demand, the real binary in every mode: cut-offs (FIN, RST, hang), delays,
// jitter, the slow close, which connections get faults (rate and seed), the ports file, bad input.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "integration/bad_input.hpp"
#include "integration/server_modes.hpp"
#include "integration/server_process.hpp"
#include "poetry/net/socket.hpp"
#include "support/clock.hpp"
#include "support/timing.hpp"

using namespace std::chrono_literals;
using namespace poetry::test;
namespace data = boost::unit_test::data;
namespace net = poetry::net;

namespace {

const std::vector<std::string>& modes = server_modes;
const std::string alla_sera = poem_path("alla_sera.txt");  // 551 bytes

/// Timing checks have exact lower bounds in every build, and loose upper ones for a loaded 2-core
/// machine, in the plain build only (support/timing.hpp).
constexpr auto late_slack = 3s;

/// How a reading ended.
enum class End { end_of_stream, reset, timed_out, other };

/// What a client got, with times measured from just before it connected: the server accepted after
/// that, so every lower bound the server promises holds against these times without slack.
struct Reading {
    Clock::time_point started;
    std::string bytes;
    Clock::time_point first_byte;
    Clock::time_point last_byte;
    Clock::time_point ended;
    End end = End::other;
    std::string error;
};

/// Reads from `socket` (connected at `started`) until end of stream, an error, or `patience` of silence;
/// but until `expected` bytes have come, silence ends it only after 10 s (a server held up on a loaded
/// machine is not a silent one).
Reading read_all(net::Socket& socket, Clock::time_point started, std::chrono::milliseconds patience = 10s,
                 std::size_t expected = 0) {
    Reading got;
    got.started = started;
    const auto set_patience = [&socket](std::chrono::milliseconds wait) {
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(wait).count();
        const timeval timeout{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
        ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    };
    set_patience(expected > 0 ? 10s : patience);
    std::byte buffer[65536];
    for (;;) {
        std::error_code ec;
        const std::size_t n = socket.recv(buffer, ec);
        got.ended = Clock::now();
        if (ec) {
            got.error = ec.message();
            got.end =
                ec == std::errc::connection_reset ? End::reset
                : ec == std::errc::resource_unavailable_try_again || ec == std::errc::operation_would_block
                    ? End::timed_out
                    : End::other;
            return got;
        }
        if (n == 0) {
            got.end = End::end_of_stream;
            return got;
        }
        if (got.bytes.empty()) {
            got.first_byte = got.ended;
        }
        got.last_byte = got.ended;
        const bool had_less = got.bytes.size() < expected;
        got.bytes.append(reinterpret_cast<const char*>(buffer), n);
        if (had_less && got.bytes.size() >= expected) {
            set_patience(patience);
        }
    }
}

Reading download(std::uint16_t port, std::chrono::milliseconds patience = 10s, std::size_t expected = 0) {
    const auto started = Clock::now();
    net::Socket socket = net::connect(net::Address("127.0.0.1", port));
    return read_all(socket, started, patience, expected);
}

/// The server's -v lines for one session with faults: "Sent N bytes (chunk K) to PEER (due +T s)".
struct SentChunk {
    std::size_t bytes = 0;
    std::size_t index = 0;
    double due = 0;  // seconds after the session's start
};

std::vector<SentChunk> sent_chunks(const std::string& log) {
    std::vector<SentChunk> chunks;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        SentChunk chunk;
        const auto due = line.find("(due +");
        if (line.starts_with("Sent ") && due != std::string::npos &&
            std::sscanf(line.c_str(), "Sent %zu bytes (chunk %zu)", &chunk.bytes, &chunk.index) == 2 &&
            std::sscanf(line.c_str() + due, "(due +%lf s)", &chunk.due) == 1) {
            chunks.push_back(chunk);
        }
    }
    return chunks;
}

/// Stops the server and returns its summary line, which must show the exit was clean.
std::string stop_and_summarize(RunningServer& server) {
    BOOST_TEST(server.stop() == 0);
    return last_line(server.out());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(faults)

BOOST_DATA_TEST_CASE(close_after_sends_exactly_that_many_bytes_then_a_clean_end, data::make(modes), mode) {
    RunningServer server(
        {"--mode", mode, "--num-bytes", "50", "--delay", "0.01", "--close-after", "120", alla_sera});
    const Reading got = download(server.port());
    BOOST_TEST((got.end == End::end_of_stream), got.error);
    BOOST_TEST(got.bytes == read_file(alla_sera).substr(0, 120));
    BOOST_TEST(server.wait_for_output(" closed early by --close-after after 120 of 551 bytes in "),
               server.out());
    const std::string summary = stop_and_summarize(server);
    BOOST_TEST(summary.find("served 0 clients, dropped 0, interrupted 0") != std::string::npos, summary);
    BOOST_TEST(summary.find("; faults on 1 of 1 connections: close-after 1") != std::string::npos, summary);
}

BOOST_DATA_TEST_CASE(reset_after_sends_exactly_that_many_bytes_then_resets, data::make(modes), mode) {
    RunningServer server(
        {"--mode", mode, "--num-bytes", "50", "--delay", "0.01", "--reset-after", "120", alla_sera});
    const Reading got = download(server.port());
    BOOST_TEST((got.end == End::reset), got.error);
    BOOST_TEST(got.bytes == read_file(alla_sera).substr(0, 120));
    BOOST_TEST(server.wait_for_output(" reset by --reset-after after 120 of 551 bytes in "), server.out());
    BOOST_TEST(stop_and_summarize(server).find("faults on 1 of 1 connections: reset-after 1") !=
               std::string::npos);
}

BOOST_DATA_TEST_CASE(hang_after_goes_silent_until_the_client_leaves_or_the_server_stops, data::make(modes),
                     mode) {
    // Two listeners, so that blocking mode (one client at a time per port) holds both hangs at once.
    RunningServer server({"--mode", mode, "--num-bytes", "50", "--delay", "0.01", "--hang-after", "120",
                          alla_sera, alla_sera});
    const std::string first_120 = read_file(alla_sera).substr(0, 120);

    // One client leaves during the hang (after 200 ms of silence that follow the 120 bytes, which is the
    // point of the test): the server notices and ends the session.
    Reading leaver = download(server.port(0), 200ms, 120);
    BOOST_TEST((leaver.end == End::timed_out), leaver.error);
    BOOST_TEST(leaver.bytes == first_120);
    BOOST_TEST(server.wait_for_output("hung by --hang-after after 120 of 551 bytes in "), server.out());
    BOOST_TEST(server.wait_for_output(": until the client left"), server.out());

    // The other stays: silence, yet the connection is open, and the stop still ends everything at once.
    const auto started = Clock::now();
    net::Socket stayer = net::connect(net::Address("127.0.0.1", server.port(1)));
    const Reading got = read_all(stayer, started, 300ms, 120);
    BOOST_TEST((got.end == End::timed_out), got.error);
    BOOST_TEST(got.bytes == first_120);
    std::byte probe[16];
    std::error_code ec;
    BOOST_TEST(stayer.recv(probe, ec, MSG_DONTWAIT) == 0U);
    BOOST_TEST((ec == std::errc::resource_unavailable_try_again || ec == std::errc::operation_would_block),
               "the hung connection is not open: " << ec.message());

    const auto stopping = Clock::now();
    BOOST_TEST(server.stop() == 0);  // within 10 s, or -1, in every build
    POETRY_TEST_TIMING((Clock::now() - stopping < late_slack));
    BOOST_TEST(server.out().find(": until the server stopped") != std::string::npos, server.out());
    const std::string summary = last_line(server.out());
    BOOST_TEST(summary.find("faults on 2 of 2 connections: hang-after 2") != std::string::npos, summary);
}

BOOST_DATA_TEST_CASE(first_byte_delay_holds_back_the_first_chunk, data::make(modes), mode) {
    RunningServer server(
        {"--mode", mode, "--num-bytes", "100", "--delay", "0.01", "--first-byte-delay", "0.3", alla_sera});
    const Reading got = download(server.port());
    BOOST_TEST((got.end == End::end_of_stream), got.error);
    BOOST_TEST(got.bytes == read_file(alla_sera));
    BOOST_TEST((got.first_byte - got.started >= 300ms));
    POETRY_TEST_TIMING((got.first_byte - got.started < 300ms + late_slack));
    // The rest keeps its pace after the delayed start: 5 pauses of 10 ms after the first chunk.
    BOOST_TEST((got.last_byte - got.started >= 350ms));
}

BOOST_DATA_TEST_CASE(size_jitter_varies_the_chunks_within_bounds_and_keeps_the_poem_whole, data::make(modes),
                     mode) {
    RunningServer server({"-v", "--mode", mode, "--num-bytes", "20", "--size-jitter", "15", "--seed", "7",
                          "--delay", "0", alla_sera});
    const Reading got = download(server.port());
    BOOST_TEST(got.bytes == read_file(alla_sera));
    BOOST_REQUIRE(server.wait_for_output("sent 551 bytes in"));
    const auto chunks = sent_chunks(server.out());
    BOOST_REQUIRE(chunks.size() >= 2U);
    std::size_t total = 0;
    std::set<std::size_t> sizes;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        BOOST_TEST(chunks[i].index == i);
        BOOST_TEST(chunks[i].bytes <= 35U);
        if (i + 1 < chunks.size()) {  // the last may be cut by the poem's end
            BOOST_TEST(chunks[i].bytes >= 5U);
        }
        total += chunks[i].bytes;
        sizes.insert(chunks[i].bytes);
    }
    BOOST_TEST(total == 551U);
    BOOST_TEST(sizes.size() >= 5U, "chunk sizes barely vary: " << sizes.size() << " distinct");
}

BOOST_DATA_TEST_CASE(jitter_keeps_every_pause_within_the_delay_plus_or_minus_s, data::make(modes), mode) {
    RunningServer server({"-v", "--mode", mode, "--num-bytes", "50", "--delay", "0.03", "--jitter", "0.02",
                          "--seed", "7", alla_sera});
    const Reading got = download(server.port());
    BOOST_TEST(got.bytes == read_file(alla_sera));
    BOOST_REQUIRE(server.wait_for_output("sent 551 bytes in"));
    const auto chunks = sent_chunks(server.out());
    BOOST_REQUIRE_EQUAL(chunks.size(), 12U);
    BOOST_TEST(chunks.front().due == 0.0);
    std::set<long> pauses_us;
    for (std::size_t i = 1; i < chunks.size(); ++i) {
        const double pause = chunks[i].due - chunks[i - 1].due;
        BOOST_TEST(pause >= 0.01 - 2e-6, "pause before chunk " << i << ": " << pause);
        BOOST_TEST(pause <= 0.05 + 2e-6, "pause before chunk " << i << ": " << pause);
        pauses_us.insert(std::lround(pause * 1e6));
    }
    BOOST_TEST(pauses_us.size() >= 5U, "the pauses barely vary");
    // The client saw the schedule: its last byte no earlier than the last chunk was due.
    const auto last_due = std::chrono::duration<double>(chunks.back().due);
    BOOST_TEST((got.last_byte - got.started >= last_due));
    POETRY_TEST_TIMING((got.last_byte - got.started < last_due + late_slack));
}

BOOST_DATA_TEST_CASE(slow_close_holds_the_end_of_stream_after_the_last_byte, data::make(modes), mode) {
    RunningServer server(
        {"--mode", mode, "--num-bytes", "100", "--delay", "0.01", "--slow-close", "0.3", alla_sera});
    const Reading got = download(server.port());
    BOOST_TEST((got.end == End::end_of_stream), got.error);
    BOOST_TEST(got.bytes == read_file(alla_sera));
    // 6 chunks, the last due 50 ms after the start; the FIN at least 0.3 s after that.
    BOOST_TEST((got.ended - got.started >= 350ms));
    POETRY_TEST_TIMING((got.ended - got.last_byte < 300ms + late_slack));
    BOOST_TEST(server.wait_for_output("sent 551 bytes in"));
    BOOST_TEST(stop_and_summarize(server).find("faults on 1 of 1 connections: slow-close 1") !=
               std::string::npos);
}

BOOST_DATA_TEST_CASE(fault_rate_0_gives_no_connection_a_fault, data::make(modes), mode) {
    RunningServer server({"--mode", mode, "--num-bytes", "551", "--delay", "0", "--close-after", "100",
                          "--fault-rate", "0", alla_sera});
    for (int i = 0; i < 5; ++i) {
        BOOST_TEST(download(server.port()).bytes == read_file(alla_sera));
    }
    const std::string summary = stop_and_summarize(server);
    BOOST_TEST(summary.find("served 5 clients") != std::string::npos, summary);
    BOOST_TEST(summary.find("; faults on 0 of 5 connections") != std::string::npos, summary);
}

/// Which of 20 clients, connecting one after the other, a server run with --fault-rate 0.5 cuts short.
std::vector<bool> cut_short(const std::string& mode, const std::string& seed) {
    RunningServer server({"--mode", mode, "--num-bytes", "551", "--delay", "0", "--close-after", "100",
                          "--fault-rate", "0.5", "--seed", seed, alla_sera});
    std::vector<bool> cut;
    for (int i = 0; i < 20; ++i) {
        const Reading got = download(server.port());
        BOOST_TEST((got.bytes.size() == 100U || got.bytes.size() == 551U));
        cut.push_back(got.bytes.size() == 100U);
    }
    BOOST_TEST(server.wait_for_output("Serving " + alla_sera));
    BOOST_TEST(server.out().find("rate 0.5, seed " + seed) != std::string::npos, server.out());
    return cut;
}

BOOST_DATA_TEST_CASE(a_seed_makes_the_faulty_connections_the_same_in_every_run, data::make(modes), mode) {
    const auto first = cut_short(mode, "7");
    const auto again = cut_short(mode, "7");
    const auto other = cut_short(mode, "8");
    BOOST_TEST((first == again));
    BOOST_TEST((first != other));
    const auto faulty = std::count(first.begin(), first.end(), true);
    BOOST_TEST((faulty > 0 && faulty < 20), faulty << " of 20 got faults at rate 0.5");
}

BOOST_AUTO_TEST_CASE(the_ports_file_and_the_start_up_line_show_each_listeners_faults) {
    RunningServer server({"--num-bytes", "200,30", "--close-after", "100,200", "--jitter", "0.1,0",
                          "--fault-rate", "0.5", "--seed", "7,9", poem_path("ecstasy.txt"),
                          poem_path("science.txt")});
    const auto listeners = nlohmann::json::parse(read_file(server.ports_file()));
    BOOST_REQUIRE_EQUAL(listeners.size(), 2U);
    BOOST_TEST(listeners[0].at("faults") ==
                   nlohmann::json({{"jitter", 0.1}, {"close_after", 100}, {"fault_rate", 0.5}, {"seed", 7}}),
               listeners[0].dump());
    BOOST_TEST(
        listeners[1].at("faults") == nlohmann::json({{"close_after", 200}, {"fault_rate", 0.5}, {"seed", 9}}),
        listeners[1].dump());
    BOOST_TEST(server.wait_for_output("Serving " + poem_path("ecstasy.txt") +
                                      " on 127.0.0.1:" + std::to_string(server.port(0)) +
                                      ": 2667 bytes, 200 bytes every 0.7 s; faults: close after 100 bytes, "
                                      "jitter ±0.1 s, rate 0.5, seed 7\n"),
               server.out());

    // A listener whose faults are all 0 has none; without --seed the server picks one and shows it.
    RunningServer plain({"--jitter", "0.1,0", poem_path("ecstasy.txt"), poem_path("science.txt")});
    const auto plain_listeners = nlohmann::json::parse(read_file(plain.ports_file()));
    BOOST_TEST(plain_listeners[0].at("faults").contains("seed"));
    BOOST_TEST(!plain_listeners[1].contains("faults"), plain_listeners[1].dump());
    const std::string seed = std::to_string(plain_listeners[0].at("faults").at("seed").get<std::uint64_t>());
    BOOST_TEST(plain.wait_for_output("; faults: jitter ±0.1 s, rate 1, seed " + seed + "\n"), plain.out());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(faults_input)

BOOST_DATA_TEST_CASE(
    bad_fault_options_exit_2_with_one_line,
    data::make(std::vector<BadInput>{
        {{"--jitter", "-1", alla_sera}, "--jitter: \"-1\" is not a number of seconds"},
        {{"--jitter", "inf", alla_sera}, "--jitter: \"inf\""},
        {{"--first-byte-delay", "nan", alla_sera}, "--first-byte-delay: \"nan\""},
        {{"--slow-close", "soon", alla_sera}, "--slow-close: \"soon\""},
        {{"--slow-close", "86401", alla_sera}, "--slow-close: \"86401\""},
        {{"--size-jitter", "-1", alla_sera}, "--size-jitter: \"-1\" is not a whole number"},
        {{"--close-after", "-5", alla_sera}, "--close-after: \"-5\" is not a whole number"},
        {{"--reset-after", "many", alla_sera}, "--reset-after: \"many\""},
        {{"--hang-after", "1.5", alla_sera}, "--hang-after: \"1.5\""},
        {{"--close-after", "1", "--fault-rate", "1.5", alla_sera},
         "--fault-rate: \"1.5\" is not a share from 0 to 1"},
        {{"--close-after", "1", "--fault-rate", "-0.1", alla_sera}, "--fault-rate: \"-0.1\""},
        {{"--close-after", "1", "--fault-rate", "nan", alla_sera}, "--fault-rate: \"nan\""},
        {{"--close-after", "1", "--seed", "-1", alla_sera}, "--seed: \"-1\""},
        {{"--close-after", "1,2,3", alla_sera, poem_path("science.txt")},
         "--close-after has 3 values for 2 poems"},
        {{"--jitter", "0.1", "--jitter", "0.2", alla_sera}, "--jitter has 2 values for 1 poem"},
        {{"--seed", "7", alla_sera}, "--seed needs a fault"},
        {{"--fault-rate", "0.5", alla_sera}, "--fault-rate needs a fault"},
    }),
    input) {
    const Exited run = run_server_to_exit(input.args);
    check_refused("poetry_server", run.status, run.out, run.err, input.message, input.usage,
                  "stdout: " + run.out + "\nstderr: " + run.err);
}

BOOST_AUTO_TEST_CASE(help_lists_the_fault_options) {
    const Exited help = run_server_to_exit({"--help"});
    BOOST_TEST(help.status == 0);
    for (const char* option : {"--jitter", "--size-jitter", "--first-byte-delay", "--close-after",
                               "--reset-after", "--hang-after", "--slow-close", "--fault-rate", "--seed"}) {
        BOOST_TEST(help.out.find(option) != std::string::npos, option);
    }
}

BOOST_AUTO_TEST_SUITE_END()
