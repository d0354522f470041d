// poetry_server --upstream: the server as a slow, faulty proxy in front of real services started here
// (our own server, a line-echo service, a dead port, a listener that never answers), in every mode that
// proxies.
#include <sys/socket.h>

#include <atomic>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "integration/recording_client.hpp"
#include "integration/server_output.hpp"
#include "integration/server_process.hpp"
#include "poetry/detail/syscall.hpp"
#include "poetry/net/socket.hpp"
#include "support/child_process.hpp"
#include "support/process_stats.hpp"
#include "support/temp_dir.hpp"
#include "support/timing.hpp"

using namespace poetry;
using namespace poetry::test;
using namespace std::chrono_literals;
namespace data = boost::unit_test::data;

namespace {

const std::string ecstasy = poem_path("ecstasy.txt");  // 2667 bytes

/// The modes that proxy.
const std::vector<std::string> proxy_modes{"async", "callbacks", "coroutines", "threaded"};

double seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

std::string upstream_of(std::uint16_t port) {
    return "127.0.0.1:" + std::to_string(port);
}

/// A port on 127.0.0.1 where nothing listens (bound, then closed: nobody else takes it in the test's
/// few milliseconds, and if someone did, the test would fail, not pass wrongly).
std::uint16_t dead_port() {
    return net::listen(net::Endpoint::numeric("127.0.0.1", 0), 1).local_endpoint().port();
}

/// A line-echo service: for each connection, sends back every line it reads, and closes its side once
/// the client has closed its own (the shape of a request/response protocol). Serves `connections`,
/// and keeps the size of every read, to show how the bytes came.
class EchoService {
public:
    explicit EchoService(int connections)
        : listener_(net::listen(net::Endpoint::numeric("127.0.0.1", 0), 16)), thread_([this, connections] {
              for (int i = 0; i < connections; ++i) {
                  std::error_code ec;
                  net::Socket client = net::accept(listener_, ec);
                  if (ec) {
                      return;
                  }
                  std::byte buffer[4096];
                  std::string pending;
                  while (const std::size_t n = client.recv(buffer, ec)) {
                      reads_.push_back({Clock::now() - Clock::time_point(), n});
                      pending.append(reinterpret_cast<const char*>(buffer), n);
                      for (auto end = pending.find('\n'); end != std::string::npos;
                           end = pending.find('\n')) {
                          client.send_all(net::as_bytes(pending.substr(0, end + 1)), ec);
                          pending.erase(0, end + 1);
                      }
                  }
                  client.shutdown(SHUT_WR, ec);
              }
          }) {}
    ~EchoService() { join(); }

    [[nodiscard]] std::uint16_t port() const { return listener_.local_endpoint().port(); }
    /// Waits until it has served its connections (or stops it), then gives what each read got and when.
    const std::vector<Piece>& reads() {
        join();
        return reads_;
    }

private:
    void join() {
        if (thread_.joinable()) {
            std::error_code ignored;
            listener_.shutdown(SHUT_RDWR, ignored);  // ends an accept still waiting
            thread_.join();
        }
    }

    net::Socket listener_;
    std::vector<Piece> reads_;  // written by the thread only, read after join()
    std::thread thread_;
};

/// An upstream that sends `total` bytes to its one client as fast as the client's side takes them,
/// and counts what its socket took: a gigabyte behind a slow proxy shows where the bytes wait.
class FloodService {
public:
    explicit FloodService(std::size_t total)
        : listener_(net::listen(net::Endpoint::numeric("127.0.0.1", 0), 4)), thread_([this, total] {
              std::error_code ec;
              net::Socket client = net::accept(listener_, ec);
              const std::string block(1 << 20, 'x');
              while (!ec && sent_ < total) {
                  const std::size_t n =
                      client.send(net::as_bytes(block).first(std::min(block.size(), total - sent_)), ec);
                  sent_ += n;
              }
          }) {}
    ~FloodService() {
        std::error_code ignored;
        listener_.shutdown(SHUT_RDWR, ignored);
        thread_.join();
    }

    [[nodiscard]] std::uint16_t port() const { return listener_.local_endpoint().port(); }
    [[nodiscard]] std::size_t sent() const noexcept { return sent_; }

private:
    net::Socket listener_;
    std::atomic<std::size_t> sent_{0};
    std::thread thread_;
};

/// An upstream that accepts one connection, sends nothing, and notes when that connection ends.
class SilentService {
public:
    SilentService()
        : listener_(net::listen(net::Endpoint::numeric("127.0.0.1", 0), 4)), thread_([this] {
              std::error_code ec;
              net::Socket client = net::accept(listener_, ec);
              accepted_.set_value();
              std::byte buffer[256];
              while (!ec && client.recv(buffer, ec) > 0) {
              }
              ended_.set_value(Clock::now());
          }) {}
    ~SilentService() {
        std::error_code ignored;
        listener_.shutdown(SHUT_RDWR, ignored);
        thread_.join();
    }

    [[nodiscard]] std::uint16_t port() const { return listener_.local_endpoint().port(); }
    std::future<void> accepted() { return accepted_.get_future(); }
    std::future<Clock::time_point> ended() { return ended_.get_future(); }

private:
    net::Socket listener_;
    std::promise<void> accepted_;
    std::promise<Clock::time_point> ended_;
    std::thread thread_;
};

/// Python's http.server on a free port of 127.0.0.1, serving `directory`.
class HttpService {
public:
    explicit HttpService(const std::filesystem::path& directory)
        : process_({"/usr/bin/env", "python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
                    "--directory", directory.string()},
                   {dir_ / "out", dir_ / "err", std::nullopt, std::nullopt}) {
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        const auto deadline = Clock::now() + 10s;
        const std::string marker = " port ";
        for (;;) {
            const std::string out = read_file(dir_ / "out");
            if (const auto at = out.find(marker);
                at != std::string::npos && out.find('(', at) != std::string::npos) {
                port_ = static_cast<std::uint16_t>(std::stoul(out.substr(at + marker.size())));
                return;
            }
            if (!process_.running() || Clock::now() > deadline) {
                throw std::runtime_error("python3 -m http.server did not start: " + read_file(dir_ / "err"));
            }
            std::this_thread::sleep_for(10ms);
        }
    }

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

private:
    TempDir dir_;
    ChildProcess process_;
    std::uint16_t port_ = 0;
};

/// Everything the other side sends until it closes; a failure or 10 s of silence fail the test.
std::string read_to_end(net::Socket& socket) {
    std::error_code ec;
    std::string received = poetry::test::read_to_end(socket, ec);
    BOOST_TEST(!ec, ec.message());
    return received;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proxy)

// Our own server at full speed behind the proxy: the poem arrives byte-exact, in the proxy's chunks, on
// its schedule.
BOOST_DATA_TEST_CASE(a_poem_through_the_proxy_arrives_byte_exact_in_its_chunks_and_paced,
                     data::make(proxy_modes), mode) {
    const std::string poem = read_file(ecstasy);
    RunningServer upstream({"--num-bytes", "100000", "--delay", "0", ecstasy});
    RunningServer proxy(
        {"--mode", mode, "--upstream", upstream_of(upstream.port()), "--num-bytes", "500", "--delay", "0.1"});
    BOOST_TEST(proxy.listeners().at(0).upstream == upstream_of(upstream.port()));
    BOOST_TEST(proxy.listeners().at(0).poem.empty());

    const Download got = download(proxy.port());
    BOOST_TEST(got.closed_by_server);
    BOOST_TEST(got.error.empty(), got.error);
    BOOST_TEST((got.bytes == poem));
    for (const Piece& piece : got.pieces) {
        BOOST_TEST(piece.size <= 500U);
    }
    // Chunk k leaves no sooner than k x 0.1 s after the first (whatever the machine's load).
    BOOST_TEST(seconds(got.last_byte() - got.first_byte()) >= 0.5 - 0.005);
    POETRY_TEST_TIMING(got.pieces.size() == 6U, "pieces: " << got.pieces.size());
    POETRY_TEST_TIMING(seconds(got.last_byte() - got.first_byte()) < 0.9,
                       "took " << seconds(got.last_byte() - got.first_byte()) << " s");

    // The session ends once the client's FIN (sent as the download closed) has been passed on.
    BOOST_TEST(proxy.wait_for_output(": sent 2667 bytes in "), proxy.out());
    BOOST_TEST(proxy.stop() == 0);
    BOOST_TEST(summary_count(proxy.out(), "served ") == 1U);
    BOOST_TEST(summary_count(proxy.out(), "upstream failed ") == 0U);
    BOOST_TEST(summary_count(proxy.out(), "sent ") == poem.size());
    BOOST_TEST(
        proxy.out().find("Proxying 127.0.0.1:" + std::to_string(proxy.port()) + " to " +
                         upstream_of(upstream.port()) + ": 500 bytes every 0.1 s") != std::string::npos,
        proxy.out());
}

// A request/response exchange with both directions throttled: the request reaches the service in
// chunks of 4 bytes, its half-close after it; the service answers and closes; the answer comes back in
// chunks of 5, then the end.
BOOST_DATA_TEST_CASE(a_request_and_its_half_close_reach_the_service_and_the_answer_comes_back_paced,
                     data::make(proxy_modes), mode) {
    EchoService echo(1);
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(echo.port()), "--num-bytes", "5",
                         "--delay", "0.05", "--upstream-num-bytes", "4", "--upstream-delay", "0.05"});
    const std::string request = "hello\nslow\nworld\n";  // 17 bytes: 5 chunks there, 4 back
    net::Socket client = net::connect(net::Address("127.0.0.1", proxy.port()));
    const auto sent = Clock::now();
    client.send_all(net::as_bytes(request));
    std::error_code ec;
    client.shutdown(SHUT_WR, ec);
    const std::string answer = read_to_end(client);
    const double took = seconds(Clock::now() - sent);
    BOOST_TEST(answer == request);
    BOOST_TEST(took >= 0.2 - 0.005);  // the request alone: 5 chunks, 4 pauses of 0.05 s at least

    const std::vector<Piece>& reads = echo.reads();
    std::size_t received = 0;
    for (const Piece& read : reads) {
        BOOST_TEST(read.size <= 4U);
        received += read.size;
    }
    BOOST_TEST(received == request.size());
    BOOST_REQUIRE(!reads.empty());
    BOOST_TEST(seconds(reads.back().at - reads.front().at) >= 0.2 - 0.005);
    POETRY_TEST_TIMING(reads.size() == 5U, "the service read " << reads.size() << " times");
    BOOST_TEST(proxy.stop() == 0);
    BOOST_TEST(summary_count(proxy.out(), "served ") == 1U);
    BOOST_TEST(proxy.out().find("5 bytes every 0.05 s; toward the upstream 4 bytes every 0.05 s") !=
                   std::string::npos,
               proxy.out());
}

// Python's http.server behind --rate: an HTTP GET comes back byte-exact, no faster than the rate.
BOOST_DATA_TEST_CASE(an_http_get_through_the_proxy_at_a_rate_is_byte_exact_and_takes_its_time,
                     data::make(proxy_modes), mode) {
    const TempDir site;
    write_patterned_file(site / "page.bin", 40000);
    const std::string page = read_file(site / "page.bin");
    HttpService http(site.path());
    // 100,000 bytes/s: chunks of 1,000 bytes every 0.01 s.
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(http.port()), "--rate", "100000"});
    BOOST_TEST(proxy.listeners().at(0).num_bytes == 1000U);
    BOOST_TEST(proxy.listeners().at(0).delay == 0.01);

    net::Socket client = net::connect(net::Address("127.0.0.1", proxy.port()));
    const auto asked = Clock::now();
    client.send_all(net::as_bytes("GET /page.bin HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"));
    const std::string response = read_to_end(client);
    const double took = seconds(Clock::now() - asked);
    const auto body_at = response.find("\r\n\r\n");
    BOOST_REQUIRE(body_at != std::string::npos);
    BOOST_TEST(response.rfind("HTTP/1.0 200 OK\r\n", 0) == 0U, response.substr(0, 40));
    BOOST_TEST((response.substr(body_at + 4) == page));
    // The headers and the body, in chunks of 1,000 bytes 0.01 s apart: at least 0.4 s.
    const double least = static_cast<double>((response.size() - 1) / 1000) * 0.01;
    BOOST_TEST(took >= least - 0.005, took << " s for " << response.size() << " bytes");
    POETRY_TEST_TIMING(took < least + 1.0, took << " s for " << response.size() << " bytes");
    BOOST_TEST(proxy.stop() == 0);
    BOOST_TEST(proxy.out().find("100000 bytes/s (1000 bytes every 0.01 s)") != std::string::npos,
               proxy.out());
}

// A client that resets takes its upstream connection with it, at once: the service sees it end.
BOOST_DATA_TEST_CASE(a_client_that_resets_closes_its_upstream_connection_at_once, data::make(proxy_modes),
                     mode) {
    SilentService silent;
    auto accepted = silent.accepted();
    auto ended = silent.ended();
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(silent.port())});
    net::Socket client = net::connect(net::Address("127.0.0.1", proxy.port()));
    BOOST_REQUIRE(accepted.wait_for(10s) == std::future_status::ready);
    const linger abort_on_close{1, 0};
    ::setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
    const auto reset = Clock::now();
    client.close();
    BOOST_REQUIRE(ended.wait_for(10s) == std::future_status::ready);
    const double after = seconds(ended.get() - reset);
    POETRY_TEST_TIMING(after < 0.5, "the upstream connection ended " << after << " s after the reset");
    BOOST_TEST(proxy.wait_for_output("dropped after 0 bytes"), proxy.out());
    BOOST_TEST(proxy.stop() == 0);
    BOOST_TEST(summary_count(proxy.out(), "dropped ") == 1U);
}

// --hang-after through the proxy: the bytes up to the limit, then silence on an open connection until
// the client gives up.
BOOST_DATA_TEST_CASE(hang_after_gives_the_bytes_up_to_its_limit_then_silence, data::make(proxy_modes), mode) {
    const std::string poem = read_file(ecstasy);
    RunningServer upstream({"--num-bytes", "100000", "--delay", "0", ecstasy});
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(upstream.port()), "--num-bytes", "300",
                         "--delay", "0", "--hang-after", "700"});
    net::Socket client = net::connect(net::Address("127.0.0.1", proxy.port()));
    std::error_code ec;
    client.set_receive_timeout(500ms, ec);
    std::string got;
    std::byte buffer[4096];
    while (const std::size_t n = client.recv(buffer, ec)) {
        got.append(reinterpret_cast<const char*>(buffer), n);
    }
    BOOST_TEST(poetry::detail::is_would_block(ec), ec.message());  // silence, not an end
    BOOST_TEST((got == poem.substr(0, 700)));
    client.close();
    BOOST_TEST(proxy.wait_for_output("hung by --hang-after after 700 bytes"), proxy.out());
    BOOST_TEST(proxy.stop() == 0);
    BOOST_TEST(last_line(proxy.out()).find("hang-after 1") != std::string::npos, proxy.out());
}

// Nothing listens upstream: each client is closed at once without a byte, the cause is said once on
// stderr, and the server goes on serving.
BOOST_DATA_TEST_CASE(a_refusing_upstream_closes_each_client_logs_once_and_the_server_goes_on,
                     data::make(proxy_modes), mode) {
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(dead_port())});
    for (int i = 0; i < 3; ++i) {
        const Download got = download(proxy.port());
        BOOST_TEST(got.closed_by_server);
        BOOST_TEST(got.bytes.empty());
    }
    BOOST_TEST(proxy.running());
    BOOST_TEST(proxy.stop() == 0);
    const std::string errors = proxy.err();
    const std::string cause = "Connection refused; closing its clients until it answers";
    BOOST_TEST(errors.find(cause) != std::string::npos, errors);
    BOOST_TEST(errors.find(cause) == errors.rfind(cause), "logged more than once:\n" << errors);
    BOOST_TEST(summary_count(proxy.out(), "upstream failed ") == 3U);
    BOOST_TEST(summary_count(proxy.out(), "served ") == 0U);
}

// --stats on a proxy with two upstreams, one serving and one refusing: over its intervals, the lines
// count one client served, one dropped (its upstream failed), and the served one's chunks and lateness.
BOOST_DATA_TEST_CASE(stats_lines_count_a_proxys_clients_chunks_and_upstream_failures, data::make(proxy_modes),
                     mode) {
    RunningServer upstream({"--num-bytes", "100000", "--delay", "0", ecstasy});
    RunningServer proxy({"--mode", mode, "--stats", "0.1", "--num-bytes", "500", "--delay", "0.05",
                         "--upstream", upstream_of(upstream.port()) + "," + upstream_of(dead_port())});
    BOOST_TEST(download(proxy.port()).bytes.size() == read_file(ecstasy).size());
    BOOST_TEST(download(proxy.listeners().at(1).port).bytes.empty());
    BOOST_TEST(proxy.wait_for_output(" 1 dropped, "), proxy.out());
    BOOST_TEST(proxy.stop() == 0);
    unsigned served = 0;
    unsigned dropped = 0;
    double most_chunks_per_second = 0;
    bool saw_lateness = false;
    for (const StatsLine& line : stats_lines(proxy.out())) {
        served += line.served;
        dropped += line.dropped;
        most_chunks_per_second = std::max(most_chunks_per_second, line.chunks_per_second);
        saw_lateness = saw_lateness || line.has_lateness;
    }
    BOOST_TEST(served == 1U, proxy.out());
    BOOST_TEST(dropped == 1U, proxy.out());
    BOOST_TEST(most_chunks_per_second > 0, proxy.out());  // 6 chunks of 500 bytes in 0.25 s
    BOOST_TEST(saw_lateness, proxy.out());
}

// An upstream whose accept queue is full drops the connect's SYN: after --upstream-timeout the client
// is closed and the cause says so.
BOOST_DATA_TEST_CASE(an_upstream_that_never_answers_the_connect_closes_the_client_after_the_timeout,
                     data::make(proxy_modes), mode) {
    // A backlog of 0 holds one connection that nobody accepts; the next SYN finds the queue full.
    net::Socket silent = net::listen(net::Endpoint::numeric("127.0.0.1", 0), 0);
    std::vector<net::Socket> fillers;
    for (int i = 0; i < 2; ++i) {
        std::error_code ec;
        fillers.push_back(net::start_connect(silent.local_endpoint(), ec));
    }
    std::this_thread::sleep_for(50ms);
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(silent.local_endpoint().port()),
                         "--upstream-timeout", "0.5"});
    const Download got = download(proxy.port());
    const double took = seconds(Clock::now() - got.connect_started);
    BOOST_TEST(got.closed_by_server);
    BOOST_TEST(got.bytes.empty());
    BOOST_TEST(took >= 0.5 - 0.005);
    POETRY_TEST_TIMING(took < 2.0, "closed after " << took << " s");
    BOOST_TEST(proxy.wait_for_error("no answer to connect in 0.5 s (--upstream-timeout)"), proxy.err());
    BOOST_TEST(proxy.stop() == 0);
    BOOST_TEST(summary_count(proxy.out(), "upstream failed ") == 1U);
}

// The upstream resets after 1,000 bytes: those bytes reach the client, then a reset (a FIN would let it
// take the cut stream for a whole one).
BOOST_DATA_TEST_CASE(an_upstream_reset_mid_stream_is_passed_on_as_a_reset_after_what_came_before,
                     data::make(proxy_modes), mode) {
    const std::string poem = read_file(ecstasy);
    RunningServer upstream({"--num-bytes", "100000", "--delay", "0", "--reset-after", "1000", ecstasy});
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(upstream.port()), "--num-bytes", "400",
                         "--delay", "0.02"});
    const Download got = download(proxy.port());
    BOOST_TEST(!got.closed_by_server);
    BOOST_TEST(got.error == "Connection reset by peer");
    BOOST_TEST((got.bytes == poem.substr(0, 1000)));
    BOOST_TEST(proxy.stop() == 0);
    BOOST_TEST(summary_count(proxy.out(), "upstream failed ") == 1U);
    BOOST_TEST(proxy.out().find("failed by its upstream after 1000 bytes") != std::string::npos, proxy.out());
}

// The faults act on the proxied stream as on a poem, counting the bytes that went downstream.
BOOST_DATA_TEST_CASE(close_after_counts_the_bytes_that_went_to_the_client, data::make(proxy_modes), mode) {
    const std::string poem = read_file(ecstasy);
    RunningServer upstream({"--num-bytes", "100000", "--delay", "0", ecstasy});
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(upstream.port()), "--num-bytes", "300",
                         "--delay", "0", "--close-after", "700"});
    const Download got = download(proxy.port());
    BOOST_TEST(got.closed_by_server);
    BOOST_TEST((got.bytes == poem.substr(0, 700)));
    BOOST_TEST(proxy.stop() == 0);
    BOOST_TEST(proxy.out().find("closed early by --close-after after 700 bytes") != std::string::npos,
               proxy.out());
}

// A stop while clients are being relayed ends them at once (no wait for their upstreams), exit 0.
BOOST_DATA_TEST_CASE(a_stop_while_relaying_interrupts_the_sessions_and_exits_0, data::make(proxy_modes),
                     mode) {
    RunningServer upstream({"--num-bytes", "10", "--delay", "1", ecstasy});
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(upstream.port()), "--delay", "0"});
    net::Socket first = net::connect(net::Address("127.0.0.1", proxy.port()));
    net::Socket second = net::connect(net::Address("127.0.0.1", proxy.port()));
    std::byte buffer[64];
    BOOST_TEST(first.recv(buffer) == 10U);  // the relay is under way
    BOOST_TEST(second.recv(buffer) == 10U);
    const auto stopping = Clock::now();
    BOOST_TEST(proxy.stop() == 0);
    POETRY_TEST_TIMING(seconds(Clock::now() - stopping) < 1.0,
                       "stopped in " << seconds(Clock::now() - stopping));
    BOOST_TEST(summary_count(proxy.out(), "interrupted ") == 2U);
    BOOST_TEST(first.recv(buffer) == 0U);  // closed by the stop
}

// --cache: the upstream is read once, to its end, while the clients that came meanwhile wait; all of
// them, and those after, get its content as a poem, byte-exact and paced.
BOOST_DATA_TEST_CASE(with_cache_the_upstream_is_fetched_once_for_every_client, data::make(proxy_modes),
                     mode) {
    const std::string poem = read_file(ecstasy);
    // About 0.3 s to fetch: 9 chunks of 300 bytes, 0.04 s apart.
    RunningServer upstream({"--num-bytes", "300", "--delay", "0.04", ecstasy});
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(upstream.port()), "--cache", "--num-bytes",
                         "1000", "--delay", "0.05"});
    std::vector<std::future<Download>> first;
    for (int i = 0; i < 3; ++i) {
        first.push_back(std::async(std::launch::async, [&proxy] { return download(proxy.port()); }));
    }
    for (auto& waiting : first) {
        const Download got = waiting.get();
        BOOST_TEST(got.closed_by_server);
        BOOST_TEST((got.bytes == poem));
        BOOST_TEST(seconds(got.first_byte() - got.connect_started) >= 0.3 - 0.005);  // waited for the fetch
    }
    const Download later = download(proxy.port());
    BOOST_TEST((later.bytes == poem));
    // From the cache: 3 chunks, no fetch. (A fetch alone takes 0.32 s.)
    POETRY_TEST_TIMING(seconds(later.last_byte() - later.connect_started) < 0.3,
                       "took " << seconds(later.last_byte() - later.connect_started) << " s");
    BOOST_TEST(proxy.stop() == 0);
    BOOST_TEST(upstream.stop() == 0);
    BOOST_TEST(summary_count(upstream.out(), "served ") == 1U);
    BOOST_TEST(summary_count(proxy.out(), "served ") == 4U);
    BOOST_TEST(
        proxy.out().find("Cached 2667 bytes from " + upstream_of(upstream.port())) != std::string::npos,
        proxy.out());
}

// A fetch that fails closes the clients that waited for it, says why once, and the next client starts
// another: here the upstream is down at first, then comes up on its port.
BOOST_DATA_TEST_CASE(with_cache_a_failed_fetch_closes_its_waiting_clients_and_the_next_client_tries_again,
                     data::make(proxy_modes), mode) {
    const std::string poem = read_file(ecstasy);
    const std::uint16_t port = dead_port();
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(port), "--cache", "--num-bytes", "100000",
                         "--delay", "0"});
    for (int i = 0; i < 2; ++i) {
        const Download refused = download(proxy.port());
        BOOST_TEST(refused.closed_by_server);
        BOOST_TEST(refused.bytes.empty());
    }
    RunningServer upstream(
        {"--port", std::to_string(port), "--num-bytes", "100000", "--delay", "0", ecstasy});
    const Download got = download(proxy.port());
    BOOST_TEST((got.bytes == poem));
    BOOST_TEST(proxy.stop() == 0);
    BOOST_TEST(summary_count(proxy.out(), "upstream failed ") == 2U);
    BOOST_TEST(summary_count(proxy.out(), "served ") == 1U);
    const std::string errors = proxy.err();
    const std::string cause = "cannot fill the cache of 127.0.0.1:" + std::to_string(proxy.port());
    BOOST_TEST(errors.find(cause) != std::string::npos, errors);
    BOOST_TEST(errors.find(cause) == errors.rfind(cause), "said more than once:\n" << errors);
}

// A gigabyte upstream behind --rate 1000000: the proxy reads the upstream only as fast as it sends on,
// so the gigabyte waits upstream (TCP's flow control), not in the proxy's memory.
BOOST_DATA_TEST_CASE(a_gigabyte_upstream_behind_a_rate_waits_upstream_not_in_the_proxys_memory,
                     data::make(proxy_modes), mode) {
    FloodService flood(std::size_t{1} << 30);
    RunningServer proxy({"--mode", mode, "--upstream", upstream_of(flood.port()), "--rate", "1000000"});
    const std::size_t resident_before = resident_kb(proxy.pid());
    reset_peak_resident(proxy.pid());
    const Download got = download(proxy.port(), 1500000);  // 1.5 s at the rate
    const double took = seconds(got.last_byte() - got.connected);
    const std::size_t resident_peak = peak_resident_kb(proxy.pid());
    const std::size_t upstream_sent = flood.sent();
    BOOST_TEST(got.bytes.size() >= 1500000U);
    BOOST_TEST(got.bytes.find_first_not_of('x') == std::string::npos);
    // The rate holds: 1.5 MB in chunks of 10,000 bytes 0.01 s apart takes 1.49 s at least.
    BOOST_TEST(took >= 1.49 - 0.005, took << " s");
    // What the upstream could send beyond what reached the client: the kernel's socket buffers on both
    // sides of the proxy (a few MB on loopback) and the proxy's own 64 KiB, never the gigabyte.
    BOOST_TEST(upstream_sent < got.bytes.size() + (16U << 20), "upstream sent " << upstream_sent);
    if (resident_memory_is_meaningful) {
        BOOST_TEST(resident_peak < resident_before + 2048,
                   "resident " << resident_before << " kB before, peak " << resident_peak << " kB");
    }
    BOOST_TEST_MESSAGE("figure: " << mode << ": 1 GB upstream behind --rate 1000000: " << got.bytes.size()
                                  << " bytes in " << took << " s; upstream had sent " << upstream_sent
                                  << " bytes; proxy resident " << resident_before << " kB before, peak "
                                  << resident_peak << " kB");
    BOOST_TEST(proxy.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
