// Addresses as people type them (PORT, HOST:PORT, [IPv6]:PORT) and the resolved socket addresses
// (Endpoint) they turn into.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <sys/socket.h>

namespace poetry::net {

/// The host used when an address gives only a port.
inline constexpr std::string_view default_host = "127.0.0.1";

/// A host and a port, as given by the user; not resolved. Value type.
class Address {
public:
    Address(std::string host, std::uint16_t port);

    /// Parses "PORT", "HOST:PORT" or "[IPv6]:PORT"; the host defaults to 127.0.0.1.
    /// @throws std::invalid_argument with a one-line message naming the text and what is wrong with it,
    ///         e.g. `invalid address "host:": missing port`.
    static Address parse(std::string_view text);

    [[nodiscard]] const std::string& host() const noexcept { return host_; }
    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }

    /// "127.0.0.1:8000", or "[::1]:8000" for a host containing ':'.
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(const Address&, const Address&) = default;

private:
    std::string host_;
    std::uint16_t port_;
};

/// A resolved IPv4 or IPv6 socket address, ready for connect(2) or bind(2).
class Endpoint {
public:
    Endpoint() noexcept = default;

    /// Copies `size` bytes of `addr`. @throws std::invalid_argument if it is not AF_INET/AF_INET6.
    Endpoint(const sockaddr* addr, socklen_t size);

    /// An endpoint from a numeric IPv4/IPv6 host; @throws std::invalid_argument if `host` is not numeric.
    static Endpoint numeric(std::string_view host, std::uint16_t port);
    /// The same, or nullopt for a host that is not numeric (a name to look up): the test that lets a
    /// resolver skip getaddrinfo, which would only parse it, but might first block on the network.
    static std::optional<Endpoint> try_numeric(std::string_view host, std::uint16_t port);

    [[nodiscard]] const sockaddr* data() const noexcept {
        return reinterpret_cast<const sockaddr*>(&storage_);
    }
    [[nodiscard]] socklen_t size() const noexcept { return size_; }
    [[nodiscard]] int family() const noexcept { return storage_.ss_family; }
    [[nodiscard]] std::uint16_t port() const noexcept;
    /// The numeric host, e.g. "127.0.0.1" or "::1".
    [[nodiscard]] std::string host() const;
    /// "127.0.0.1:8000" or "[::1]:8000".
    [[nodiscard]] std::string to_string() const;

private:
    sockaddr_storage storage_{};
    socklen_t size_ = 0;
};

/// Resolves `address` for a TCP connection (getaddrinfo; numeric hosts do not touch the network).
/// Errors use resolver_category(); on error the result is empty.
std::vector<Endpoint> resolve(const Address& address, std::error_code& ec);

/// @throws std::system_error "resolve HOST:PORT: <reason>" (resolve_error).
std::vector<Endpoint> resolve(const Address& address);

/// std::system_error "resolve HOST:PORT: <reason>": how a failed resolve of `address` is thrown, by
/// resolve() here and by the loop's resolver alike.
std::system_error resolve_error(const Address& address, const std::error_code& ec);

}  // namespace poetry::net
