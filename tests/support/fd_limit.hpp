// Raising RLIMIT_NOFILE for tests that open thousands of sockets.
#pragma once

#include <sys/resource.h>

#include <cstddef>

namespace poetry::test {

/// Raises the soft fd limit towards `wanted`: up to the hard limit, and past it where allowed (root
/// with CAP_SYS_RESOURCE). @returns the soft limit now in force.
inline std::size_t raise_fd_limit_towards(std::size_t wanted) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return 0;
    }
    if (limit.rlim_cur >= wanted) {
        return limit.rlim_cur;
    }
    rlimit raised{wanted, limit.rlim_max >= wanted ? limit.rlim_max : wanted};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
        return wanted;
    }
    raised = rlimit{limit.rlim_max, limit.rlim_max};
    return ::setrlimit(RLIMIT_NOFILE, &raised) == 0 ? limit.rlim_max : limit.rlim_cur;
}

/// Makes at least `wanted` fds available. @returns false if the limit cannot reach `wanted`.
inline bool raise_fd_limit(std::size_t wanted) {
    return raise_fd_limit_towards(wanted) >= wanted;
}

}  // namespace poetry::test
