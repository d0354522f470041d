// Raising RLIMIT_NOFILE for tests that open thousands of sockets (on top of the library's helper).
#pragma once

#include <cstddef>

#include "poetry/net/fd_limit.hpp"

namespace poetry::test {

/// Raises the soft fd limit towards `wanted`; @returns the soft limit now in force.
inline std::size_t raise_fd_limit_towards(std::size_t wanted) {
    return net::raise_fd_limit(wanted);
}

/// Makes at least `wanted` fds available. @returns false if the limit cannot reach `wanted`.
inline bool raise_fd_limit(std::size_t wanted) {
    return net::raise_fd_limit(wanted) >= wanted;
}

}  // namespace poetry::test
