// Thin helpers for POSIX calls: errno becomes std::error_code and EINTR is retried, so that no layer
// above repeats this bookkeeping (asio's socket_ops, libuv's do/while loops).
#pragma once

#include <fcntl.h>

#include <cerrno>
#include <system_error>

namespace poetry::detail {

/// The calling thread's errno as an error_code.
inline std::error_code last_error() noexcept {
    return {errno, std::generic_category()};
}

/// Calls `call()` until it does not fail with EINTR. `call` returns -1 on error, like the syscalls.
/// On failure `ec` holds errno; on success it is cleared.
template <class Call>
auto retry_on_eintr(std::error_code& ec, Call&& call) noexcept -> decltype(call()) {
    for (;;) {
        auto result = call();
        if (result != -1) {
            ec.clear();
            return result;
        }
        if (errno != EINTR) {
            ec = last_error();
            return result;
        }
    }
}

/// True for the "try again later" errors of a non-blocking socket, which are not failures.
inline bool is_would_block(const std::error_code& ec) noexcept {
    return ec == std::errc::operation_would_block || ec == std::errc::resource_unavailable_try_again;
}

/// Sets or clears O_NONBLOCK on any fd (socket or pipe), leaving its other status flags alone.
inline void set_nonblocking(int fd, bool on, std::error_code& ec) noexcept {
    const int flags = retry_on_eintr(ec, [&] { return ::fcntl(fd, F_GETFL); });
    if (ec) {
        return;
    }
    const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (wanted != flags) {
        retry_on_eintr(ec, [&] { return ::fcntl(fd, F_SETFL, wanted); });
    }
}

}  // namespace poetry::detail
