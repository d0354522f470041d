// A proxied listener's session in --mode threaded: the thread steps a ProxyRelay and waits in poll(2)
// for what it asks for, the stop signal included, so it never blocks where the stop cannot reach it.
// A --cache proxy's client waits for the cache the same way.
#include <poll.h>

#include <algorithm>
#include <array>
#include <limits>

#include "blocking_session.hpp"
#include "poetry/detail/syscall.hpp"
#include "proxy/proxy_relay.hpp"

namespace poetry::server {
namespace {

/// The poll events for a wish to read and write; with neither, the fd is left out (-1): poll reports
/// a hang-up whatever the events asked for, and the thread would spin on one it does not want yet.
pollfd poll_entry(int fd, bool read, bool write) {
    const auto events = static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0));
    return {events != 0 ? fd : -1, events, 0};
}

int poll_timeout_ms(const std::optional<TimePoint>& wake_at, TimePoint now) {
    if (!wake_at) {
        return -1;
    }
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(*wake_at - now).count();
    return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(ms, 0, std::numeric_limits<int>::max()));
}

}  // namespace

void serve_proxy_client_threaded(net::Socket client, std::string peer, std::uint64_t number, ClientSlot slot,
                                 const Listener& listener, ServeContext& context) {
    SessionRecord record(ClientInfo{std::move(peer), &listener, Clock::now(), listener.connection_faults(number)},
                         std::move(slot), context.stats, context.log);
    std::error_code ignored;
    client.set_nonblocking(true, ignored);
    client.set_nodelay(true, ignored);
    ProxyRelay relay(client, record, listener, context.log);
    for (;;) {
        relay.step(Clock::now());
        if (relay.ended()) {
            return;
        }
        const RelayInterest wanted = relay.interest();
        std::array<pollfd, 3> fds{{{context.stop.fd(), POLLIN, 0},
                                   poll_entry(client.fd(), wanted.client_read, wanted.client_write),
                                   poll_entry(relay.upstream_fd(), wanted.upstream_read, wanted.upstream_write)}};
        std::error_code ec;
        detail::retry_on_eintr(
            ec, [&] { return ::poll(fds.data(), fds.size(), poll_timeout_ms(wanted.wake_at, Clock::now())); });
        if (fds[0].revents != 0) {
            relay.interrupt();
            return;
        }
        // An error or a hang-up counts as both: the next recv or send says which it was.
        constexpr short failed = POLLERR | POLLHUP;
        relay.client_ready((fds[1].revents & (POLLIN | failed)) != 0, (fds[1].revents & (POLLOUT | failed)) != 0);
        relay.upstream_ready((fds[2].revents & (POLLIN | failed)) != 0, (fds[2].revents & (POLLOUT | failed)) != 0);
    }
}

void serve_cached_client_threaded(net::Socket client, std::string peer, std::uint64_t number, ClientSlot slot,
                                  const Listener& listener, ServeContext& context, ClientRegistry& registry) {
    const TimePoint started = Clock::now();
    const std::uint64_t ticket = listener.cache->request();
    for (;;) {
        const UpstreamCache::Outcome outcome = listener.cache->outcome(ticket);
        if (outcome.served_as != nullptr) {
            serve_client_blocking(std::move(client), std::move(peer), number, std::move(slot), *outcome.served_as,
                                  context, registry);
            return;
        }
        pollfd stop{context.stop.fd(), POLLIN, 0};
        std::error_code ec;
        if (outcome.failure || detail::retry_on_eintr(ec, [&] { return ::poll(&stop, 1, 10); }) > 0) {
            SessionRecord record(ClientInfo{std::move(peer), &listener, started, ConnectionFaults()}, std::move(slot),
                                 context.stats, context.log);
            if (outcome.failure) {
                record.end(SessionEnd::upstream_failed, *outcome.failure);
            } else {
                record.end(SessionEnd::interrupted, "server stopping");
            }
            return;
        }
    }
}

}  // namespace poetry::server
