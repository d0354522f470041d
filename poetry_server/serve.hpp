// The three ways to serve the listeners, one file each, and what they share.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
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

    /// Takes a place for the new client from `peer`, where its connection is accepted: atomically, so
    /// that however many threads accept at once, no more than --max-clients are ever admitted. If they
    /// are all taken, counts and logs the client as refused and returns nullopt: the caller then
    /// closes its connection at once.
    std::optional<ClientSlot> admit(std::string_view peer, const Listener& listener) {
        if (!max_clients) {
            return ClientSlot(stats);
        }
        std::uint64_t active = stats.active.load();
        do {
            if (active >= *max_clients) {
                ++stats.refused;
                log.refused(peer, listener, active);
                return std::nullopt;
            }
        } while (!stats.active.compare_exchange_weak(active, active + 1));
        return ClientSlot::counted(stats);
    }
};

/// asio coroutines on one io_context: a coroutine per listener accepting, one per client sending,
/// paced by steady_timers on an absolute schedule. Returns once stopped and every client has ended.
void serve_async(ServeContext& context);

/// The library's EventLoop on `selector` ("auto", "epoll", "poll" or "select"): a callback object per
/// client, paced by Timers. Returns once stopped; the stop ends every client at once.
void serve_callbacks(ServeContext& context, const std::string& selector);

/// The same loop with a lib Task per client, written top to bottom.
void serve_coroutines(ServeContext& context, const std::string& selector);

/// A thread per client with blocking sockets (and one accepting per listener).
void serve_threaded(ServeContext& context);

/// One client at a time per listener, like the original slow poetry server.
void serve_blocking(ServeContext& context);

}  // namespace poetry::server
