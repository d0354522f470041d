// The open-files limit (RLIMIT_NOFILE), which caps how many sockets a server or a load-generating
// client can hold at once.
#pragma once

#include <cstddef>
#include <limits>

namespace poetry::net {

/// Raises the soft limit on open fds towards `wanted`: up to the hard limit, and past it where the
/// process may (root with CAP_SYS_RESOURCE). Never lowers it. @returns the soft limit now in force.
std::size_t raise_fd_limit(std::size_t wanted = std::numeric_limits<std::size_t>::max()) noexcept;

/// Lowers the soft limit on open fds to at most `most` (so that, for select(2), no fd reaches
/// FD_SETSIZE: accept then fails with EMFILE, which a server rides out, instead of handing it an fd
/// it cannot watch). Never raises it. @returns the soft limit now in force.
std::size_t cap_fd_limit(std::size_t most) noexcept;

}  // namespace poetry::net
