#include "listener.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cmath>
#include <system_error>

namespace poetry::server {
namespace {

/// The address to bind for --iface: numeric as given, else the name's first IPv4 address (so that
/// "localhost" matches clients' default host, 127.0.0.1), else its first address.
net::Endpoint interface_endpoint(const std::string& iface, std::uint16_t port) {
    std::error_code ec;
    const auto endpoints = net::resolve(net::Address(iface, port), ec);
    if (ec) {
        throw StartupError("cannot use --iface " + iface + ": " + ec.message());
    }
    const auto ipv4 = std::find_if(endpoints.begin(), endpoints.end(),
                                   [](const net::Endpoint& e) { return e.family() == AF_INET; });
    return ipv4 != endpoints.end() ? *ipv4 : endpoints.front();
}

}  // namespace

std::vector<Listener> bind_listeners(const ServerOptions& options) {
    std::vector<Listener> listeners;
    listeners.reserve(options.listeners());
    const auto timeout = to_nanoseconds(options.upstream_timeout);
    for (std::size_t i = 0; i < options.listeners(); ++i) {
        Listener listener;
        listener.index = i;
        if (i < options.poems.size()) {
            listener.poem = Poem::load(options.poems[i]);
        } else {
            const std::size_t upstream = i - options.poems.size();
            listener.upstream = Upstream::resolve(options.upstreams[upstream], timeout, options.upstream_paces[upstream]);
        }
        listener.num_bytes = options.num_bytes[i];
        listener.delay_seconds = options.delays[i];
        listener.rate = options.rates[i];
        listener.delay = to_nanoseconds(options.delays[i]);
        listener.faults = options.faults[i];
        const net::Endpoint wanted = interface_endpoint(options.iface, options.ports[i]);
        std::error_code ec;
        listener.socket = net::listen(wanted, SOMAXCONN, ec);
        if (ec) {
            throw StartupError("cannot listen on " + wanted.to_string() + " for " + listener.source() + ": " +
                               ec.message());
        }
        listener.endpoint = listener.socket.local_endpoint();
        listeners.push_back(std::move(listener));
    }
    return listeners;
}

}  // namespace poetry::server
