// poetry_server, the real binary on free ports: bytes, chunk sizes, pacing, modes, faulty clients,
// bad input and signals.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>

#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <limits>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "integration/bad_input.hpp"
#include "integration/help_check.hpp"
#include "integration/recording_client.hpp"
#include "integration/server_modes.hpp"
#include "integration/server_output.hpp"
#include "integration/server_process.hpp"
#include "poetry/net/socket.hpp"
#include "support/clock.hpp"
#include "support/process_stats.hpp"
#include "support/sanitized.hpp"
#include "support/tcp_state.hpp"
#include "support/timing.hpp"

using namespace std::chrono_literals;
using namespace poetry::test;
namespace data = boost::unit_test::data;
namespace net = poetry::net;

namespace {

const std::vector<std::string>& modes = server_modes;
const std::vector<std::string> all_poems{"ecstasy.txt",   "fascination.txt", "science.txt",
                                         "alla_sera.txt", "ozymandias.txt",  "nightingale.txt"};

/// Timing checks have exact lower bounds (a chunk is never early) in every build, and upper ones with
/// this margin for a loaded 2-core machine, in the plain build only (support/timing.hpp).
constexpr auto late_slack = 3s;

/// Checks that every piece ends on a chunk boundary of `num_bytes` (or at the end), and that the last
/// chunk of each piece never arrived before k * delay after the client started to connect, exactly:
/// the server paces absolutely from the session's start (chunk k at start + k * delay), and it starts
/// the session after accepting, which is after the client began to connect; both read the same
/// monotonic clock. (Not from the first chunk's arrival: the first chunk may leave or be read late on
/// a loaded machine, and the later ones, on their absolute schedule, then catch up.)
void check_chunks(const Download& got, std::size_t num_bytes, std::chrono::milliseconds delay) {
    std::size_t offset = 0;
    for (const Piece& piece : got.pieces) {
        BOOST_TEST(offset % num_bytes == 0U, "a piece starts inside a chunk, at byte " << offset);
        offset += piece.size;
        // signed: chrono math below
        const auto last_chunk = static_cast<std::int64_t>((offset - 1) / num_bytes);
        const auto arrived = got.connected + piece.at;
        const auto after_us =
            std::chrono::duration_cast<std::chrono::microseconds>(arrived - got.connect_started);
        BOOST_TEST((arrived >= got.connect_started + delay * last_chunk),
                   "chunk " << last_chunk << " arrived " << after_us.count()
                            << " us after the connect began, before its time");
    }
    BOOST_TEST(offset == got.bytes.size());
}

/// A port that is free now (bound to port 0 and released); with `also_next`, the next ones too.
std::uint16_t free_port(std::size_t also_next = 0) {
    for (int attempt = 0; attempt < 50; ++attempt) {
        net::Socket probe = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
        const std::uint16_t port = probe.local_endpoint().port();
        if (port + also_next > 65535) {
            continue;
        }
        bool all_free = true;
        std::vector<net::Socket> held;
        for (std::size_t i = 1; i <= also_next && all_free; ++i) {
            std::error_code ec;
            held.push_back(net::listen(
                net::Endpoint::numeric("127.0.0.1", static_cast<std::uint16_t>(port + i)), 1, ec));
            all_free = !ec;
        }
        if (all_free) {
            return port;
        }
    }
    throw std::runtime_error("no run of free ports found");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server)

// --stats 0.2 while two clients download (20 chunks a second each): the lines come, count the two
// clients as connected while they are, add up to 2 served, and give a lateness; even with -q.
BOOST_AUTO_TEST_CASE(stats_lines_report_each_interval_even_with_quiet) {
    RunningServer server(
        {"-q", "--stats", "0.2", "--num-bytes", "100", "--delay", "0.05", poem_path("ecstasy.txt")});
    auto first = std::async(std::launch::async, [&server] { return download(server.port()); });
    auto second = std::async(std::launch::async, [&server] { return download(server.port()); });
    BOOST_TEST(first.get().closed_by_server);
    BOOST_TEST(second.get().closed_by_server);
    BOOST_TEST(server.stop() == 0);  // the last line covers the interval the stop cut short
    const std::vector<StatsLine> lines = stats_lines(server.out());
    std::size_t served = 0;
    bool saw_both_connected = false;
    for (const StatsLine& line : lines) {
        served += line.served;
        BOOST_TEST(line.dropped == 0U, line.text);
        if (line.connected == 2) {
            saw_both_connected = true;
            BOOST_TEST(line.chunks_per_second > 0, line.text);
            BOOST_TEST(line.has_lateness, line.text);
        }
    }
    BOOST_TEST(lines.size() >= 2U, server.out());
    BOOST_TEST(served == 2U, server.out());  // each client counted in exactly one interval
    BOOST_TEST(saw_both_connected, server.out());
}

BOOST_AUTO_TEST_CASE(every_bundled_poem_arrives_byte_exact) {
    std::vector<std::string> args{"--num-bytes", "7", "--delay", "0"};  // 7 bytes split UTF-8 characters
    for (const auto& poem : all_poems) {
        args.push_back(poem_path(poem));
    }
    RunningServer server(args);
    BOOST_REQUIRE_EQUAL(server.listeners().size(), all_poems.size());
    for (const auto& listener : server.listeners()) {
        const Download got = download(listener.port);
        BOOST_TEST(got.closed_by_server);
        BOOST_TEST(got.bytes == read_file(listener.poem), listener.poem << " arrived different");
    }
}

BOOST_AUTO_TEST_CASE(the_ports_file_lists_every_listener_with_its_settings) {
    RunningServer server(
        {"--num-bytes", "200,30", "--delay", "0.5,0.25", poem_path("ecstasy.txt"), poem_path("science.txt")});
    const auto& listeners = server.listeners();
    BOOST_REQUIRE_EQUAL(listeners.size(), 2U);
    BOOST_TEST(listeners[0].host == "127.0.0.1");
    BOOST_TEST(listeners[0].port != 0);
    BOOST_TEST(listeners[1].port != listeners[0].port);
    BOOST_TEST(listeners[0].poem == poem_path("ecstasy.txt"));
    BOOST_TEST(listeners[0].bytes == std::filesystem::file_size(poem_path("ecstasy.txt")));
    BOOST_TEST(listeners[1].bytes == std::filesystem::file_size(poem_path("science.txt")));
    BOOST_TEST(listeners[0].num_bytes == 200U);
    BOOST_TEST(listeners[1].num_bytes == 30U);
    BOOST_TEST(listeners[0].delay == 0.5);
    BOOST_TEST(listeners[1].delay == 0.25);
    BOOST_TEST(server.wait_for_output("Serving " + poem_path("science.txt") +
                                      " on 127.0.0.1:" + std::to_string(listeners[1].port) + ": " +
                                      std::to_string(listeners[1].bytes) + " bytes, 30 bytes every 0.25 s"));
}

BOOST_DATA_TEST_CASE(chunks_have_the_configured_size_and_leave_on_schedule, data::make(modes), mode) {
    RunningServer server(
        {"--mode", mode, "--num-bytes", "50", "--delay", "0.02", poem_path("alla_sera.txt")});
    const Download got = download(server.port());
    BOOST_TEST(got.bytes == read_file(poem_path("alla_sera.txt")));
    // The schedule's lower bound, exact: chunk 11 (the last of 12) no earlier than 11 pauses after the
    // connect began. Not the span from the first piece to the last: when the first chunk leaves late
    // (a session thread slow to start under TSan) or is read late, the later chunks keep their absolute
    // times and the span is legitimately shorter than 11 pauses.
    check_chunks(got, 50, 20ms);
    BOOST_TEST_REQUIRE(!got.pieces.empty());
    POETRY_TEST_TIMING((got.last_byte() - got.connect_started < 11 * 20ms + late_slack));
    // That the chunks came apart, seen from the client: a client thread held up for 20 ms or more reads
    // several at once, so the count is a measurement too. (A server that sent them together fails
    // check_chunks in every build.)
    POETRY_TEST_TIMING(got.pieces.size() >= 6U, "chunks were not paced: " << got.pieces.size() << " pieces");
}

BOOST_AUTO_TEST_CASE(several_listeners_in_one_process_keep_their_own_settings) {
    RunningServer server({"--num-bytes", "200,30", "--delay", "0.01,0.004", poem_path("ecstasy.txt"),
                          poem_path("science.txt")});
    auto first = std::async(std::launch::async, [&] { return download(server.port(0)); });
    auto second = std::async(std::launch::async, [&] { return download(server.port(1)); });
    const Download ecstasy = first.get();
    const Download science = second.get();
    BOOST_TEST(ecstasy.bytes == read_file(poem_path("ecstasy.txt")));
    BOOST_TEST(science.bytes == read_file(poem_path("science.txt")));
    check_chunks(ecstasy, 200, 10ms);
    check_chunks(science, 30, 4ms);
}

BOOST_AUTO_TEST_CASE(one_port_with_several_poems_serves_them_on_consecutive_ports) {
    const std::uint16_t port = free_port(2);
    RunningServer server({"--port", std::to_string(port), "--delay", "0", poem_path("ecstasy.txt"),
                          poem_path("science.txt"), poem_path("alla_sera.txt")});
    BOOST_REQUIRE_EQUAL(server.listeners().size(), 3U);
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST(server.port(i) == port + i);
        BOOST_TEST(download(server.port(i)).bytes == read_file(server.listeners()[i].poem));
    }
}

/// The server's own account of sessions, in its log's order: "+peer" at connect, "-peer" at the end.
/// The log is the ground truth for who was served when: client threads can be descheduled on a loaded
/// machine and read their bytes late, the server's order cannot be reordered that way.
std::vector<std::string> session_events(const std::string& log) {
    std::vector<std::string> events;
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with("Client ")) {
            continue;
        }
        const std::string peer = line.substr(7, line.find(' ', 7) - 7);
        events.push_back((line.find(" connected to ") != std::string::npos ? "+" : "-") + peer);
    }
    return events;
}

/// Two clients download alla_sera.txt at the same time; both must get it whole. Returns the server's
/// session events after it has stopped cleanly.
std::vector<std::string> serve_two_clients_at_once(RunningServer& server) {
    auto a = std::async(std::launch::async, [&] { return download(server.port()); });
    auto b = std::async(std::launch::async, [&] { return download(server.port()); });
    BOOST_TEST(a.get().bytes == read_file(poem_path("alla_sera.txt")));
    BOOST_TEST(b.get().bytes == read_file(poem_path("alla_sera.txt")));
    BOOST_REQUIRE(server.stop() == 0);
    auto events = session_events(server.out());
    BOOST_REQUIRE_EQUAL(events.size(), 4U);
    return events;
}

BOOST_AUTO_TEST_CASE(blocking_mode_serves_a_second_client_only_after_the_first) {
    RunningServer server(
        {"--mode", "blocking", "--num-bytes", "100", "--delay", "0.02", poem_path("alla_sera.txt")});
    const auto events = serve_two_clients_at_once(server);
    // Sequential: the first to connect ends before the second connects.
    BOOST_TEST(events[0].starts_with("+"));
    BOOST_TEST(events[1] == "-" + events[0].substr(1), server.out());
    BOOST_TEST(events[2].starts_with("+"));
    BOOST_TEST(events[3] == "-" + events[2].substr(1), server.out());
}

BOOST_DATA_TEST_CASE(async_and_threaded_modes_serve_two_clients_at_once, data::make(concurrent_server_modes),
                     mode) {
    // Each client takes 11 x 50 ms: served one after the other, the second would connect 0.55 s late.
    RunningServer server(
        {"--mode", mode, "--num-bytes", "50", "--delay", "0.05", poem_path("alla_sera.txt")});
    const auto events = serve_two_clients_at_once(server);
    BOOST_TEST((events[0].starts_with("+") && events[1].starts_with("+")),
               "the clients were served one after the other:\n"
                   << server.out());
}

BOOST_DATA_TEST_CASE(every_selector_serves_every_client_whole_on_schedule,
                     data::make(std::vector<std::string>{"callbacks", "coroutines"}) *
                         data::make(std::vector<std::string>{"epoll", "poll", "select"}),
                     mode, selector) {
    RunningServer server({"--mode", mode, "--selector", selector, "--num-bytes", "50", "--delay", "0.02",
                          poem_path("alla_sera.txt")});
    std::vector<std::future<Download>> downloads;
    for (int i = 0; i < 20; ++i) {
        downloads.push_back(std::async(std::launch::async, [&] { return download(server.port()); }));
    }
    for (auto& pending : downloads) {
        const Download got = pending.get();
        BOOST_TEST(got.bytes == read_file(poem_path("alla_sera.txt")));
        check_chunks(got, 50, 20ms);
    }
    BOOST_TEST(server.stop() == 0);
    BOOST_TEST(last_line(server.out()).find("served 20 clients, dropped 0") != std::string::npos,
               last_line(server.out()));
}

BOOST_DATA_TEST_CASE(threads_2_runs_two_loops_that_serve_every_client_with_one_summary,
                     data::make(std::vector<std::string>{"async", "callbacks", "coroutines"}), mode) {
    RunningServer server({"--mode", mode, "--threads", "2", "--num-bytes", "100", "--delay", "0.01",
                          poem_path("alla_sera.txt"), poem_path("science.txt")});
    // Two loops on two threads (asio and our loop start no threads of their own). The second starts
    // after the ports file is written: wait for it.
    const auto threads = [&] {
        std::size_t count = 0;
        for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator(
                 std::filesystem::path("/proc") / std::to_string(server.pid()) / "task")) {
            ++count;
        }
        return count;
    };
    BOOST_TEST(wait_until([&] { return threads() == 2U + sanitizer_threads; }), "threads: " << threads());
    std::vector<std::future<Download>> downloads;
    for (int i = 0; i < 40; ++i) {
        downloads.push_back(std::async(std::launch::async, [&, i] { return download(server.port(i % 2)); }));
    }
    for (int i = 0; i < 40; ++i) {
        BOOST_TEST(downloads[i].get().bytes ==
                   read_file(poem_path(i % 2 == 0 ? "alla_sera.txt" : "science.txt")));
    }
    BOOST_TEST(server.stop() == 0);
    BOOST_TEST(
        last_line(server.out()).find("served 40 clients, dropped 0, interrupted 0") != std::string::npos,
        last_line(server.out()));
}

BOOST_DATA_TEST_CASE(a_client_that_drops_mid_poem_leaves_the_server_serving_others, data::make(modes), mode) {
    RunningServer server(
        {"--mode", mode, "--num-bytes", "50", "--delay", "0.01", poem_path("alla_sera.txt")});
    const std::string poem = read_file(poem_path("alla_sera.txt"));
    // One leaves with a FIN after 100 bytes, one with a reset (SO_LINGER 0) after 150.
    const Download quitter = download(server.port(), 100);
    BOOST_TEST(quitter.bytes.size() >= 100U);
    {
        net::Socket resetter = net::connect(net::Address("127.0.0.1", server.port()));
        std::byte buffer[150];
        std::size_t got = 0;
        while (got < sizeof(buffer)) {
            got += resetter.recv(std::span(buffer).subspan(got));
        }
        const linger abort_on_close{1, 0};
        ::setsockopt(resetter.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
    }
    BOOST_TEST(download(server.port()).bytes == poem);
    BOOST_TEST(server.wait_for_output("dropped after"));
    BOOST_TEST(server.running());
    BOOST_TEST(server.stop() == 0);
    BOOST_TEST(last_line(server.out()).find("served 1 clients, dropped 2") != std::string::npos,
               server.out());
}

BOOST_DATA_TEST_CASE(a_client_that_sends_data_still_gets_its_poem, data::make(modes), mode) {
    RunningServer server(
        {"--mode", mode, "--num-bytes", "100", "--delay", "0.005", poem_path("ecstasy.txt")});
    net::Socket socket = net::connect(net::Address("127.0.0.1", server.port()));
    const std::string junk(256 * 1024, 'x');
    std::jthread sender([&] {  // joined on every path: recv below throws if the server is gone
        std::error_code ec;
        socket.send_all(net::as_bytes(junk), ec);
    });
    std::string received;
    std::byte buffer[4096];
    while (const std::size_t n = socket.recv(buffer)) {
        received.append(reinterpret_cast<const char*>(buffer), n);
    }
    sender.join();
    BOOST_TEST(received == read_file(poem_path("ecstasy.txt")));
}

BOOST_AUTO_TEST_CASE(max_clients_refuses_connections_beyond_the_limit) {
    RunningServer server(
        {"--max-clients", "1", "--num-bytes", "50", "--delay", "0.05", poem_path("alla_sera.txt")});
    auto first = std::async(std::launch::async, [&] { return download(server.port()); });
    BOOST_REQUIRE(server.wait_for_output("connected to"));
    const Download refused = download(server.port());
    BOOST_TEST(refused.bytes.empty());
    BOOST_TEST(refused.closed_by_server);
    BOOST_TEST(first.get().bytes == read_file(poem_path("alla_sera.txt")));
    BOOST_TEST(server.wait_for_output("Refused 127.0.0.1:"));
    BOOST_TEST(server.stop() == 0);
    BOOST_TEST(last_line(server.out()).find("served 1 clients, dropped 0, interrupted 0, refused 1") !=
               std::string::npos);
}

BOOST_DATA_TEST_CASE(a_burst_of_fifty_connections_gets_no_more_than_max_clients_served_at_once,
                     data::make(modes), mode) {
    // The place is taken where the connection is accepted: before, threaded and blocking modes counted
    // a client only once its session thread had started, and a burst got past the limit.
    const bool one_at_a_time = mode == "blocking";
    RunningServer server({"--mode", mode, "--max-clients", "5", "--num-bytes", "100", "--delay",
                          one_at_a_time ? "0.005" : "0.05", poem_path("alla_sera.txt")});
    std::vector<Reader> readers(50);
    for (auto& reader : readers) {
        reader.socket = net::connect(net::Address("127.0.0.1", server.port()));
    }
    // Read them all at once until each has ended: every client gets the whole poem or nothing.
    read_until_all_end(readers, Clock::now() + 20s);
    const std::string poem = read_file(poem_path("alla_sera.txt"));
    std::size_t whole = 0;
    for (std::size_t i = 0; i < readers.size(); ++i) {
        BOOST_TEST_REQUIRE(readers[i].ended, "client " << i << " still open after 20 s");
        BOOST_TEST((readers[i].bytes.empty() || readers[i].bytes == poem),
                   "client " << i << " got " << readers[i].bytes.size() << " bytes");
        whole += readers[i].bytes == poem ? 1 : 0;
    }
    BOOST_TEST(server.stop() == 0);
    // The log, in order: a client is connected from its "connected" line to its end line, a span that
    // lies within the time it held its place. At no point may more than 5 be open.
    std::istringstream log(server.out());
    int open = 0;
    int most = 0;
    std::size_t refused = 0;
    for (std::string line; std::getline(log, line);) {
        if (line.find(" connected to ") != std::string::npos) {
            most = std::max(most, ++open);
        } else if (line.starts_with("Client ") && line.find(" on 127.0.0.1:") != std::string::npos) {
            --open;
        } else if (line.starts_with("Refused ")) {
            ++refused;
        }
    }
    BOOST_TEST(most <= 5);
    BOOST_TEST(whole + refused == 50U);
    BOOST_TEST(whole >= 5U);
    if (!one_at_a_time) {
        BOOST_TEST(refused >= 1U);  // 50 arrive within milliseconds; each session lasts 0.25 s
    }
    BOOST_TEST(last_line(server.out()).find("served " + std::to_string(whole) + " clients, dropped 0") !=
                   std::string::npos,
               last_line(server.out()));
}

BOOST_DATA_TEST_CASE(a_stop_signal_exits_0_with_the_summary,
                     data::make(modes) * data::make({SIGTERM, SIGINT}), mode, signal) {
    // One chunk of 551 bytes: a delay, so that the chunk has a schedule to be late against.
    RunningServer server(
        {"--mode", mode, "--num-bytes", "551", "--delay", "0.01", poem_path("alla_sera.txt")});
    BOOST_TEST(download(server.port()).bytes.size() == 551U);
    BOOST_TEST(server.wait_for_output("sent 551 bytes in"));
    BOOST_TEST(server.stop(signal) == 0);
    const std::string summary = last_line(server.out());
    BOOST_TEST(summary.starts_with("Stopped after "), summary);
    BOOST_TEST(summary.find(": served 1 clients, dropped 0, interrupted 0, refused 0; sent 551 bytes") !=
                   std::string::npos,
               summary);
    // One chunk: every percentile is that one chunk's lateness, which is the max. The histogram's
    // bucket above it (0.1 ms wide) reaches higher: a percentile that is not clamped to the max shows.
    double p50 = 0, p99 = 0, max = 0;
    const auto late = summary.find("; 1 chunks left late by ");
    BOOST_REQUIRE_MESSAGE(late != std::string::npos, summary);
    BOOST_REQUIRE(std::sscanf(summary.c_str() + late,
                              "; 1 chunks left late by p50 %lf ms, p99 %lf ms, max %lf ms", &p50, &p99,
                              &max) == 3);
    BOOST_TEST(p50 == max, summary);
    BOOST_TEST(p99 == max, summary);
    BOOST_TEST(server.err().empty());
}

BOOST_DATA_TEST_CASE(with_no_delay_the_summary_gives_the_throughput_not_a_lateness, data::make(modes), mode) {
    const TempDir dir;
    write_patterned_file(dir / "big.txt", 20'000'000);
    RunningServer server(
        {"--mode", mode, "--num-bytes", "65536", "--delay", "0", (dir / "big.txt").string()});
    for (int i = 0; i < 2; ++i) {
        BOOST_TEST(download(server.port()).bytes.size() == 20'000'000U);
    }
    // Both sessions have ended (their lines come as they close), so the stop interrupts none.
    const auto deadline = Clock::now() + 10s;
    while (count(server.out(), ": sent 20000000 bytes in ") < 2 && Clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    BOOST_TEST(server.stop() == 0);
    const std::string summary = last_line(server.out());
    BOOST_TEST(summary.find("chunks left late") == std::string::npos, summary);
    double mb_per_s = 0;
    double seconds = 0;
    const auto at = summary.find("; with no delay, ");
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, summary);
    BOOST_REQUIRE(
        std::sscanf(summary.c_str() + at, "; with no delay, %lf MB/s over %lf s", &mb_per_s, &seconds) == 2);
    // 40 MB went out while the sessions were open, so the figure is 40 MB over that time (printed to
    // 0.01 s, and MB/s to 0.1).
    BOOST_TEST(seconds > 0.0);
    BOOST_TEST(mb_per_s >= 40.0 / (seconds + 0.005) - 0.05, summary);
    BOOST_TEST(mb_per_s <= 40.0 / std::max(seconds - 0.005, 0.001) + 0.05, summary);
}

BOOST_DATA_TEST_CASE(a_stop_signal_interrupts_a_client_that_does_not_read, data::make(modes), mode) {
    const TempDir dir;
    const auto big = dir / "big.txt";
    std::ofstream(big) << std::string(16 << 20, 'p');
    RunningServer server({"--mode", mode, "--num-bytes", "65536", "--delay", "0", big.string()});
    net::Socket idle = net::connect(net::Address("127.0.0.1", server.port()));  // never reads
    BOOST_REQUIRE_MESSAGE(wait_until([&] { return peer_cannot_send_more(idle); }),
                          "the server's send buffer for the idle client was not full within 10 s");
    const auto start = Clock::now();
    BOOST_TEST(server.stop() == 0);  // within 10 s, or -1, in every build
    POETRY_TEST_TIMING((Clock::now() - start < late_slack));
    BOOST_TEST(last_line(server.out()).find("interrupted 1") != std::string::npos, server.out());
}

BOOST_AUTO_TEST_CASE(quiet_prints_only_the_ready_line_and_the_summary_and_verbose_every_chunk) {
    // -q keeps "Ready: ADDR", for scripts that wait on a pipe, and the summary.
    RunningServer quiet({"-q", "--num-bytes", "50", "--delay", "0", poem_path("alla_sera.txt")});
    BOOST_TEST(download(quiet.port()).bytes.size() == 551U);
    BOOST_TEST(quiet.stop() == 0);
    BOOST_TEST(count(quiet.out(), "\n") == 2U, quiet.out());
    BOOST_TEST(quiet.out().starts_with("Ready: 127.0.0.1:" + std::to_string(quiet.port()) + "\n"),
               quiet.out());
    BOOST_TEST(last_line(quiet.out()).starts_with("Stopped after "), quiet.out());

    RunningServer verbose({"-v", "--num-bytes", "50", "--delay", "0", poem_path("alla_sera.txt")});
    BOOST_TEST(download(verbose.port()).bytes.size() == 551U);
    BOOST_TEST(verbose.wait_for_output("sent 551 bytes in"));
    BOOST_TEST(verbose.stop() == 0);
    BOOST_TEST(count(verbose.out(), "Sent 50 bytes (chunk ") == 11U, verbose.out());
    BOOST_TEST(count(verbose.out(), "Sent 1 bytes (chunk 11) to 127.0.0.1:") == 1U, verbose.out());
}

BOOST_AUTO_TEST_CASE(an_ipv6_interface_serves_over_ipv6) {
    if (const auto why = no_ipv6_loopback()) {
        BOOST_TEST_MESSAGE("no IPv6 loopback on this machine (" << *why << "): nothing to test");
        return;
    }
    RunningServer server({"--iface", "::1", "--delay", "0", poem_path("science.txt")});
    BOOST_TEST(server.listeners().front().host == "::1");
    BOOST_TEST(download(server.port(), std::numeric_limits<std::size_t>::max(), "::1").bytes ==
               read_file(poem_path("science.txt")));
    BOOST_TEST(server.wait_for_output("on [::1]:" + std::to_string(server.port())));
}

BOOST_AUTO_TEST_CASE(the_server_raises_its_open_files_limit_to_the_hard_limit) {
    RunningServer server({poem_path("science.txt")}, std::nullopt, 64);
    std::ifstream limits("/proc/" + std::to_string(server.pid()) + "/limits");
    std::string soft;
    std::string hard;
    for (std::string line; std::getline(limits, line);) {
        if (line.starts_with("Max open files")) {
            std::istringstream(line.substr(14)) >> soft >> hard;
        }
    }
    BOOST_TEST(soft != "64");
    BOOST_TEST(soft == hard);
}

BOOST_DATA_TEST_CASE(a_client_that_stops_reading_slows_only_itself, data::make(concurrent_server_modes),
                     mode) {
    const TempDir dir;
    const auto big = dir / "big.txt";
    std::ofstream(big) << std::string(32 << 20, 'p');
    RunningServer server({"--mode", mode, "--num-bytes", "65536,50", "--delay", "0,0.02", big.string(),
                          poem_path("alla_sera.txt")});
    net::Socket idle = net::connect(net::Address("127.0.0.1", server.port(0)));  // never reads
    BOOST_REQUIRE_MESSAGE(wait_until([&] { return peer_cannot_send_more(idle); }),
                          "the server's send buffer for the idle client was not full within 10 s");
    const Download got = download(server.port(1));
    BOOST_TEST(got.bytes == read_file(poem_path("alla_sera.txt")));
    check_chunks(got, 50, 20ms);
    BOOST_TEST_REQUIRE(!got.pieces.empty());
    POETRY_TEST_TIMING((got.last_byte() - got.connect_started < 11 * 20ms + late_slack));
    // Memory stays bounded: no queue grows for the idle client (the 32 MB poem is held once).
    if (resident_memory_is_meaningful) {
        const std::size_t rss_kb = resident_kb(server.pid());
        BOOST_TEST(rss_kb < 32U * 1024 + 32 * 1024, "resident " << rss_kb << " kB");
    }
}

BOOST_AUTO_TEST_CASE(a_large_poem_with_no_delay_arrives_whole) {
    const TempDir dir;
    const auto big = dir / "big.txt";
    write_patterned_file(big, 100U << 20);
    const std::string content = read_file(big);
    RunningServer server({"--num-bytes", "65536", "--delay", "0", big.string()});
    const Download got = download(server.port());
    BOOST_TEST(got.closed_by_server);
    BOOST_TEST(got.bytes.size() == content.size());
    BOOST_TEST((got.bytes == content));
}

BOOST_DATA_TEST_CASE(out_of_fds_the_server_pauses_accepting_and_still_serves_everyone,
                     data::make(concurrent_server_modes), mode) {
    // 24 fds leave room for about a dozen clients; 40 connect before any is served (the backlog holds
    // them), so the server runs out of fds while it still has clients to serve. Each session holds its
    // fd for its poem's 5 pauses, 1 s: long enough for the server to accept the first dozen on a loaded
    // machine, even under ThreadSanitizer, where each thread costs milliseconds to start. (With 0.1 s
    // sessions, the threaded server under TSan ended them about as fast as it accepted them and often
    // never ran out: 7 runs in 8 failed here, idle or beside two busy loops.)
    RunningServer server({"--mode", mode, "--num-bytes", "100", "--delay", "0.2", poem_path("alla_sera.txt")},
                         24);
    std::vector<net::Socket> sockets;
    for (int i = 0; i < 40; ++i) {
        sockets.push_back(net::connect(net::Address("127.0.0.1", server.port())));
    }
    std::vector<std::future<std::string>> readers;
    for (auto& socket : sockets) {
        readers.push_back(std::async(std::launch::async, [&socket] {
            const timeval patience{20, 0};
            ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience));
            std::string received;
            std::byte buffer[4096];
            std::error_code ec;
            while (const std::size_t n = socket.recv(buffer, ec)) {
                received.append(reinterpret_cast<const char*>(buffer), n);
            }
            return received;
        }));
    }
    std::size_t whole = 0;
    for (auto& reader : readers) {
        whole += reader.get() == read_file(poem_path("alla_sera.txt")) ? 1 : 0;
    }
    BOOST_TEST(whole == 40U);
    BOOST_TEST(server.running());
    BOOST_TEST(server.err().find("out of file descriptors") != std::string::npos, server.err());
    BOOST_TEST(count(server.err(), "out of file descriptors") < 40U);  // said once per episode, not per try
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(server_input)

BOOST_DATA_TEST_CASE(
    bad_input_exits_2_with_one_line_and_starts_nothing,
    data::make(std::vector<BadInput>{
        {{}, "nothing to serve: name at least one poem file or --upstream HOST:PORT", true},
        {{"--upstream", "127.0.0.1:"}, "--upstream: invalid address", true},
        {{"--upstream", "no-such-host.invalid:80"}, "cannot resolve --upstream no-such-host.invalid:80"},
        {{"--mode", "blocking", "--upstream", "127.0.0.1:9"},
         "--upstream needs a mode that serves clients at once: async, callbacks, coroutines or threaded, not "
         "blocking",
         true},
        {{"--rate", "1000", "--delay", "0.1", poem_path("science.txt")},
         "--rate and --delay cannot be used together: --rate sets the delay",
         true},
        {{"--rate", "0", poem_path("science.txt")},
         "--rate: \"0\" is not a number of bytes per second",
         true},
        {{"--upstream-delay", "0.1", poem_path("science.txt")},
         "--upstream-num-bytes, --upstream-delay and --upstream-rate pace a proxy's upstream: give "
         "--upstream",
         true},
        {{"--upstream-num-bytes", "1,2", "--upstream", "127.0.0.1:9"},
         "--upstream-num-bytes has 2 values for 1 upstream",
         true},
        {{"--upstream-timeout", "0", "--upstream", "127.0.0.1:9"},
         "--upstream-timeout: \"0\" must be above 0",
         true},
        {{"--num-bytes", "1,2", "--upstream", "127.0.0.1:9,127.0.0.1:10", poem_path("science.txt")},
         "--num-bytes has 2 values for 3 listeners (1 poem, 2 upstreams): give one value for all or one per "
         "listener, poems first",
         true},
        {{"--ports-file", POETRY_POEMS_DIR, poem_path("science.txt")},
         "--ports-file " POETRY_POEMS_DIR ": is a directory"},
        {{"/nonexistent/poem.txt"}, "poem file /nonexistent/poem.txt: No such file or directory"},
        {{POETRY_POEMS_DIR}, "is a directory"},
        {{"--port", "70000", poem_path("science.txt")}, "--port: \"70000\" is not a whole number"},
        {{"--port", "abc", poem_path("science.txt")}, "--port: \"abc\" is not a whole number"},
        {{"--num-bytes", "0", poem_path("science.txt")}, "--num-bytes: \"0\""},
        {{"--num-bytes", "-5", poem_path("science.txt")}, "--num-bytes: \"-5\""},
        {{"--delay", "-1", poem_path("science.txt")}, "--delay: \"-1\""},
        {{"--delay", "inf", poem_path("science.txt")}, "--delay: \"inf\""},
        {{"--delay", "nan", poem_path("science.txt")}, "--delay: \"nan\""},
        {{"--delay", "soon", poem_path("science.txt")}, "--delay: \"soon\""},
        {{"--num-bytes", "1,2,3", poem_path("science.txt"), poem_path("ecstasy.txt")},
         "--num-bytes has 3 values for 2 poems"},
        {{"--mode", "fast", poem_path("science.txt")}, "--mode: \"fast\""},
        {{"--mode", "callbacks", "--selector", "kqueue", poem_path("science.txt")},
         "--selector: \"kqueue\" is not one of auto, select, poll, epoll",
         true},
        {{"--mode", "threaded", "--selector", "poll", poem_path("science.txt")},
         "--selector applies to --mode callbacks or coroutines, not to threaded",
         true},
        {{"--mode", "threaded", "--threads", "2", poem_path("science.txt")},
         "--threads applies to --mode async, callbacks or coroutines, not to threaded",
         true},
        {{"--threads", "0", poem_path("science.txt")},
         "--threads: \"0\" is not a whole number from 1 to 256",
         true},
        {{"--mode", "async", "--selector", "epoll", poem_path("science.txt")},
         "--selector applies to --mode callbacks or coroutines, not to async",
         true},
        {{"--max-clients", "0", poem_path("science.txt")}, "--max-clients: \"0\""},
        {{"--bogus", poem_path("science.txt")}, "Option 'bogus' does not exist", true},
        {{poem_path("science.txt"), "--port"}, "port", true},
        {{"--num-bytes", "10,", poem_path("science.txt")}, "--num-bytes: \"10,\" has an empty item", true},
        {{"--num-bytes", ",10", poem_path("science.txt")}, "--num-bytes: \",10\" has an empty item", true},
        {{"--delay", "0.1,,0.2", poem_path("science.txt")}, "--delay: \"0.1,,0.2\" has an empty item", true},
        {{"--port", "0,", poem_path("science.txt")}, "--port: \"0,\" has an empty item", true},
        {{"--mode", "async", "--mode", "threaded", poem_path("science.txt")},
         "--mode is given more than once: give it once",
         true},
        {{"-q", "--quiet", poem_path("science.txt")}, "--quiet is given more than once", true},
        {{"--close-after", "-,-", poem_path("science.txt"), poem_path("ecstasy.txt"), "--seed", "1"},
         "--seed needs a fault",
         true},
        {{"--close-after", "x,-", poem_path("science.txt"), poem_path("ecstasy.txt")},
         "--close-after: \"x\" is not a whole number",
         true},
        {{"-q", "-v", poem_path("science.txt")}, "cannot be used together"},
        {{poem_path("science.txt"), "/nonexistent/second.txt"}, "/nonexistent/second.txt"},
    }),
    input) {
    const Exited run = run_server_to_exit(input.args);
    check_refused("poetry_server", run.status, run.out, run.err, input.message, input.usage,
                  "stdout: " + run.out + "\nstderr: " + run.err);
}

BOOST_AUTO_TEST_CASE(an_empty_poem_file_is_refused_with_a_reason) {
    const TempDir dir;
    std::ofstream(dir / "empty.txt").close();
    const Exited run = run_server_to_exit({(dir / "empty.txt").string()});
    BOOST_TEST(run.status == 2);
    BOOST_TEST(run.err.find("empty.txt: is empty") != std::string::npos, run.err);
}

BOOST_AUTO_TEST_CASE(a_port_in_use_is_named) {
    net::Socket taken = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    const std::string port = std::to_string(taken.local_endpoint().port());
    const Exited run = run_server_to_exit({"--port", port, poem_path("science.txt")});
    BOOST_TEST(run.status == 2);
    BOOST_TEST(run.err.find("cannot listen on 127.0.0.1:" + port) != std::string::npos, run.err);
    BOOST_TEST(run.err.find("Address already in use") != std::string::npos, run.err);
}

BOOST_AUTO_TEST_CASE(help_lists_every_option_with_its_default_and_version_prints_it) {
    const Exited help = run_server_to_exit({"--help"});
    BOOST_TEST(help.status == 0);
    for (const char* option :
         {"--port", "--num-bytes", "--delay", "--iface", "--mode", "--selector", "--ports-file",
          "--max-clients", "--quiet", "--verbose", "--help", "--version"}) {
        BOOST_TEST(help.out.find(option) != std::string::npos, option);
    }
    for (const char* fallback :
         {"(default: 10)", "(default: 0.7)", "(default: localhost)", "(default: callbacks)"}) {
        BOOST_TEST(help.out.find(fallback) != std::string::npos, fallback);
    }
    check_help(help.out, "poetry_server.md");
    const Exited version = run_server_to_exit({"--version"});
    BOOST_TEST(version.status == 0);
    BOOST_TEST(version.out.starts_with("poetry_server "));
}

BOOST_AUTO_TEST_SUITE_END()

// The ports file exists exactly while the server serves, so that a script never reads a stale one.
BOOST_AUTO_TEST_SUITE(server_ports_file)

BOOST_DATA_TEST_CASE(the_ports_file_is_gone_once_the_server_has_stopped,
                     data::make(modes) * data::make({SIGTERM, SIGINT}), mode, signal) {
    RunningServer server({"--mode", mode, "--delay", "0", poem_path("science.txt")});
    const auto listed = nlohmann::json::parse(read_file(server.ports_file()));
    BOOST_TEST(listed.at(0).at("pid").get<pid_t>() == server.pid());
    BOOST_TEST(server.stop(signal) == 0);
    BOOST_TEST(!std::filesystem::exists(server.ports_file()));
    BOOST_TEST(last_line(server.out()).starts_with("Stopped after "));
}

BOOST_AUTO_TEST_CASE(the_ready_line_follows_the_listening_lines_with_every_address) {
    RunningServer server({"--delay", "0", poem_path("science.txt"), poem_path("ecstasy.txt")});
    const std::string ready = "Ready: 127.0.0.1:" + std::to_string(server.port(0)) +
                              " 127.0.0.1:" + std::to_string(server.port(1)) + "\n";
    BOOST_REQUIRE(server.wait_for_output(ready));
    const std::string out = server.out();
    BOOST_TEST(out.find(ready) > out.rfind("Serving "), out);
}

BOOST_AUTO_TEST_CASE(a_stale_ports_file_of_a_crashed_server_is_replaced) {
    const TempDir dir;
    const auto ports_file = dir / "ports.json";
    {
        ChildProcess crashed(
            {POETRY_SERVER_PATH, "--ports-file", ports_file.string(), poem_path("science.txt")}, {});
        const auto deadline = Clock::now() + 10s;
        while (!std::filesystem::exists(ports_file) && Clock::now() < deadline) {
            std::this_thread::sleep_for(5ms);
        }
        BOOST_REQUIRE(std::filesystem::exists(ports_file));
        crashed.signal(SIGKILL);  // no chance to remove its file
        BOOST_REQUIRE(crashed.wait(10s).has_value());
    }
    BOOST_REQUIRE(std::filesystem::exists(ports_file));
    const pid_t stale_pid = nlohmann::json::parse(read_file(ports_file)).at(0).at("pid").get<pid_t>();

    ChildProcess next(
        {POETRY_SERVER_PATH, "--ports-file", ports_file.string(), "--delay", "0", poem_path("science.txt")},
        {dir / "out", dir / "err", std::nullopt, std::nullopt});
    const auto deadline = Clock::now() + 10s;
    pid_t listed_pid = stale_pid;
    while (listed_pid == stale_pid && next.running() && Clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
        if (std::filesystem::exists(ports_file)) {
            listed_pid = nlohmann::json::parse(read_file(ports_file)).at(0).at("pid").get<pid_t>();
        }
    }
    BOOST_TEST(listed_pid == next.pid(), read_file(dir / "err"));
    const auto port = nlohmann::json::parse(read_file(ports_file)).at(0).at("port").get<std::uint16_t>();
    BOOST_TEST(download(port).bytes == read_file(poem_path("science.txt")));
    next.signal(SIGTERM);
    BOOST_TEST(next.wait(10s).value_or(-1) == 0);
    BOOST_TEST(!std::filesystem::exists(ports_file));
}

BOOST_AUTO_TEST_CASE(a_path_that_is_not_a_free_ports_file_is_refused_and_left_alone) {
    const TempDir dir;
    // Anything but a ports file: never replaced.
    const auto notes = dir / "notes.json";
    std::ofstream(notes) << "{\"mine\": true}\n";
    const Exited not_ports = run_server_to_exit({"--ports-file", notes.string(), poem_path("science.txt")});
    BOOST_TEST(not_ports.status == 2);
    BOOST_TEST(not_ports.err == "poetry_server: --ports-file " + notes.string() +
                                    ": the file exists and is not a ports file; not replacing it\n");
    BOOST_TEST(read_file(notes) == "{\"mine\": true}\n");

    const Exited directory =
        run_server_to_exit({"--ports-file", dir.path().string(), poem_path("science.txt")});
    BOOST_TEST(directory.status == 2);
    BOOST_TEST(directory.err == "poetry_server: --ports-file " + dir.path().string() + ": is a directory\n");

    // The file of a server that is still running.
    RunningServer running({"--delay", "0", poem_path("science.txt")});
    const std::string before = read_file(running.ports_file());
    const Exited second =
        run_server_to_exit({"--ports-file", running.ports_file().string(), poem_path("science.txt")});
    BOOST_TEST(second.status == 2);
    BOOST_TEST(second.err == "poetry_server: --ports-file " + running.ports_file().string() +
                                 ": in use by the poetry_server running as pid " +
                                 std::to_string(running.pid()) + "\n");
    BOOST_TEST(read_file(running.ports_file()) == before);

    const Exited unwritable = run_server_to_exit(
        {"--ports-file", (dir / "no-such-folder" / "ports.json").string(), poem_path("science.txt")});
    BOOST_TEST(unwritable.status == 2);
    BOOST_TEST(unwritable.err.ends_with("/ports.json: No such file or directory\n"), unwritable.err);
}

BOOST_DATA_TEST_CASE(a_log_that_cannot_be_written_is_reported_once_and_the_server_serves_on,
                     data::make(modes), mode) {
    const TempDir dir;
    // /dev/full: every write fails (ENOSPC), as a full disk or a closed pipe would make it.
    ChildProcess server({POETRY_SERVER_PATH, "--mode", mode, "--ports-file", (dir / "ports.json").string(),
                         "--delay", "0", poem_path("science.txt")},
                        {"/dev/full", dir / "err", std::nullopt, std::nullopt});
    const auto deadline = Clock::now() + 10s;
    while (!std::filesystem::exists(dir / "ports.json") && server.running() && Clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    BOOST_REQUIRE(std::filesystem::exists(dir / "ports.json"));
    const auto port =
        nlohmann::json::parse(read_file(dir / "ports.json")).at(0).at("port").get<std::uint16_t>();
    for (int i = 0; i < 3; ++i) {
        BOOST_TEST(download(port).bytes == read_file(poem_path("science.txt")));
    }
    server.signal(SIGTERM);
    BOOST_TEST(server.wait(10s).value_or(-1) == 0);
    BOOST_TEST(
        read_file(dir / "err") ==
        "poetry_server: cannot write the log to stdout (No space left on device); serving on without it\n");
}

BOOST_AUTO_TEST_SUITE_END()
