// A proxied listener's service (--upstream): where to connect, resolved once at start, and which
// failure the log has already reported, so that a service that is down is one line on stderr, not
// one per client.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "options.hpp"
#include "poetry/net/address.hpp"

namespace poetry::server {

class Upstream {
public:
    /// Resolves `address` (blocking: this runs once, before anything is served).
    /// @throws StartupError "cannot resolve --upstream db.local:5432: Name or service not known".
    static std::shared_ptr<const Upstream> resolve(const net::Address& address,
                                                   std::chrono::nanoseconds connect_timeout,
                                                   std::optional<UpstreamPace> pace);

    Upstream(net::Address address, std::vector<net::Endpoint> endpoints, std::chrono::nanoseconds connect_timeout,
             std::optional<UpstreamPace> pace) noexcept
        : address_(std::move(address)),
          endpoints_(std::move(endpoints)),
          connect_timeout_(connect_timeout),
          pace_(pace) {}

    [[nodiscard]] const net::Address& address() const noexcept { return address_; }
    /// Every address the name resolved to, tried in order by each connection (net::ConnectAttempts).
    [[nodiscard]] const std::vector<net::Endpoint>& endpoints() const noexcept { return endpoints_; }
    /// How long connecting (all endpoints together) may take: --upstream-timeout.
    [[nodiscard]] std::chrono::nanoseconds connect_timeout() const noexcept { return connect_timeout_; }
    /// How what clients send is paced on its way to it; nullopt: forwarded as it comes.
    [[nodiscard]] const std::optional<UpstreamPace>& pace() const noexcept { return pace_; }

    /// A connection to it failed with `cause`: true if the log should say so, that is if this starts a
    /// new episode (the last connection succeeded, or failed for another reason). Thread-safe.
    [[nodiscard]] bool failure_is_news(const std::string& cause) const;
    /// A connection to it was made: the episode, if any, is over. Thread-safe.
    void reached() const;

private:
    net::Address address_;
    std::vector<net::Endpoint> endpoints_;
    std::chrono::nanoseconds connect_timeout_;
    std::optional<UpstreamPace> pace_;
    mutable std::mutex mutex_;
    mutable std::string failing_with_;  // empty while it works
};

}  // namespace poetry::server
