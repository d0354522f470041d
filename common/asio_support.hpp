// What the programs' asio code shares (the client's asio strategy and the server's --mode async): the
// asio 1.22 spelling of an await that returns its error instead of throwing, a copy of an fd for asio
// to own, and asio's errno codes made comparable.
#pragma once

#include <unistd.h>

#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>

#include <cerrno>
#include <string>
#include <system_error>

namespace poetry::asio_support {

/// The completion token of every co_await on asio here: `auto [ec, ...] = co_await op(..., use_tuple)`.
/// asio 1.22 spelling (Debian 12's libasio-dev): the token is explicit and as_tuple is still
/// experimental; later versions default the token and move as_tuple out of experimental.
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

/// A duplicate of `fd` for an asio object to own (asio closes the descriptors it owns), so that `fd`
/// stays its owner's: the client's interruption eventfd, the server's stop signalfd, a listening
/// socket that every thread accepts on. @throws std::system_error "dup of <what>: <reason>".
inline int dup_for_asio(int fd, const std::string& what) {
    const int copy = ::dup(fd);
    if (copy < 0) {
        throw std::system_error(errno, std::generic_category(), "dup of " + what);
    }
    return copy;
}

/// `ec` in std::system_category when asio reports an errno in its own system category ("asio.system"),
/// which standalone asio 1.22 does not map to std::errc conditions: the errno as the rest of the
/// toolkit sees it, so that net::is_out_of_fds and std::errc comparisons work on it.
inline std::error_code errno_code(const std::error_code& ec) noexcept {
    if (ec.category() == asio::error::get_system_category()) {
        return {ec.value(), std::system_category()};
    }
    return ec;
}

}  // namespace poetry::asio_support
