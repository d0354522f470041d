// net::Socket over loopback TCP and socketpairs: fd ownership, connect/listen/accept, the error forms
// (messages, would-block, EPIPE without SIGPIPE), send_all, socket options. Every case checks fd leaks.
#include "poetry/net/socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "poetry/detail/syscall.hpp"
#include "support/clock.hpp"
#include "support/fd_count.hpp"

using namespace std::chrono_literals;

// The suite's namespace is not global, where `namespace socket` would clash with ::socket().
namespace poetry::test {
namespace {

std::string to_string(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

/// Blocks until `size` bytes have arrived (or end of stream / an error, which fails the test).
std::string recv_exactly(net::Socket& socket, std::size_t size) {
    std::vector<std::byte> buffer(size);
    std::size_t received = 0;
    while (received < size) {
        const auto n = socket.recv(std::span(buffer).subspan(received));
        BOOST_TEST_REQUIRE(n > 0U, "end of stream after " << received << " of " << size << " bytes");
        received += n;
    }
    return to_string(buffer);
}

/// A port on 127.0.0.1 where nothing listens: bound by a listener that is then closed.
std::uint16_t closed_port() {
    auto listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    return listener.local_endpoint().port();
}

/// errno of fcntl(fd, F_GETFD): 0 if `fd` is open, EBADF if it is not.
int fd_state(int fd) {
    return ::fcntl(fd, F_GETFD) == -1 ? errno : 0;
}

bool is_close_on_exec(int fd) {
    const int flags = ::fcntl(fd, F_GETFD);
    return flags != -1 && (flags & FD_CLOEXEC) != 0;
}

/// poll(2) for `events`, up to 10 s (a loaded machine may be slow, but never this slow).
short wait_for(int fd, short events) {
    pollfd watch{fd, events, 0};
    std::error_code ec;
    const int count = detail::retry_on_eintr(ec, [&] { return ::poll(&watch, 1, 10'000); });
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST_REQUIRE(count == 1, "poll timed out");
    return watch.revents;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(socket, FdLeakCheck)

BOOST_AUTO_TEST_CASE(socket_pair_round_trips_bytes) {
    auto [a, b] = net::socket_pair();
    BOOST_TEST_REQUIRE(a.is_open());
    BOOST_TEST_REQUIRE(b.is_open());
    BOOST_TEST(a.fd() != b.fd());
    BOOST_TEST(is_close_on_exec(a.fd()));
    BOOST_TEST(is_close_on_exec(b.fd()));

    const std::string poem = "Quando ti guardo\nfra tante stelle";
    BOOST_TEST(a.send(net::as_bytes(poem)) == poem.size());
    BOOST_TEST(recv_exactly(b, poem.size()) == poem);

    BOOST_TEST(b.send(net::as_bytes("and back")) == 8U);
    BOOST_TEST(recv_exactly(a, 8) == "and back");
}

BOOST_AUTO_TEST_CASE(moved_from_socket_no_longer_owns_the_fd) {
    auto [a, b] = net::socket_pair();
    const int fd = a.fd();
    {
        net::Socket moved = std::move(a);
        BOOST_TEST(moved.fd() == fd);
        BOOST_TEST(moved.is_open());
        BOOST_TEST(!a.is_open());
        BOOST_TEST(a.fd() == -1);
        a.close();  // closing the moved-from socket must not touch the fd
        BOOST_TEST(fd_state(fd) == 0);
    }
    BOOST_TEST(fd_state(fd) == EBADF);

    // Put another open file at the same number: the moved-from socket must not close it either.
    const int again = ::fcntl(b.fd(), F_DUPFD_CLOEXEC, fd);
    BOOST_TEST_REQUIRE(again == fd);
    net::Socket taker = std::move(a);  // takes -1 from `a`: closing it closes nothing
    taker.close();
    BOOST_TEST(fd_state(fd) == 0);
    ::close(again);
}

BOOST_AUTO_TEST_CASE(move_assignment_closes_the_destinations_old_fd) {
    auto [a, b] = net::socket_pair();
    auto [c, d] = net::socket_pair();
    const int kept = a.fd();
    const int replaced = c.fd();
    c = std::move(a);
    BOOST_TEST(c.fd() == kept);
    BOOST_TEST(!a.is_open());
    BOOST_TEST(fd_state(replaced) == EBADF);
    BOOST_TEST(fd_state(kept) == 0);

    // The moved socket still carries data over the old pair.
    c.send(net::as_bytes("x"));
    BOOST_TEST(recv_exactly(b, 1) == "x");
}

BOOST_AUTO_TEST_CASE(release_gives_up_the_fd_without_closing_it) {
    int fd = -1;
    {
        auto [a, b] = net::socket_pair();
        const int owned = a.fd();
        fd = a.release();
        BOOST_TEST(fd == owned);
        BOOST_TEST(!a.is_open());
        BOOST_TEST(!a);
    }
    BOOST_TEST(fd_state(fd) == 0);
    BOOST_TEST(::close(fd) == 0);
}

BOOST_AUTO_TEST_CASE(listen_connect_accept_and_data_both_ways) {
    auto listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    const auto local = listener.local_endpoint();
    BOOST_TEST(local.port() != 0);
    BOOST_TEST(local.host() == "127.0.0.1");

    auto client = net::connect(net::Address("127.0.0.1", local.port()));
    BOOST_TEST_REQUIRE(client.is_open());
    std::error_code ec = std::make_error_code(std::errc::io_error);
    net::Endpoint peer;
    auto server = net::accept(listener, ec, &peer);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST_REQUIRE(server.is_open());
    BOOST_TEST(is_close_on_exec(listener.fd()));
    BOOST_TEST(is_close_on_exec(client.fd()));
    BOOST_TEST(is_close_on_exec(server.fd()));
    BOOST_TEST(peer.to_string() == client.local_endpoint().to_string());
    BOOST_TEST(server.peer_endpoint().to_string() == client.local_endpoint().to_string());
    BOOST_TEST(client.peer_endpoint().to_string() == local.to_string());

    const std::string request = "a poem, please";
    client.send_all(net::as_bytes(request));
    BOOST_TEST(recv_exactly(server, request.size()) == request);
    const std::string poem = "Forse perche della fatal quiete";
    server.send_all(net::as_bytes(poem));
    BOOST_TEST(recv_exactly(client, poem.size()) == poem);

    client.close();
    std::byte buffer[16];
    ec = std::make_error_code(std::errc::io_error);
    BOOST_TEST(server.recv(buffer, ec) == 0U);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(server.recv(buffer) == 0U);
}

BOOST_AUTO_TEST_CASE(connect_to_a_closed_port_throws_naming_the_peer) {
    const auto port = closed_port();
    const net::Address address("127.0.0.1", port);
    try {
        auto socket = net::connect(address);
        BOOST_ERROR("connect to a closed port succeeded");
    } catch (const std::system_error& error) {
        BOOST_TEST(std::string(error.what()) ==
                   "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
        BOOST_TEST((error.code() == std::errc::connection_refused), error.code().message());
    }

    std::error_code ec;
    auto socket = net::connect(address, ec);
    BOOST_TEST((ec == std::errc::connection_refused), ec.message());
    BOOST_TEST(!socket.is_open());

    ec.clear();
    auto direct = net::connect(net::Endpoint::numeric("127.0.0.1", port), ec);
    BOOST_TEST((ec == std::errc::connection_refused), ec.message());
    BOOST_TEST(!direct.is_open());
}

BOOST_AUTO_TEST_CASE(listen_on_a_busy_port_throws_naming_the_endpoint) {
    auto listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    const auto port = listener.local_endpoint().port();
    try {
        auto second = net::listen(net::Endpoint::numeric("127.0.0.1", port));
        BOOST_ERROR("a second listener bound port " << port);
    } catch (const std::system_error& error) {
        BOOST_TEST(std::string(error.what()) ==
                   "listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use");
        BOOST_TEST((error.code() == std::errc::address_in_use), error.code().message());
    }
    std::error_code ec;
    auto second = net::listen(net::Endpoint::numeric("127.0.0.1", port), 1, ec);
    BOOST_TEST((ec == std::errc::address_in_use), ec.message());
    BOOST_TEST(!second.is_open());
}

BOOST_AUTO_TEST_CASE(start_connect_is_non_blocking_and_completes_through_pending_error) {
    auto listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    std::error_code ec;
    auto socket = net::start_connect(listener.local_endpoint(), ec);
    BOOST_TEST((!ec || ec == std::errc::operation_in_progress), ec.message());
    BOOST_TEST_REQUIRE(socket.is_open());
    const int flags = ::fcntl(socket.fd(), F_GETFL);
    BOOST_TEST_REQUIRE(flags != -1);
    BOOST_TEST((flags & O_NONBLOCK) != 0);

    BOOST_TEST((wait_for(socket.fd(), POLLOUT) & POLLOUT) != 0);
    const auto pending = socket.pending_error();
    BOOST_TEST(!pending, pending.message());
    BOOST_TEST(socket.peer_endpoint().to_string() == listener.local_endpoint().to_string());
}

BOOST_AUTO_TEST_CASE(start_connect_to_a_closed_port_ends_refused) {
    const auto port = closed_port();
    std::error_code ec;
    auto socket = net::start_connect(net::Endpoint::numeric("127.0.0.1", port), ec);
    if (ec == std::errc::connection_refused) {
        BOOST_TEST(!socket.is_open());
        return;
    }
    BOOST_TEST_REQUIRE((ec == std::errc::operation_in_progress), ec.message());
    BOOST_TEST_REQUIRE(socket.is_open());
    wait_for(socket.fd(), POLLOUT);
    const auto pending = socket.pending_error();
    BOOST_TEST((pending == std::errc::connection_refused), pending.message());
    // Reading SO_ERROR cleared it.
    BOOST_TEST(!socket.pending_error());
}

BOOST_AUTO_TEST_CASE(recv_with_nothing_to_read_would_block_when_non_blocking) {
    auto [a, b] = net::socket_pair();
    std::byte buffer[8];

    std::error_code ec;
    BOOST_TEST(a.recv(buffer, ec, MSG_DONTWAIT) == 0U);
    BOOST_TEST(detail::is_would_block(ec), ec.message());

    a.set_nonblocking();
    ec.clear();
    BOOST_TEST(a.recv(buffer, ec) == 0U);
    BOOST_TEST(detail::is_would_block(ec), ec.message());
    BOOST_CHECK_THROW(a.recv(buffer), std::system_error);

    // Once data is there, the same calls read it.
    b.send(net::as_bytes("ok"));
    BOOST_TEST(a.recv(buffer, ec) == 2U);
    BOOST_TEST(!ec, ec.message());
}

BOOST_AUTO_TEST_CASE(send_to_a_closed_socket_pair_peer_is_epipe_not_sigpipe) {
    auto [a, b] = net::socket_pair();
    b.close();
    std::error_code ec;
    BOOST_TEST(a.send(net::as_bytes("anyone there?"), ec) == 0U);
    BOOST_TEST((ec == std::errc::broken_pipe), ec.message());
    BOOST_CHECK_THROW(a.send(net::as_bytes("still?")), std::system_error);
}

BOOST_AUTO_TEST_CASE(send_to_a_closed_tcp_peer_fails_without_sigpipe) {
    auto listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    auto client = net::connect(net::Address("127.0.0.1", listener.local_endpoint().port()));
    std::error_code ec;
    auto server = net::accept(listener, ec);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    server.close();

    // The first send may succeed (the peer answers it with RST); later ones fail. A missing MSG_NOSIGNAL
    // would kill the process here with SIGPIPE.
    const std::string chunk(512, 'p');
    for (int i = 0; i < 1000 && !ec; ++i) {
        client.send(net::as_bytes(chunk), ec);
        if (!ec) {
            std::this_thread::sleep_for(1ms);
        }
    }
    BOOST_TEST((ec == std::errc::broken_pipe || ec == std::errc::connection_reset), ec.message());
}

BOOST_AUTO_TEST_CASE(send_all_delivers_4_mib_in_order) {
    constexpr std::size_t size = 4 * 1024 * 1024;
    std::vector<std::byte> data(size);
    for (std::size_t i = 0; i < size; ++i) {
        data[i] = static_cast<std::byte>((i * 7 + i / 251) % 256);
    }
    auto [writer, reader] = net::socket_pair();

    std::vector<std::byte> received;
    std::error_code read_error;
    std::thread reading([&reader = reader, &received, &read_error] {
        std::vector<std::byte> buffer(64 * 1024);
        for (;;) {
            const auto n = reader.recv(buffer, read_error);
            if (read_error || n == 0) {
                return;
            }
            received.insert(received.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
        }
    });
    std::error_code ec;
    const auto sent = writer.send_all(data, ec);
    std::error_code shutdown_error;
    writer.shutdown(SHUT_WR, shutdown_error);
    reading.join();

    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(sent == size);
    BOOST_TEST(!shutdown_error, shutdown_error.message());
    BOOST_TEST(!read_error, read_error.message());
    BOOST_TEST_REQUIRE(received.size() == size);
    BOOST_TEST((received == data));
}

BOOST_AUTO_TEST_CASE(nodelay_and_nonblocking_options_are_set_and_cleared) {
    std::error_code ec;
    auto socket = net::Socket::open(AF_INET, ec);
    BOOST_TEST_REQUIRE(!ec, ec.message());

    const auto nodelay = [&] {
        int value = -1;
        socklen_t size = sizeof(value);
        BOOST_TEST_REQUIRE(::getsockopt(socket.fd(), IPPROTO_TCP, TCP_NODELAY, &value, &size) == 0);
        return value != 0;
    };
    const auto nonblocking = [&] {
        const int flags = ::fcntl(socket.fd(), F_GETFL);
        BOOST_TEST_REQUIRE(flags != -1);
        return (flags & O_NONBLOCK) != 0;
    };
    BOOST_TEST(!nodelay());
    BOOST_TEST(!nonblocking());

    socket.set_nodelay();
    BOOST_TEST(nodelay());
    socket.set_nodelay(false);
    BOOST_TEST(!nodelay());
    socket.set_nodelay(true, ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(nodelay());

    socket.set_nonblocking();
    BOOST_TEST(nonblocking());
    socket.set_nonblocking(true);  // already set: stays set
    BOOST_TEST(nonblocking());
    socket.set_nonblocking(false);
    BOOST_TEST(!nonblocking());
    socket.set_nonblocking(true, ec);
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(nonblocking());
}

BOOST_AUTO_TEST_CASE(options_on_a_closed_socket_throw_system_error) {
    net::Socket closed;
    BOOST_TEST(!closed.is_open());
    BOOST_CHECK_THROW(closed.set_nodelay(), std::system_error);
    BOOST_CHECK_THROW(closed.set_nonblocking(), std::system_error);
    BOOST_CHECK_THROW(closed.set_nonblocking(false), std::system_error);

    std::error_code ec;
    closed.set_nodelay(true, ec);
    BOOST_TEST((ec == std::errc::bad_file_descriptor), ec.message());
    ec.clear();
    closed.set_nonblocking(true, ec);
    BOOST_TEST((ec == std::errc::bad_file_descriptor), ec.message());
}

BOOST_AUTO_TEST_CASE(ipv6_loopback_listen_and_connect) {
    std::error_code ec;
    auto listener = net::listen(net::Endpoint::numeric("::1", 0), 16, ec);
    if (ec == std::errc::address_not_available || ec == std::errc::address_family_not_supported) {
        BOOST_TEST_MESSAGE("no IPv6 loopback on this machine (" << ec.message() << "): skipped");
        return;
    }
    BOOST_TEST_REQUIRE(!ec, ec.message());
    const auto local = listener.local_endpoint();
    BOOST_TEST(local.family() == AF_INET6);
    BOOST_TEST(local.port() != 0);

    auto client = net::connect(net::Address("::1", local.port()));
    auto server = net::accept(listener, ec);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST(client.peer_endpoint().to_string() == "[::1]:" + std::to_string(local.port()));

    client.send_all(net::as_bytes("six"));
    BOOST_TEST(recv_exactly(server, 3) == "six");
}

BOOST_AUTO_TEST_CASE(connect_with_a_timeout_returns_a_blocking_connected_socket) {
    auto listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    std::error_code ec;
    auto socket = net::connect(listener.local_endpoint(), 2s, ec);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    BOOST_TEST((::fcntl(socket.fd(), F_GETFL) & O_NONBLOCK) == 0);
    BOOST_TEST(socket.peer_endpoint().to_string() == listener.local_endpoint().to_string());
}

BOOST_AUTO_TEST_CASE(connect_with_a_timeout_gives_up_on_a_listener_that_never_answers) {
    // Backlog 0 holds one unaccepted connection; Linux drops the SYNs of the next ones, so their
    // connect waits for a SYN-ACK that does not come until the queue drains.
    auto listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0), 0);
    std::vector<net::Socket> queued;
    std::error_code ec;
    for (int attempt = 0; attempt < 8 && ec != std::errc::timed_out; ++attempt) {
        const auto started = Clock::now();
        auto socket = net::connect(listener.local_endpoint(), 100ms, ec);
        if (ec == std::errc::timed_out) {
            BOOST_TEST(!socket.is_open());
            BOOST_TEST((Clock::now() - started >= 90ms));
        } else {
            BOOST_TEST_REQUIRE(!ec, ec.message());
            queued.push_back(std::move(socket));
        }
    }
    BOOST_TEST((ec == std::errc::timed_out), ec.message());
}

BOOST_AUTO_TEST_CASE(continue_connect_polls_a_connect_to_its_end) {
    auto listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    std::error_code ec;
    auto socket = net::start_connect(listener.local_endpoint(), ec);
    BOOST_TEST_REQUIRE((!ec || ec == std::errc::operation_in_progress), ec.message());
    int polls = 0;
    while (!net::continue_connect(socket, ec)) {
        BOOST_TEST_REQUIRE(++polls < 10'000'000);
    }
    BOOST_TEST(!ec, ec.message());
    BOOST_TEST(socket.peer_endpoint().to_string() == listener.local_endpoint().to_string());
}

BOOST_AUTO_TEST_CASE(continue_connect_to_a_closed_port_ends_refused) {
    const auto endpoint = net::Endpoint::numeric("127.0.0.1", closed_port());
    std::error_code ec;
    auto socket = net::start_connect(endpoint, ec);
    if (ec == std::errc::connection_refused) {
        return;  // refused at once: nothing to poll
    }
    BOOST_TEST_REQUIRE((ec == std::errc::operation_in_progress), ec.message());
    int polls = 0;
    while (!net::continue_connect(socket, ec)) {
        BOOST_TEST_REQUIRE(++polls < 10'000'000);
    }
    BOOST_TEST((ec == std::errc::connection_refused), ec.message());
}

BOOST_AUTO_TEST_CASE(receive_timeout_ends_a_blocking_recv_with_would_block) {
    auto [a, b] = net::socket_pair();
    std::error_code ec;
    a.set_receive_timeout(50ms, ec);
    BOOST_TEST_REQUIRE(!ec, ec.message());
    std::byte buffer[8];
    const auto started = Clock::now();
    BOOST_TEST(a.recv(buffer, ec) == 0u);
    BOOST_TEST(detail::is_would_block(ec), ec.message());
    BOOST_TEST((Clock::now() - started >= 40ms));
}

BOOST_AUTO_TEST_CASE(connect_error_leaves_a_reset_behind_received_data_for_recv) {
    // The server accepts, sends and resets before the client looks: the connection was made, so the
    // client must get the bytes and then the reset, not a failed connect.
    auto listener = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    std::error_code ec;
    auto client = net::start_connect(listener.local_endpoint(), ec);
    BOOST_TEST_REQUIRE((!ec || ec == std::errc::operation_in_progress), ec.message());
    {
        auto served = net::accept(listener, ec);
        BOOST_TEST_REQUIRE(!ec, ec.message());
        served.send_all(net::as_bytes("hello"));
        const linger reset{1, 0};
        BOOST_TEST_REQUIRE(::setsockopt(served.fd(), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)) == 0);
    }  // closing with linger 0 sends RST
    wait_for(client.fd(), POLLOUT);
    BOOST_TEST(!client.connect_error(), client.connect_error().message());
    BOOST_TEST(recv_exactly(client, 5) == "hello");
    std::byte buffer[8];
    client.set_nonblocking(false);
    client.recv(buffer, ec);
    BOOST_TEST((ec == std::errc::connection_reset), ec.message());
}

BOOST_AUTO_TEST_CASE(connect_error_reports_a_refused_connect) {
    const auto endpoint = net::Endpoint::numeric("127.0.0.1", closed_port());
    std::error_code ec;
    auto socket = net::start_connect(endpoint, ec);
    if (ec == std::errc::connection_refused) {
        return;  // refused at once
    }
    BOOST_TEST_REQUIRE((ec == std::errc::operation_in_progress), ec.message());
    wait_for(socket.fd(), POLLOUT);
    const auto error = socket.connect_error();
    BOOST_TEST((error == std::errc::connection_refused), error.message());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace poetry::test
