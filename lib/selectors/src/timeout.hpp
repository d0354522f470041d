// Conversions of Selector::Timeout for the backends' OS calls. Positive timeouts round *up*
// (CPython selectors: "poll() has a resolution of 1 millisecond, round away from zero to wait *at
// least* timeout seconds"), so that a loop waiting for a timer never wakes just before it is due
// and spins.
#pragma once

#include <sys/time.h>

#include <chrono>
#include <climits>

#include "poetry/selectors/selector.hpp"

namespace poetry::detail {

/// Milliseconds for poll/epoll_wait: -1 blocks, 0 polls, else ceil(timeout), capped at INT_MAX.
inline int timeout_milliseconds(Selector::Timeout timeout) noexcept {
    if (timeout < Selector::Timeout::zero()) {
        return -1;
    }
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

/// Microsecond timeval for select: only meaningful for timeout >= 0 (the caller passes nullptr to block).
inline timeval timeout_timeval(Selector::Timeout timeout) noexcept {
    const auto us = std::chrono::ceil<std::chrono::microseconds>(timeout).count();
    return timeval{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
}

}  // namespace poetry::detail
