#include "proxy/upstream.hpp"

#include "listener.hpp"

namespace poetry::server {

std::shared_ptr<const Upstream> Upstream::resolve(const net::Address& address,
                                                  std::chrono::nanoseconds connect_timeout,
                                                  std::optional<UpstreamPace> pace) {
    std::error_code ec;
    std::vector<net::Endpoint> endpoints = net::resolve(address, ec);
    if (ec || endpoints.empty()) {
        throw StartupError("cannot resolve --upstream " + address.to_string() + ": " +
                           (ec ? ec.message() : "no address"));
    }
    return std::make_shared<const Upstream>(address, std::move(endpoints), connect_timeout, pace);
}

bool Upstream::failure_is_news(const std::string& cause) const {
    const std::lock_guard lock(mutex_);
    if (failing_with_ == cause) {
        return false;
    }
    failing_with_ = cause;
    return true;
}

void Upstream::reached() const {
    const std::lock_guard lock(mutex_);
    failing_with_.clear();
}

}  // namespace poetry::server
