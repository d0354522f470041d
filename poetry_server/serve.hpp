// The three ways to serve the listeners, one file each, and what they share.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
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
    std::size_t threads = 1;  // event loops, each on its own thread (async, callbacks, coroutines)
    // Per listener, the connections accepted so far, by every thread together: each new one's number,
    // which keys its faults.
    std::vector<std::atomic<std::uint64_t>> accepted = std::vector<std::atomic<std::uint64_t>>(listeners.size());

    /// The number of the next connection that `listener` accepts (from 0, in accept order).
    std::uint64_t number_next(const Listener& listener) noexcept { return accepted[listener.index]++; }

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

/// Runs `serve` (one event loop's server) on context.threads threads: this one and threads - 1 more,
/// and returns when all have returned. An exception on another thread is logged; one on this thread
/// is thrown once the others have ended.
void run_on_threads(ServeContext& context, const std::function<void()>& serve);

/// asio coroutines on one io_context: a coroutine per listener accepting, one per client sending,
/// paced by steady_timers on an absolute schedule (context.threads io_contexts on as many threads,
/// all accepting on the same listening sockets). Returns once stopped and every client has ended.
void serve_async(ServeContext& context);

/// The library's EventLoop on `selector` ("auto", "epoll", "poll" or "select"): a callback object per
/// client, paced by Timers; with context.threads > 1, that many loops on as many threads, all
/// accepting on the same listening sockets, each client served by the loop that accepted it. Returns
/// once stopped; the stop ends every client at once.
void serve_callbacks(ServeContext& context, const std::string& selector);

/// The same loop with a lib Task per client, written top to bottom.
void serve_coroutines(ServeContext& context, const std::string& selector);

/// A thread per client with blocking sockets (and one accepting per listener).
void serve_threaded(ServeContext& context);

/// One client at a time per listener, like the original slow poetry server.
void serve_blocking(ServeContext& context);

}  // namespace poetry::server
