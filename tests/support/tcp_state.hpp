// What the kernel knows about a TCP connection on this machine, whichever process owns its end (the
// server under test): its send buffer and whether a process still holds it, from NETLINK_SOCK_DIAG,
// as `ss -tme` reads them. A test waits for that state ("the server's send buffer is full", "the server has
// closed its end") instead of sleeping and hoping the server has got there by then.
#pragma once

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <system_error>
#include <thread>

#include "poetry/detail/unique_fd.hpp"
#include "poetry/net/socket.hpp"
#include "support/clock.hpp"

namespace poetry::test {

/// One end of a TCP connection, as the kernel sees it.
struct TcpEnd {
    std::uint32_t send_queued = 0;  // memory the send queue holds (SK_MEMINFO_WMEM_QUEUED)
    std::uint32_t send_buffer = 0;  // its limit (SK_MEMINFO_SNDBUF)
    std::uint64_t inode = 0;        // the socket's inode while a process holds an fd to it, else 0

    /// A send on this end would block now, or return EAGAIN: the kernel's own test
    /// (sk_stream_memory_free: the queued memory has reached the send buffer).
    [[nodiscard]] bool send_buffer_full() const noexcept { return send_queued >= send_buffer; }
    /// No process holds this end any more: its owner has closed it (it may linger, orphaned or in
    /// TIME_WAIT, without an fd).
    [[nodiscard]] bool closed_by_its_owner() const noexcept { return inode == 0; }
};

namespace detail {

/// Copies an endpoint's address into the 4 or 16 bytes inet_diag uses.
inline void diag_address(const net::Endpoint& endpoint, std::uint32_t (&out)[4]) {
    std::memset(out, 0, sizeof(out));
    if (endpoint.family() == AF_INET) {
        std::memcpy(out, &reinterpret_cast<const sockaddr_in*>(endpoint.data())->sin_addr, 4);
    } else {
        std::memcpy(out, &reinterpret_cast<const sockaddr_in6*>(endpoint.data())->sin6_addr, 16);
    }
}

}  // namespace detail

/// The end of a TCP connection whose own address is `local` and whose peer is `remote` (both IPv4 or
/// both IPv6), in any state; nullopt if the kernel has no such socket (any more).
/// @throws std::system_error if the kernel will not answer (no NETLINK_SOCK_DIAG).
inline std::optional<TcpEnd> tcp_end(const net::Endpoint& local, const net::Endpoint& remote) {
    const poetry::detail::UniqueFd socket(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (!socket) {
        throw std::system_error(errno, std::generic_category(), "socket(NETLINK_SOCK_DIAG)");
    }
    const int fd = socket.get();

    // One exact lookup (no NLM_F_DUMP): the kernel finds the socket by its four-tuple.
    struct {
        nlmsghdr header;
        inet_diag_req_v2 request;
    } message{};
    message.header.nlmsg_len = sizeof(message);
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.request.sdiag_family = static_cast<std::uint8_t>(local.family());
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ~0U;
    message.request.idiag_ext = 1U << (INET_DIAG_SKMEMINFO - 1);
    message.request.id.idiag_sport = htons(local.port());
    message.request.id.idiag_dport = htons(remote.port());
    detail::diag_address(local, message.request.id.idiag_src);
    detail::diag_address(remote, message.request.id.idiag_dst);
    message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd, &message, sizeof(message), 0, reinterpret_cast<const sockaddr*>(&kernel),
                 sizeof(kernel)) < 0) {
        throw std::system_error(errno, std::generic_category(), "sock_diag request");
    }

    alignas(nlmsghdr) char buffer[8192];
    const ssize_t size = ::recv(fd, buffer, sizeof(buffer), 0);
    if (size < 0) {
        throw std::system_error(errno, std::generic_category(), "sock_diag reply");
    }
    auto remaining = static_cast<unsigned>(size);
    for (auto* header = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(header, remaining);
         header = NLMSG_NEXT(header, remaining)) {
        if (header->nlmsg_type == NLMSG_ERROR) {
            const int error = -reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(header))->error;
            if (error == ENOENT) {
                return std::nullopt;
            }
            throw std::system_error(error, std::generic_category(), "sock_diag lookup");
        }
        if (header->nlmsg_type != SOCK_DIAG_BY_FAMILY) {
            continue;
        }
        const auto* found = reinterpret_cast<const inet_diag_msg*>(NLMSG_DATA(header));
        // With no connection of that four-tuple the lookup falls back to a listener on the local port:
        // that is not the end asked for.
        if (found->id.idiag_sport != message.request.id.idiag_sport ||
            found->id.idiag_dport != message.request.id.idiag_dport) {
            return std::nullopt;
        }
        TcpEnd end;
        end.inode = found->idiag_inode;
        auto attributes = static_cast<unsigned>(header->nlmsg_len - NLMSG_LENGTH(sizeof(*found)));
        for (auto* attribute = reinterpret_cast<const rtattr*>(found + 1); RTA_OK(attribute, attributes);
             attribute = RTA_NEXT(attribute, attributes)) {
            if (attribute->rta_type == INET_DIAG_SKMEMINFO &&
                RTA_PAYLOAD(attribute) >= sizeof(std::uint32_t) * (SK_MEMINFO_WMEM_QUEUED + 1)) {
                const auto* memory = static_cast<const std::uint32_t*>(RTA_DATA(attribute));
                end.send_queued = memory[SK_MEMINFO_WMEM_QUEUED];
                end.send_buffer = memory[SK_MEMINFO_SNDBUF];
            }
        }
        return end;
    }
    return std::nullopt;
}

/// The other end of `ours`, a connected TCP socket: the server's end, for a test's client socket.
inline std::optional<TcpEnd> peer_end(const net::Socket& ours) {
    return tcp_end(ours.peer_endpoint(), ours.local_endpoint());
}

/// Whether the other end of `ours` (the server's end of a test's client socket) has a full send
/// buffer: its owner can send nothing more until `ours` reads, and blocks in send or waits for the
/// socket to become writable.
inline bool peer_cannot_send_more(const net::Socket& ours) {
    const auto end = peer_end(ours);
    return end && end->send_buffer_full();
}

/// Polls `condition` every few milliseconds until it holds or `timeout` has passed; returns whether it
/// held. For a state a test has to wait for: the timeout only turns a hang into a failure, and is far
/// above what a loaded machine (or a sanitizer) needs.
template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = Clock::now() + timeout;
    while (!condition()) {
        if (Clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

}  // namespace poetry::test
