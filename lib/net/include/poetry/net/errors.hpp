// Error categories and the throw helper of the net layer: `std::error_code` below, exceptions above,
// with the throwing form naming the operation and the peer (asio's throw_error).
#pragma once

#include <string>
#include <system_error>

namespace poetry::net {

/// Category for getaddrinfo(3)'s EAI_* codes; messages come from gai_strerror.
const std::error_category& resolver_category() noexcept;

/// True for "out of file descriptors", the process's (EMFILE) or the system's (ENFILE): a server
/// rides it out by pausing accept until clients leave.
inline bool is_out_of_fds(const std::error_code& ec) noexcept {
    return ec == std::errc::too_many_files_open || ec == std::errc::too_many_files_open_in_system;
}

/// True when accept(2) failed for one connection only, which went away before it was accepted
/// (ECONNABORTED; EPROTO, a protocol error on it that Linux passes on): the listener is fine, and a
/// server accepts the next connection at once. asio reports errno in its own category: pass its codes
/// through asio_support::errno_code first, as for is_out_of_fds.
inline bool is_aborted_accept(const std::error_code& ec) noexcept {
    return ec == std::errc::connection_aborted || ec == std::errc::protocol_error;
}

/// Throws std::system_error(ec, what) if `ec` is set. `what` reads like "connect to 127.0.0.1:8000",
/// so the message becomes "connect to 127.0.0.1:8000: Connection refused".
inline void throw_if_error(const std::error_code& ec, const std::string& what) {
    if (ec) {
        throw std::system_error(ec, what);
    }
}

}  // namespace poetry::net
