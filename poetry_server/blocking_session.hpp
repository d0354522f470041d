// What the threaded and blocking modes share: serving one client on the calling thread with a
// blocking socket, the accept loop, and the registry that lets a stop unblock sessions stuck in send.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_set>

#include "serve.hpp"

namespace poetry::server {

/// The fds of the sessions in progress. A session blocked in send(2) to a client that does not read
/// would not see the stop signal; stop_all() shuts their sockets down, which ends the send at once.
class ClientRegistry {
public:
    void add(int fd);
    void remove(int fd);
    /// Shuts down every registered socket (and those registered later).
    void stop_all();

private:
    std::mutex mutex_;
    std::unordered_set<int> fds_;
    bool stopping_ = false;
};

/// Streams the listener's poem to `client` on the listener's absolute schedule, with the faults that
/// connection `number` of the listener gets, reading and discarding whatever the client sends while it
/// waits for each chunk's time. Returns when the poem is sent, a fault ends it, the client goes, or the
/// stop signal arrives; the session is counted and logged.
void serve_client_blocking(net::Socket client, std::string peer, std::uint64_t number, ClientSlot slot,
                           const Listener& listener, ServeContext& context, ClientRegistry& registry);

/// Relays `client` to the listener's upstream (--upstream) on the calling thread, paced and faulted like
/// a poem, until both directions are over, a side fails, or the stop signal arrives; the session is
/// counted and logged.
void serve_proxy_client_threaded(net::Socket client, std::string peer, std::uint64_t number, ClientSlot slot,
                                 const Listener& listener, ServeContext& context);

/// A --cache proxy's client: waits for the cache (checking every 10 ms, and for the stop), then is
/// served its content like a poem by serve_client_blocking, or closed if the fetch failed.
void serve_cached_client_threaded(net::Socket client, std::string peer, std::uint64_t number, ClientSlot slot,
                                  const Listener& listener, ServeContext& context, ClientRegistry& registry);

using ServeClient =
    std::function<void(net::Socket client, std::string peer, std::uint64_t number, ClientSlot slot)>;

/// Accepts clients of `listener` until the stop signal and hands each to `serve` with its number (from
/// 0, in accept order, refused ones left out). Out of fds, it pauses 0.1 s between tries instead of
/// spinning; over --max-clients, it closes the new connection.
void accept_clients(Listener& listener, ServeContext& context, const ServeClient& serve);

/// Blocks until the stop signal arrives.
void wait_for_stop(const StopSignal& stop);

}  // namespace poetry::server
