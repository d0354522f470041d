#include "poetry/net/address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "poetry/net/errors.hpp"

namespace poetry::net {
namespace {

[[noreturn]] void throw_invalid(std::string_view text, std::string_view problem) {
    throw std::invalid_argument("invalid address \"" + std::string(text) + "\": " + std::string(problem));
}

std::uint16_t parse_port(std::string_view text, std::string_view port) {
    if (port.empty()) {
        throw_invalid(text, "missing port");
    }
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        throw_invalid(text, "port \"" + std::string(port) + "\" is not a number");
    }
    unsigned long value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (error != std::errc{} || end != port.data() + port.size() || value > 65535) {
        throw_invalid(text, "port " + std::string(port) + " is out of range (0-65535)");
    }
    return static_cast<std::uint16_t>(value);
}

}  // namespace

Address::Address(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {}

Address Address::parse(std::string_view text) {
    constexpr std::string_view forms = "expected PORT, HOST:PORT or [IPv6]:PORT";
    if (text.empty()) {
        throw_invalid(text, forms);
    }
    if (text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) {
            throw_invalid(text, "missing ']' after the IPv6 host");
        }
        const auto host = text.substr(1, close - 1);
        if (host.empty()) {
            throw_invalid(text, "empty host between '[' and ']'");
        }
        if (host.find('[') != std::string_view::npos) {
            // "[[x]:80" would give the host "[x", which to_string() prints as "[x:80": unreadable.
            throw_invalid(text, "'[' inside the brackets");
        }
        const auto rest = text.substr(close + 1);
        if (rest.empty() || rest.front() != ':') {
            throw_invalid(text, "missing port after ']'");
        }
        return Address(std::string(host), parse_port(text, rest.substr(1)));
    }
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            throw_invalid(text, forms);
        }
        return Address(std::string(default_host), parse_port(text, text));
    }
    if (text.find(':', colon + 1) != std::string_view::npos) {
        throw_invalid(text, "an IPv6 host needs brackets, as in [::1]:8000");
    }
    const auto host = text.substr(0, colon);
    const auto port = parse_port(text, text.substr(colon + 1));
    return Address(host.empty() ? std::string(default_host) : std::string(host), port);
}

std::string Address::to_string() const {
    const auto port = std::to_string(port_);
    if (host_.find(':') != std::string::npos) {
        return "[" + host_ + "]:" + port;
    }
    return host_ + ":" + port;
}

Endpoint::Endpoint(const sockaddr* addr, socklen_t size) {
    const bool ipv4 = addr->sa_family == AF_INET && size >= socklen_t{sizeof(sockaddr_in)};
    const bool ipv6 = addr->sa_family == AF_INET6 && size >= socklen_t{sizeof(sockaddr_in6)};
    if (!(ipv4 || ipv6) || size > socklen_t{sizeof(storage_)}) {
        throw std::invalid_argument("Endpoint: not an IPv4 or IPv6 socket address");
    }
    std::memcpy(&storage_, addr, size);
    size_ = size;
}

Endpoint Endpoint::numeric(std::string_view host, std::uint16_t port) {
    if (auto endpoint = try_numeric(host, port)) {
        return *endpoint;
    }
    throw std::invalid_argument("\"" + std::string(host) + "\" is not a numeric IPv4 or IPv6 address");
}

std::optional<Endpoint> Endpoint::try_numeric(std::string_view host, std::uint16_t port) {
    const std::string host_string(host);
    sockaddr_in v4{};
    if (::inet_pton(AF_INET, host_string.c_str(), &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons(port);
        return Endpoint(reinterpret_cast<const sockaddr*>(&v4), sizeof(v4));
    }
    sockaddr_in6 v6{};
    if (::inet_pton(AF_INET6, host_string.c_str(), &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(port);
        return Endpoint(reinterpret_cast<const sockaddr*>(&v6), sizeof(v6));
    }
    return std::nullopt;
}

std::uint16_t Endpoint::port() const noexcept {
    if (family() == AF_INET) {
        return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    }
    if (family() == AF_INET6) {
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    }
    return 0;
}

std::string Endpoint::host() const {
    char buffer[INET6_ADDRSTRLEN] = {};
    const void* raw =
        family() == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr);
    if (size_ == 0 || ::inet_ntop(family(), raw, buffer, sizeof(buffer)) == nullptr) {
        return "?";
    }
    return buffer;
}

std::string Endpoint::to_string() const {
    if (family() == AF_INET6) {
        return "[" + host() + "]:" + std::to_string(port());
    }
    return host() + ":" + std::to_string(port());
}

std::vector<Endpoint> resolve(const Address& address, std::error_code& ec) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* list = nullptr;
    const auto service = std::to_string(address.port());
    const int status = ::getaddrinfo(address.host().c_str(), service.c_str(), &hints, &list);
    if (status != 0) {
        ec = status == EAI_SYSTEM ? std::error_code(errno, std::generic_category())
                                  : std::error_code(status, resolver_category());
        return {};
    }
    std::vector<Endpoint> endpoints;
    for (const addrinfo* info = list; info != nullptr; info = info->ai_next) {
        if (info->ai_family == AF_INET || info->ai_family == AF_INET6) {
            endpoints.emplace_back(info->ai_addr, info->ai_addrlen);
        }
    }
    ::freeaddrinfo(list);
    ec.clear();
    if (endpoints.empty()) {
        ec = std::error_code(EAI_NONAME, resolver_category());
    }
    return endpoints;
}

std::vector<Endpoint> resolve(const Address& address) {
    std::error_code ec;
    auto endpoints = resolve(address, ec);
    if (ec) {
        throw resolve_error(address, ec);
    }
    return endpoints;
}

std::system_error resolve_error(const Address& address, const std::error_code& ec) {
    return std::system_error(ec, "resolve " + address.to_string());
}

}  // namespace poetry::net
