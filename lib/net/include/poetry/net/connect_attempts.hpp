// The rule of every connect to an Address, whichever way the caller waits (blocking, polling, loop
// callbacks, futures, coroutines): try the resolved endpoints in order, take the first that accepts,
// and if none does, report the last failure as "connect to HOST:PORT: <reason>" (Python's
// socket.create_connection, asio's connect(range)). The walks differ in how they wait for each try;
// the order, the error kept and the message live here.
#pragma once

#include <cstddef>
#include <system_error>
#include <utility>
#include <vector>

#include "poetry/net/address.hpp"

namespace poetry::net {

/// std::system_error "connect to HOST:PORT: <reason>": how a failed connect to `peer` is thrown.
std::system_error connect_error(const Address& peer, const std::error_code& ec);
/// The same for one endpoint: "connect to 127.0.0.1:8000: <reason>".
std::system_error connect_error(const Endpoint& peer, const std::error_code& ec);

/// The endpoints of one address and how trying them went. Value type; not thread-safe.
class ConnectAttempts {
public:
    ConnectAttempts(Address address, std::vector<Endpoint> endpoints) noexcept
        : address_(std::move(address)), endpoints_(std::move(endpoints)) {}

    /// The next endpoint to try, or null once every one has been tried. Valid while this object is.
    [[nodiscard]] const Endpoint* next() noexcept {
        return next_ < endpoints_.size() ? &endpoints_[next_++] : nullptr;
    }
    /// The endpoint from the last next() refused: `ec` is why, kept as the reason if none accepts.
    void failed(const std::error_code& ec) noexcept { error_ = ec; }

    /// Why no endpoint accepted: the last failure; std::errc::address_not_available if the list was
    /// empty (nothing was tried).
    [[nodiscard]] const std::error_code& error() const noexcept { return error_; }
    /// error() as thrown: std::system_error "connect to HOST:PORT: <reason>".
    [[nodiscard]] std::system_error exception() const { return connect_error(address_, error_); }

    [[nodiscard]] const Address& address() const noexcept { return address_; }

private:
    Address address_;
    std::vector<Endpoint> endpoints_;
    std::size_t next_ = 0;
    std::error_code error_ = std::make_error_code(std::errc::address_not_available);
};

}  // namespace poetry::net
