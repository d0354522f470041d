// Acceptor: connections handed over non-blocking with their peer, in batches; stop(); and running out
// of fds (a lowered RLIMIT_NOFILE): one pause report, a few retries rather than a spinning loop, and the
// waiting connection accepted once fds are free again.
#include "poetry/loop/acceptor.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "poetry/detail/unique_fd.hpp"
#include "poetry/loop/event_loop.hpp"
#include "poetry/net/socket.hpp"
#include "support/fd_count.hpp"
#include "support/timing.hpp"

using namespace std::chrono_literals;
using poetry::Acceptor;
using poetry::Clock;
using poetry::EventLoop;
namespace net = poetry::net;

namespace {

net::Socket listen_on_loopback() {
    return net::listen(net::Endpoint::numeric("127.0.0.1", 0));
}

/// A blocking client, connected once this returns: the kernel completes the handshake into the
/// listener's backlog whether or not anything accepts.
net::Socket connect_to(const net::Socket& listener) {
    std::error_code ec;
    net::Socket client = net::connect(listener.local_endpoint(), ec);
    BOOST_REQUIRE_MESSAGE(!ec, "connect: " << ec.message());
    return client;
}

/// Runs `loop` until `done()` or `duration` has passed (a timer wakes a loop that has nothing else to
/// wait for; the iteration cap stops one that spins). @returns the iterations it took.
template <class Done>
int run_until_or_for(EventLoop& loop, Done done, Clock::duration duration) {
    bool over = false;
    auto end = loop.call_later(duration, [&] { over = true; });
    int iterations = 0;
    while (!done() && !over && iterations < 1'000'000) {
        loop.run_once();
        ++iterations;
    }
    end.cancel();
    return iterations;
}

/// Runs `loop` until `done()`; fails the test after 5 s instead of hanging. @returns the iterations.
template <class Done>
int run_until(EventLoop& loop, Done done) {
    const int iterations = run_until_or_for(loop, done, 5s);
    BOOST_TEST(done());
    return iterations;
}

/// One iteration, which a timer ends after 2 s if nothing else does (so that a broken acceptor fails the
/// test instead of blocking it).
void run_once(EventLoop& loop) {
    auto wake = loop.call_later(2s, [] {});
    loop.run_once();
    wake.cancel();
}

/// Runs `loop` for `duration` of real time. @returns the iterations it took.
int run_for(EventLoop& loop, Clock::duration duration) {
    return run_until_or_for(
        loop, [] { return false; }, duration);
}

bool is_nonblocking(int fd) {
    return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

bool is_close_on_exec(int fd) {
    return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

/// Lowers the soft RLIMIT_NOFILE for its lifetime, and restores it.
class SoftFdLimit {
public:
    explicit SoftFdLimit(rlim_t soft) {
        BOOST_REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
        rlimit lowered = saved_;
        lowered.rlim_cur = std::min(soft, saved_.rlim_cur);
        BOOST_REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
    }
    ~SoftFdLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    SoftFdLimit(const SoftFdLimit&) = delete;
    SoftFdLimit& operator=(const SoftFdLimit&) = delete;

private:
    rlimit saved_{};
};

/// Takes every fd the process may still open (under a soft limit a little above the fds open now, so
/// that this takes only a few), until fill() is called again or it goes.
class FdExhaustion {
public:
    FdExhaustion() : limit_(static_cast<rlim_t>(highest_open_fd() + 16)) { fill(); }

    void fill() {
        for (;;) {
            const int fd = ::fcntl(0, F_DUPFD_CLOEXEC, 0);
            if (fd < 0) {
                BOOST_REQUIRE_EQUAL(errno, EMFILE);
                break;
            }
            fillers_.emplace_back(fd);
        }
    }
    void release() { fillers_.clear(); }
    /// Frees one fd, for the next accept to take.
    void release_one() {
        BOOST_REQUIRE(!fillers_.empty());
        fillers_.pop_back();
    }

private:
    static int highest_open_fd() {
        int highest = 0;
        for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
            highest = std::max(highest, std::stoi(entry.path().filename().string()));
        }
        return highest;
    }

    SoftFdLimit limit_;
    std::vector<poetry::detail::UniqueFd> fillers_;
};

/// What an acceptor handed over, in order; handler() is the connection handler that records it.
struct Handed {
    std::vector<net::Socket> sockets;
    std::vector<net::Endpoint> peers;

    [[nodiscard]] Acceptor::ConnectionHandler handler() {
        return [this](net::Socket socket, const net::Endpoint& peer) {
            sockets.push_back(std::move(socket));
            peers.push_back(peer);
        };
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(acceptor, poetry::test::FdLeakCheck)

BOOST_AUTO_TEST_CASE(
    an_acceptor_hands_over_connections_that_arrive_after_it_starts_non_blocking_with_their_peer) {
    EventLoop loop;
    net::Socket listener = listen_on_loopback();
    Handed handed;
    Acceptor acceptor(loop, listener, handed.handler());
    BOOST_TEST(!acceptor.started());
    BOOST_TEST(!loop.has_reader(listener.fd()));
    acceptor.start();
    BOOST_TEST(acceptor.started());
    BOOST_TEST(is_nonblocking(listener.fd()));

    // Two connect while the loop waits, and a third later on, after the acceptor has been idle again.
    std::vector<net::Socket> clients;
    loop.call_later(10ms, [&] {
        clients.push_back(connect_to(listener));
        clients.push_back(connect_to(listener));
    });
    loop.call_later(40ms, [&] { clients.push_back(connect_to(listener)); });
    run_until(loop, [&] { return handed.sockets.size() == 3; });
    BOOST_REQUIRE_EQUAL(handed.sockets.size(), 3U);
    BOOST_REQUIRE_EQUAL(clients.size(), 3U);

    std::multiset<std::uint16_t> client_ports;
    std::multiset<std::uint16_t> peer_ports;
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST_CONTEXT("connection " << i) {
            BOOST_TEST(handed.sockets[i].is_open());
            BOOST_TEST(is_nonblocking(handed.sockets[i].fd()));
            BOOST_TEST(is_close_on_exec(handed.sockets[i].fd()));
            BOOST_TEST(handed.peers[i].host() == "127.0.0.1");
        }
        client_ports.insert(clients[i].local_endpoint().port());
        peer_ports.insert(handed.peers[i].port());
    }
    BOOST_TEST(peer_ports == client_ports, boost::test_tools::per_element());

    // Each handed socket is the server side of its client's connection.
    for (std::size_t i = 0; i < 3; ++i) {
        const auto it = std::find_if(clients.begin(), clients.end(), [&](const net::Socket& client) {
            return client.local_endpoint().port() == handed.peers[i].port();
        });
        BOOST_REQUIRE(it != clients.end());
        it->send_all(net::as_bytes("hi"));
        std::byte buffer[8];
        std::error_code ec;
        std::size_t n = 0;
        for (int tries = 0; tries < 200; ++tries) {  // non-blocking: the bytes may take a moment
            n = handed.sockets[i].recv(buffer, ec);
            if (!ec) {
                break;
            }
            ::usleep(1000);
        }
        BOOST_TEST(n == 2U);
    }
    BOOST_TEST(!acceptor.paused());
}

BOOST_AUTO_TEST_CASE(an_acceptor_takes_at_most_batch_connections_per_readiness) {
    EventLoop loop;
    net::Socket listener = listen_on_loopback();
    Handed handed;
    Acceptor acceptor(
        loop, listener,
        handed.handler(),
        {}, Acceptor::Options{.batch = 2, .retry = 20ms});
    acceptor.start();
    std::vector<net::Socket> clients;
    for (int i = 0; i < 5; ++i) {
        clients.push_back(connect_to(listener));
    }
    run_once(loop);
    BOOST_TEST(handed.sockets.size() == 2U);
    run_once(loop);  // still readable: the rest come in the following iterations
    BOOST_TEST(handed.sockets.size() == 4U);
    run_once(loop);
    BOOST_TEST(handed.sockets.size() == 5U);
}

BOOST_AUTO_TEST_CASE(an_acceptor_with_the_default_batch_takes_every_waiting_connection_in_one_iteration) {
    EventLoop loop;
    net::Socket listener = listen_on_loopback();
    Handed handed;
    Acceptor acceptor(loop, listener, handed.handler());
    acceptor.start();
    std::vector<net::Socket> clients;
    for (int i = 0; i < 10; ++i) {
        clients.push_back(connect_to(listener));
    }
    run_once(loop);
    BOOST_TEST(handed.sockets.size() == 10U);
}

BOOST_AUTO_TEST_CASE(stop_stops_handing_over_connections_and_leaves_them_in_the_backlog) {
    EventLoop loop;
    net::Socket listener = listen_on_loopback();
    Handed handed;
    Acceptor acceptor(loop, listener, handed.handler());
    acceptor.start();
    std::vector<net::Socket> clients;
    clients.push_back(connect_to(listener));
    run_until(loop, [&] { return handed.sockets.size() == 1; });

    acceptor.stop();
    acceptor.stop();  // idempotent
    BOOST_TEST(!acceptor.started());
    BOOST_TEST(!loop.has_reader(listener.fd()));
    BOOST_TEST(loop.selector().size() == 0U);
    clients.push_back(connect_to(listener));
    run_for(loop, 30ms);
    BOOST_TEST(handed.sockets.size() == 1U);

    std::error_code ec;
    net::Socket waiting = net::accept(listener, ec);  // the listener is non-blocking: fails if none
    BOOST_TEST(!ec);
    BOOST_TEST(waiting.is_open());

    // And it can start again.
    acceptor.start();
    clients.push_back(connect_to(listener));
    run_until(loop, [&] { return handed.sockets.size() == 2; });
}

BOOST_AUTO_TEST_CASE(stop_from_the_connection_handler_ends_the_batch) {
    EventLoop loop;
    net::Socket listener = listen_on_loopback();
    Handed handed;
    std::optional<Acceptor> acceptor;
    acceptor.emplace(loop, listener, [&](net::Socket socket, const net::Endpoint&) {
        handed.sockets.push_back(std::move(socket));
        acceptor->stop();
    });
    acceptor->start();
    std::vector<net::Socket> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(connect_to(listener));
    }
    run_once(loop);
    BOOST_TEST(handed.sockets.size() == 1U);
    BOOST_TEST(!acceptor->started());
    run_for(loop, 20ms);
    BOOST_TEST(handed.sockets.size() == 1U);
}

BOOST_AUTO_TEST_CASE(destroying_an_acceptor_stops_watching_the_listener) {
    EventLoop loop;
    net::Socket listener = listen_on_loopback();
    {
        Acceptor acceptor(loop, listener, [](net::Socket, const net::Endpoint&) {});
        acceptor.start();
        BOOST_TEST(loop.has_reader(listener.fd()));
    }
    BOOST_TEST(!loop.has_reader(listener.fd()));
    BOOST_TEST(loop.selector().size() == 0U);
    BOOST_TEST(loop.armed_timers() == 0U);
}

BOOST_AUTO_TEST_CASE(
    out_of_fds_an_acceptor_pauses_once_retries_without_spinning_and_accepts_once_fds_are_free) {
    EventLoop loop;
    net::Socket listener = listen_on_loopback();
    Handed handed;
    std::vector<std::error_code> pauses;
    constexpr auto retry = 20ms;
    Acceptor acceptor(
        loop, listener,
        handed.handler(),
        [&](const std::error_code& ec) { pauses.push_back(ec); },
        Acceptor::Options{.batch = 64, .retry = retry});
    acceptor.start();
    net::Socket client = connect_to(listener);  // waits in the backlog until there is an fd for it

    std::optional<FdExhaustion> exhaustion(std::in_place);
    // ~300 ms of failing accepts. A loop that kept trying on readiness would spin through hundreds of
    // thousands of iterations; retrying every 20 ms takes about 15.
    const int iterations = run_for(loop, 300ms);
    BOOST_TEST_MESSAGE("loop iterations in 300 ms out of fds: " << iterations);
    BOOST_TEST(pauses.size() == 1U);
    BOOST_TEST(acceptor.paused());
    BOOST_TEST(acceptor.started());
    BOOST_TEST(handed.sockets.empty());
    BOOST_TEST(!loop.has_reader(listener.fd()));  // paused: not watching the listener
    BOOST_TEST(loop.armed_timers() == 1U);        // but retrying
    BOOST_TEST(iterations <= 40);
    BOOST_TEST(iterations >= 3);  // it did retry (300 ms / 20 ms, less whatever a loaded machine loses)

    exhaustion->release();
    const int to_accept = run_until(loop, [&] { return handed.sockets.size() == 1; });
    BOOST_TEST(to_accept <= 5);  // the next retry takes it
    BOOST_REQUIRE_EQUAL(handed.sockets.size(), 1U);
    BOOST_TEST(handed.peers[0].port() == client.local_endpoint().port());
    BOOST_TEST(is_nonblocking(handed.sockets[0].fd()));
    BOOST_TEST(!acceptor.paused());
    BOOST_TEST(loop.has_reader(listener.fd()));  // watching again, not polling
    BOOST_TEST(loop.armed_timers() == 0U);
    BOOST_TEST(pauses.size() == 1U);

    // Back to normal: the next connection comes through readiness.
    net::Socket second = connect_to(listener);
    run_until(loop, [&] { return handed.sockets.size() == 2; });

    // A second run of failures is reported again, once.
    net::Socket third = connect_to(listener);
    exhaustion->fill();
    run_for(loop, 60ms);
    exhaustion.reset();
    BOOST_TEST(pauses.size() == 2U);
    BOOST_TEST(handed.sockets.size() == 2U);
    run_until(loop, [&] { return handed.sockets.size() == 3; });
    BOOST_TEST(pauses.size() == 2U);

    for (const auto& ec : pauses) {
        BOOST_TEST((ec == std::errc::too_many_files_open), ec.message());
    }
}

// A queue of clients let in one freed fd at a time pauses and resumes the acceptor once per client;
// the handler hears of one shortage, until the queue is empty. (With select, a server at FD_SETSIZE
// logged a line per client let in this way.)
BOOST_AUTO_TEST_CASE(fds_freed_one_at_a_time_for_a_queue_of_clients_are_one_shortage_until_the_queue_is_empty) {
    EventLoop loop;
    net::Socket listener = listen_on_loopback();
    Handed handed;
    int pauses = 0;
    Acceptor acceptor(
        loop, listener, handed.handler(), [&](const std::error_code&) { ++pauses; },
        Acceptor::Options{.batch = 64, .retry = 5ms});
    acceptor.start();
    std::vector<net::Socket> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(connect_to(listener));
    }
    std::optional<FdExhaustion> exhaustion(std::in_place);
    run_for(loop, 20ms);
    BOOST_TEST(pauses == 1);
    for (std::size_t let_in = 1; let_in <= 3; ++let_in) {
        exhaustion->release_one();  // the accepted socket takes it: the next accept fails again
        run_until(loop, [&] { return handed.sockets.size() == let_in; });
        run_for(loop, 20ms);
        BOOST_TEST(handed.sockets.size() == let_in);
        BOOST_TEST(acceptor.paused());
    }
    BOOST_TEST(pauses == 1);

    // The queue is empty: once fds are back, accept would block, and a new shortage is a new report.
    exhaustion.reset();
    run_until(loop, [&] { return !acceptor.paused(); });
    run_for(loop, 20ms);
    clients.push_back(connect_to(listener));
    exhaustion.emplace();
    run_for(loop, 20ms);
    BOOST_TEST(pauses == 2);
    exhaustion.reset();
    run_until(loop, [&] { return handed.sockets.size() == 4; });
    BOOST_TEST(handed.sockets.size() == 4U);
}

BOOST_AUTO_TEST_CASE(stop_while_paused_cancels_the_retry) {
    EventLoop loop;
    net::Socket listener = listen_on_loopback();
    int pauses = 0;
    int handed = 0;
    Acceptor acceptor(
        loop, listener, [&](net::Socket, const net::Endpoint&) { ++handed; },
        [&](const std::error_code&) { ++pauses; }, Acceptor::Options{.batch = 64, .retry = 10ms});
    acceptor.start();
    net::Socket client = connect_to(listener);
    {
        FdExhaustion exhaustion;
        run_once(loop);
        BOOST_TEST(pauses == 1);
        BOOST_TEST(loop.armed_timers() == 1U);
        acceptor.stop();
        BOOST_TEST(!acceptor.paused());
        BOOST_TEST(loop.armed_timers() == 0U);
    }
    run_for(loop, 30ms);
    BOOST_TEST(handed == 0);
    BOOST_TEST(pauses == 1);
}

BOOST_AUTO_TEST_CASE(a_pause_handler_that_stops_the_acceptor_leaves_no_retry) {
    EventLoop loop;
    net::Socket listener = listen_on_loopback();
    int pauses = 0;
    std::optional<Acceptor> acceptor;
    acceptor.emplace(
        loop, listener, [](net::Socket, const net::Endpoint&) {},
        [&](const std::error_code&) {
            ++pauses;
            acceptor->stop();
        },
        Acceptor::Options{.batch = 64, .retry = 10ms});
    acceptor->start();
    net::Socket client = connect_to(listener);
    {
        FdExhaustion exhaustion;
        run_once(loop);
    }
    BOOST_TEST(pauses == 1);
    BOOST_TEST(!acceptor->started());
    BOOST_TEST(loop.armed_timers() == 0U);
    BOOST_TEST(!loop.has_reader(listener.fd()));
}

BOOST_AUTO_TEST_SUITE_END()
