// The three ways to serve the listeners, one file each, and what they share.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "listener.hpp"
#include "server_log.hpp"
#include "stop_signal.hpp"

namespace poetry::server {

struct ServeContext {
    std::vector<Listener>& listeners;
    std::optional<std::size_t> max_clients;
    ServerStats& stats;
    ServerLog& log;
    const StopSignal& stop;

    /// If --max-clients are connected, counts and logs the new client from `peer` as refused and returns
    /// true: the caller then closes its connection at once.
    bool refuse_if_full(std::string_view peer, const Listener& listener) {
        if (!max_clients || stats.active < *max_clients) {
            return false;
        }
        ++stats.refused;
        log.refused(peer, listener, stats.active);
        return true;
    }
};

/// asio coroutines on one io_context: a coroutine per listener accepting, one per client sending,
/// paced by steady_timers on an absolute schedule. Returns once stopped and every client has ended.
void serve_async(ServeContext& context);

/// A thread per client with blocking sockets (and one accepting per listener).
void serve_threaded(ServeContext& context);

/// One client at a time per listener, like the original slow poetry server.
void serve_blocking(ServeContext& context);

}  // namespace poetry::server
