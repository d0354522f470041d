#include "poetry/net/fd_limit.hpp"

#include <sys/resource.h>

namespace poetry::net {

std::size_t raise_fd_limit(std::size_t wanted) noexcept {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return 0;
    }
    const rlim_t target = wanted >= RLIM_INFINITY ? RLIM_INFINITY : static_cast<rlim_t>(wanted);
    if (limit.rlim_cur >= target) {
        return static_cast<std::size_t>(limit.rlim_cur);
    }
    // Past the hard limit first (privileged), else up to it.
    if (target != RLIM_INFINITY && target > limit.rlim_max) {
        const rlimit raised{target, target};
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            return static_cast<std::size_t>(target);
        }
    }
    const rlimit raised{target < limit.rlim_max ? target : limit.rlim_max, limit.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
        return static_cast<std::size_t>(raised.rlim_cur);
    }
    return static_cast<std::size_t>(limit.rlim_cur);
}

}  // namespace poetry::net

namespace poetry::net {

std::size_t cap_fd_limit(std::size_t most) noexcept {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return 0;
    }
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur <= most) {
        return static_cast<std::size_t>(limit.rlim_cur);
    }
    const rlimit capped{static_cast<rlim_t>(most), limit.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &capped) == 0) {
        return most;
    }
    return static_cast<std::size_t>(limit.rlim_cur);
}

}  // namespace poetry::net
