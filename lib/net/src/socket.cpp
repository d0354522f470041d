#include "poetry/net/socket.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "poetry/detail/syscall.hpp"
#include "poetry/net/connect_attempts.hpp"
#include "poetry/net/errors.hpp"

namespace poetry::net {
namespace {

void set_flag_option(int fd, int level, int option, bool on, std::error_code& ec) noexcept {
    const int value = on ? 1 : 0;
    detail::retry_on_eintr(ec, [&] { return ::setsockopt(fd, level, option, &value, sizeof(value)); });
}

Endpoint endpoint_of(int fd, std::error_code& ec, int (*query)(int, sockaddr*, socklen_t*)) {
    sockaddr_storage storage{};
    socklen_t size = sizeof(storage);
    if (query(fd, reinterpret_cast<sockaddr*>(&storage), &size) != 0) {
        ec = detail::last_error();
        return {};
    }
    ec.clear();
    return Endpoint(reinterpret_cast<const sockaddr*>(&storage), size);
}

}  // namespace

Socket Socket::open(int family, std::error_code& ec) {
    const int fd =
        detail::retry_on_eintr(ec, [&] { return ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0); });
    return fd < 0 ? Socket() : Socket(detail::UniqueFd(fd));
}

void Socket::set_nonblocking(bool on, std::error_code& ec) noexcept {
    detail::set_nonblocking(fd(), on, ec);
}

void Socket::set_nonblocking(bool on) {
    std::error_code ec;
    set_nonblocking(on, ec);
    throw_if_error(ec, "set O_NONBLOCK");
}

void Socket::set_nodelay(bool on, std::error_code& ec) noexcept {
    set_flag_option(fd(), IPPROTO_TCP, TCP_NODELAY, on, ec);
}

void Socket::set_nodelay(bool on) {
    std::error_code ec;
    set_nodelay(on, ec);
    throw_if_error(ec, "set TCP_NODELAY");
}

void Socket::set_reuse_address(bool on, std::error_code& ec) noexcept {
    set_flag_option(fd(), SOL_SOCKET, SO_REUSEADDR, on, ec);
}

void Socket::set_receive_timeout(std::chrono::microseconds timeout, std::error_code& ec) noexcept {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
    const timeval value{static_cast<time_t>(seconds.count()),
                        static_cast<suseconds_t>((timeout - seconds).count())};
    detail::retry_on_eintr(
        ec, [&] { return ::setsockopt(fd(), SOL_SOCKET, SO_RCVTIMEO, &value, sizeof(value)); });
}

std::size_t Socket::recv(std::span<std::byte> buffer, std::error_code& ec, int flags) noexcept {
    const auto n =
        detail::retry_on_eintr(ec, [&] { return ::recv(fd(), buffer.data(), buffer.size(), flags); });
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::size_t Socket::recv(std::span<std::byte> buffer) {
    std::error_code ec;
    const auto n = recv(buffer, ec);
    throw_if_error(ec, "recv");
    return n;
}

std::size_t Socket::send(std::span<const std::byte> data, std::error_code& ec, int flags) noexcept {
    const auto n = detail::retry_on_eintr(
        ec, [&] { return ::send(fd(), data.data(), data.size(), flags | MSG_NOSIGNAL); });
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::size_t Socket::send_file(int file_fd, std::size_t offset, std::size_t size, std::error_code& ec) noexcept {
    return net::send_file(fd(), file_fd, offset, size, ec);
}

std::size_t send_file(int socket_fd, int file_fd, std::size_t offset, std::size_t size,
                      std::error_code& ec) noexcept {
    auto position = static_cast<off_t>(offset);
    const auto n = detail::retry_on_eintr(ec, [&] { return ::sendfile(socket_fd, file_fd, &position, size); });
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::size_t Socket::send(std::span<const std::byte> data) {
    std::error_code ec;
    const auto n = send(data, ec);
    throw_if_error(ec, "send");
    return n;
}

std::size_t Socket::send_all(std::span<const std::byte> data, std::error_code& ec) noexcept {
    std::size_t sent = 0;
    ec.clear();
    while (sent < data.size() && !ec) {
        sent += send(data.subspan(sent), ec);
    }
    return sent;
}

void Socket::send_all(std::span<const std::byte> data) {
    std::error_code ec;
    send_all(data, ec);
    throw_if_error(ec, "send");
}

void Socket::shutdown(int how, std::error_code& ec) noexcept {
    detail::retry_on_eintr(ec, [&] { return ::shutdown(fd(), how); });
}

std::error_code Socket::pending_error() const noexcept {
    int error = 0;
    socklen_t size = sizeof(error);
    if (::getsockopt(fd(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) {
        return detail::last_error();
    }
    return {error, std::generic_category()};
}

std::error_code Socket::connect_error() const noexcept {
    std::byte byte{};
    std::error_code ec;
    detail::retry_on_eintr(ec, [&] { return ::recv(fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT); });
    // Data, end of stream or nothing yet: connected. Otherwise the error is the connect's outcome
    // (with nothing received before it, a reset right after the handshake fails like a refusal).
    return detail::is_would_block(ec) ? std::error_code() : ec;
}

Endpoint Socket::local_endpoint(std::error_code& ec) const {
    return endpoint_of(fd(), ec, ::getsockname);
}

Endpoint Socket::local_endpoint() const {
    std::error_code ec;
    auto endpoint = local_endpoint(ec);
    throw_if_error(ec, "getsockname");
    return endpoint;
}

Endpoint Socket::peer_endpoint(std::error_code& ec) const {
    return endpoint_of(fd(), ec, ::getpeername);
}

Endpoint Socket::peer_endpoint() const {
    std::error_code ec;
    auto endpoint = peer_endpoint(ec);
    throw_if_error(ec, "getpeername");
    return endpoint;
}

Socket start_connect(const Endpoint& endpoint, std::error_code& ec) {
    Socket socket = Socket::open(endpoint.family(), ec);
    if (!ec) {
        socket.set_nonblocking(true, ec);
    }
    if (ec) {
        return {};
    }
    // A non-blocking connect interrupted by a signal goes on in the background (connect(2), EINTR),
    // so EINTR is "in progress" here, not a reason to call connect again.
    if (::connect(socket.fd(), endpoint.data(), endpoint.size()) == 0) {
        ec.clear();
    } else if (errno == EINPROGRESS || errno == EINTR) {
        ec = std::make_error_code(std::errc::operation_in_progress);
    } else {
        ec = detail::last_error();
        socket.close();
    }
    return socket;
}

Socket connect(const Endpoint& endpoint, std::error_code& ec) {
    Socket socket = Socket::open(endpoint.family(), ec);
    if (ec) {
        return {};
    }
    if (::connect(socket.fd(), endpoint.data(), endpoint.size()) != 0) {
        if (errno != EINTR) {
            ec = detail::last_error();
            return {};
        }
        // Interrupted: the connection is still being made; wait for its outcome in blocking mode.
        pollfd watch{socket.fd(), POLLOUT, 0};
        detail::retry_on_eintr(ec, [&] { return ::poll(&watch, 1, -1); });
        ec = ec ? ec : socket.connect_error();
        if (ec) {
            return {};
        }
    }
    ec.clear();
    return socket;
}

Socket connect(const Endpoint& endpoint, std::chrono::milliseconds timeout, std::error_code& ec) {
    Socket socket = start_connect(endpoint, ec);
    if (ec == std::errc::operation_in_progress) {
        // poll(2) takes whole milliseconds; EINTR restarts the full wait, which only lengthens it.
        pollfd watch{socket.fd(), POLLOUT, 0};
        const int ready = detail::retry_on_eintr(ec, [&] {
            return ::poll(&watch, 1, static_cast<int>(std::min<std::int64_t>(timeout.count(), INT32_MAX)));
        });
        if (ready == 0) {
            ec = std::make_error_code(std::errc::timed_out);
        } else if (!ec) {
            ec = socket.connect_error();
        }
    }
    if (!ec) {
        socket.set_nonblocking(false, ec);
    }
    if (ec) {
        return {};
    }
    return socket;
}

bool continue_connect(const Socket& socket, std::error_code& ec) noexcept {
    pollfd watch{socket.fd(), POLLOUT, 0};
    const int ready = detail::retry_on_eintr(ec, [&] { return ::poll(&watch, 1, 0); });
    if (ec) {
        return true;
    }
    if (ready == 0) {
        return false;
    }
    ec = socket.connect_error();
    return true;
}

Socket connect(const Address& address, std::error_code& ec) {
    ConnectAttempts attempts(address, resolve(address, ec));
    if (ec) {
        return {};
    }
    while (const Endpoint* endpoint = attempts.next()) {
        Socket socket = connect(*endpoint, ec);
        if (!ec) {
            return socket;
        }
        attempts.failed(ec);
    }
    ec = attempts.error();
    return {};
}

Socket connect(const Address& address) {
    std::error_code ec;
    Socket socket = connect(address, ec);
    if (ec) {
        throw connect_error(address, ec);  // a failed resolve too: the peer is what the caller asked for
    }
    return socket;
}

Socket listen(const Endpoint& endpoint, int backlog, std::error_code& ec) {
    Socket socket = Socket::open(endpoint.family(), ec);
    if (!ec) {
        socket.set_reuse_address(true, ec);
    }
    if (!ec) {
        detail::retry_on_eintr(ec, [&] { return ::bind(socket.fd(), endpoint.data(), endpoint.size()); });
    }
    if (!ec) {
        detail::retry_on_eintr(ec, [&] { return ::listen(socket.fd(), backlog); });
    }
    return ec ? Socket() : std::move(socket);
}

Socket listen(const Endpoint& endpoint, int backlog) {
    std::error_code ec;
    Socket socket = listen(endpoint, backlog, ec);
    throw_if_error(ec, "listen on " + endpoint.to_string());
    return socket;
}

namespace {

Socket accept_with(const Socket& listener, std::error_code& ec, Endpoint* peer, int flags) {
    sockaddr_storage storage{};
    socklen_t size = sizeof(storage);
    const int fd = detail::retry_on_eintr(ec, [&] {
        return ::accept4(listener.fd(), reinterpret_cast<sockaddr*>(&storage), &size, flags | SOCK_CLOEXEC);
    });
    if (fd < 0) {
        return {};
    }
    Socket socket{detail::UniqueFd(fd)};
    if (peer != nullptr && (storage.ss_family == AF_INET || storage.ss_family == AF_INET6)) {
        *peer = Endpoint(reinterpret_cast<const sockaddr*>(&storage), size);
    }
    return socket;
}

}  // namespace

Socket accept(const Socket& listener, std::error_code& ec, Endpoint* peer) {
    return accept_with(listener, ec, peer, 0);
}

Socket accept_nonblocking(const Socket& listener, std::error_code& ec, Endpoint* peer) {
    return accept_with(listener, ec, peer, SOCK_NONBLOCK);
}

std::pair<Socket, Socket> socket_pair() {
    int fds[2];
    std::error_code ec;
    detail::retry_on_eintr(ec, [&] { return ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds); });
    throw_if_error(ec, "socketpair");
    return {Socket(detail::UniqueFd(fds[0])), Socket(detail::UniqueFd(fds[1]))};
}

}  // namespace poetry::net
