// The open-files limit (RLIMIT_NOFILE), which caps how many sockets a server or a load-generating
// client can hold at once.
#pragma once

#include <cstddef>
#include <limits>

namespace poetry::net {

/// Raises the soft limit on open fds towards `wanted`: up to the hard limit, and past it where the
/// process may (root with CAP_SYS_RESOURCE). Never lowers it. @returns the soft limit now in force.
std::size_t raise_fd_limit(std::size_t wanted = std::numeric_limits<std::size_t>::max()) noexcept;

}  // namespace poetry::net
