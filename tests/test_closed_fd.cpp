// An fd closed while the loop still watches it, on every selector: the same outcome on select, poll
// and epoll (its callbacks never run again, the loop neither spins nor throws), and a new fd that gets
// the same number can be watched again.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>

#include "poetry/loop/event_loop.hpp"
#include "poetry/net/socket.hpp"
#include "support/reported_exceptions.hpp"

namespace data = boost::unit_test::data;
using namespace std::chrono_literals;
using poetry::EventLoop;

namespace {

// Runs `loop` for `span` of its own time and counts its iterations: a loop that spins on a closed fd
// makes thousands, a loop that waits makes one per timer.
int iterations_during(EventLoop& loop, std::chrono::milliseconds span) {
    bool over = false;
    auto timer = loop.call_later(span, [&] { over = true; });
    int iterations = 0;
    while (!over && iterations < 100'000) {
        loop.run_once();
        ++iterations;
    }
    return iterations;
}

void make_readable(poetry::net::Socket& peer) {
    BOOST_REQUIRE_EQUAL(::write(peer.fd(), "x", 1), 1);
}

// Adds a reader for `fd` (which may replace one left behind), makes it readable through `peer`, and
// runs the loop until the reader has run or 2 s have passed. @returns how often it ran.
int runs_of_a_new_reader(EventLoop& loop, int fd, poetry::net::Socket& peer) {
    int runs = 0;
    loop.add_reader(fd, [&] {
        ++runs;
        loop.stop();
    });
    make_readable(peer);
    auto give_up = loop.call_later(2s, [&] { loop.stop(); });
    loop.run_forever();
    loop.remove_reader(fd);
    return runs;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(closed_while_registered)

BOOST_DATA_TEST_CASE(a_closed_fd_is_never_reported_and_the_loop_waits,
                     data::make({"select", "poll", "epoll"}), backend) {
    EventLoop loop(poetry::make_selector(backend));
    poetry::test::ReportedExceptions reported(loop);
    auto [socket, peer] = poetry::net::socket_pair();
    make_readable(peer);  // readable before it closes: a stale report would run the callback
    const int fd = socket.fd();
    int calls = 0;
    loop.add_reader(fd, [&] { ++calls; });
    loop.add_writer(fd, [&] { ++calls; });
    socket.close();

    // select fails with EBADF and poll reports POLLNVAL at once for a closed fd; neither may turn
    // into a callback, an exception or a busy loop.
    const int iterations = iterations_during(loop, 60ms);
    BOOST_TEST(calls == 0);
    BOOST_TEST(iterations <= 5);
    BOOST_TEST(reported.lines().empty());
    // Its registration is still the caller's to remove, and removing it is quiet.
    BOOST_TEST(loop.has_reader(fd));
    BOOST_TEST(loop.remove_reader(fd));
    BOOST_TEST(loop.remove_writer(fd));
    BOOST_TEST(loop.selector().size() == 0U);
}

BOOST_DATA_TEST_CASE(a_reused_fd_number_is_watched_again_after_a_wait,
                     data::make({"select", "poll", "epoll"}), backend) {
    EventLoop loop(poetry::make_selector(backend));
    poetry::test::ReportedExceptions reported(loop);
    auto [old_socket, old_peer] = poetry::net::socket_pair();
    const int fd = old_socket.fd();
    int old_calls = 0;
    loop.add_reader(fd, [&] { ++old_calls; });
    old_socket.close();
    iterations_during(loop, 20ms);  // the backend meets the closed fd (EBADF, POLLNVAL, nothing)

    // The lowest free number is the one just closed: the new socket gets it.
    auto [socket, peer] = poetry::net::socket_pair();
    BOOST_REQUIRE_EQUAL(socket.fd(), fd);
    BOOST_TEST(runs_of_a_new_reader(loop, fd, peer) == 1);
    BOOST_TEST(old_calls == 0);
    BOOST_TEST(reported.lines().empty());
}

BOOST_DATA_TEST_CASE(a_reused_fd_number_is_watched_again_before_any_wait,
                     data::make({"select", "poll", "epoll"}), backend) {
    EventLoop loop(poetry::make_selector(backend));
    auto [old_socket, old_peer] = poetry::net::socket_pair();
    const int fd = old_socket.fd();
    loop.add_reader(fd, [] {});
    old_socket.close();
    auto [socket, peer] = poetry::net::socket_pair();
    BOOST_REQUIRE_EQUAL(socket.fd(), fd);
    // Replacing the reader reaches the selector, so epoll (which dropped the closed fd from its
    // set when it closed) watches the new one.
    BOOST_TEST(runs_of_a_new_reader(loop, fd, peer) == 1);
}

BOOST_DATA_TEST_CASE(adding_the_other_direction_to_a_reused_number_reaches_the_selector,
                     data::make({"select", "poll", "epoll"}), backend) {
    EventLoop loop(poetry::make_selector(backend));
    auto [old_socket, old_peer] = poetry::net::socket_pair();
    const int fd = old_socket.fd();
    loop.add_writer(fd, [] {});
    old_socket.close();
    iterations_during(loop, 20ms);
    auto [socket, peer] = poetry::net::socket_pair();
    BOOST_REQUIRE_EQUAL(socket.fd(), fd);
    loop.remove_writer(fd);  // the caller's clean-up, late
    BOOST_TEST(runs_of_a_new_reader(loop, fd, peer) == 1);
}

BOOST_AUTO_TEST_SUITE_END()
