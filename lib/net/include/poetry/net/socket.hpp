// A move-only TCP (or socketpair) socket that owns its fd, and the free functions that make one:
// connect (blocking or started non-blocking), listen, accept, socket_pair.
// Every call comes in two forms: with `std::error_code&` (never throws) and throwing std::system_error
// whose message names the operation and the peer.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <system_error>
#include <utility>

#include "poetry/detail/unique_fd.hpp"
#include "poetry/net/address.hpp"

namespace poetry::net {

class Socket {
public:
    Socket() noexcept = default;
    /// Takes ownership of an open socket fd.
    explicit Socket(detail::UniqueFd fd) noexcept : fd_(std::move(fd)) {}

    /// A new close-on-exec stream socket of `family` (AF_INET, AF_INET6).
    static Socket open(int family, std::error_code& ec);

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] bool is_open() const noexcept { return fd_.valid(); }
    explicit operator bool() const noexcept { return is_open(); }
    /// Gives up the fd without closing it.
    int release() noexcept { return fd_.release(); }
    void close() noexcept { fd_.reset(); }

    void set_nonblocking(bool on, std::error_code& ec) noexcept;
    void set_nonblocking(bool on = true);
    /// TCP_NODELAY: small chunks leave at once instead of waiting for Nagle's algorithm.
    void set_nodelay(bool on, std::error_code& ec) noexcept;
    void set_nodelay(bool on = true);
    void set_reuse_address(bool on, std::error_code& ec) noexcept;
    /// SO_RCVTIMEO: a blocking recv() that waits longer than `timeout` fails with "would block"
    /// (zero waits forever).
    void set_receive_timeout(std::chrono::microseconds timeout, std::error_code& ec) noexcept;

    /// Reads what is there, up to buffer.size() bytes. Returns 0 at end of stream (ec clear).
    /// On a non-blocking socket (or with MSG_DONTWAIT in `flags`) with nothing to read, ec is
    /// "would block" (see detail::is_would_block).
    std::size_t recv(std::span<std::byte> buffer, std::error_code& ec, int flags = 0) noexcept;
    std::size_t recv(std::span<std::byte> buffer);

    /// Sends what fits now; MSG_NOSIGNAL, so a closed peer is EPIPE, never SIGPIPE.
    std::size_t send(std::span<const std::byte> data, std::error_code& ec, int flags = 0) noexcept;
    std::size_t send(std::span<const std::byte> data);

    /// One sendfile(2) of up to `size` bytes of `file_fd` from `offset`: the kernel copies them from the
    /// page cache, never through this process. Returns the bytes sent; a full non-blocking socket gives
    /// 0 and "would block". sendfile has no MSG_NOSIGNAL: a peer that has gone raises SIGPIPE unless
    /// the process ignores it (servers should).
    std::size_t send_file(int file_fd, std::size_t offset, std::size_t size, std::error_code& ec) noexcept;

    /// Blocking: sends every byte, looping over partial writes. Returns the bytes sent before an error.
    std::size_t send_all(std::span<const std::byte> data, std::error_code& ec) noexcept;
    void send_all(std::span<const std::byte> data);

    /// shutdown(2) with SHUT_RD, SHUT_WR or SHUT_RDWR.
    void shutdown(int how, std::error_code& ec) noexcept;

    /// The socket's pending error (SO_ERROR), which also clears it: how a non-blocking connect ends.
    [[nodiscard]] std::error_code pending_error() const noexcept;

    /// How a non-blocking connect that has finished (the fd polled writable) ended: clear when the
    /// connection was made, else why not. Unlike pending_error(), it leaves an error that came after
    /// the connection for recv() to report: a server that sends and resets at once must give its
    /// bytes and then "Connection reset by peer", not a failed connect (it peeks with MSG_PEEK, and
    /// Linux reports a pending error to recv only once the data before it has been read).
    [[nodiscard]] std::error_code connect_error() const noexcept;

    [[nodiscard]] Endpoint local_endpoint(std::error_code& ec) const;
    [[nodiscard]] Endpoint local_endpoint() const;
    [[nodiscard]] Endpoint peer_endpoint(std::error_code& ec) const;
    [[nodiscard]] Endpoint peer_endpoint() const;

private:
    detail::UniqueFd fd_;
};

/// Starts a non-blocking connect. The returned socket is non-blocking. On return `ec` is:
/// clear (connected at once), std::errc::operation_in_progress (wait until the fd is writable,
/// then ask connect_error()), or the failure (and the socket is closed).
Socket start_connect(const Endpoint& endpoint, std::error_code& ec);

/// Blocking connect to one endpoint.
Socket connect(const Endpoint& endpoint, std::error_code& ec);

/// Blocking connect that gives up after `timeout` with std::errc::timed_out. The socket it returns
/// is blocking.
Socket connect(const Endpoint& endpoint, std::chrono::milliseconds timeout, std::error_code& ec);

/// One step of a connect started by start_connect, for code that polls instead of waiting: looks
/// (without waiting) whether it has finished. @returns false while the connection is still being made;
/// true once it is made (ec clear) or has failed (ec holds why, as connect_error() tells it).
bool continue_connect(const Socket& socket, std::error_code& ec) noexcept;

/// Blocking connect to `address`: resolves it (blocking: getaddrinfo) and tries each endpoint in turn,
/// the ConnectAttempts way (connect_attempts.hpp); the error is the last one.
Socket connect(const Address& address, std::error_code& ec);
/// @throws std::system_error "connect to 127.0.0.1:8000: Connection refused".
Socket connect(const Address& address);

/// A listening socket bound to `endpoint` (SO_REUSEADDR set; port 0 picks a free port).
Socket listen(const Endpoint& endpoint, int backlog, std::error_code& ec);
/// @throws std::system_error "listen on 127.0.0.1:8000: Address already in use".
Socket listen(const Endpoint& endpoint, int backlog = 128);

/// Accepts one connection (close-on-exec). On a non-blocking listener with no pending connection,
/// ec is "would block". If `peer` is given it receives the peer's address.
Socket accept(const Socket& listener, std::error_code& ec, Endpoint* peer = nullptr);
/// The same, and the new socket is non-blocking from the start (accept4's SOCK_NONBLOCK: no fcntl).
Socket accept_nonblocking(const Socket& listener, std::error_code& ec, Endpoint* peer = nullptr);

/// Socket::send_file for a socket fd this code does not own (one held by another library, e.g. asio).
std::size_t send_file(int socket_fd, int file_fd, std::size_t offset, std::size_t size,
                      std::error_code& ec) noexcept;

/// A connected pair of AF_UNIX stream sockets (close-on-exec).
std::pair<Socket, Socket> socket_pair();

/// View of text as bytes, for send().
inline std::span<const std::byte> as_bytes(std::string_view text) noexcept {
    return std::as_bytes(std::span(text.data(), text.size()));
}

}  // namespace poetry::net
