// A proxied listener's session in --mode async: a ProxyRelay driven by asio, with an async_wait on
// each socket for what the relay asks and a steady_timer for when.
#pragma once

#include <asio.hpp>
#include <memory>
#include <unordered_set>

#include "listener.hpp"
#include "server_log.hpp"

namespace poetry::server {

class AsyncProxySession;

/// The proxied sessions of one io_context, for the stop to interrupt. Not thread-safe: one per
/// io_context, touched only from its thread.
using AsyncProxySessions = std::unordered_set<AsyncProxySession*>;

/// Starts relaying `client` (accepted on `io`) to the listener's upstream. The session keeps itself
/// alive (its pending waits hold it) until it has ended; it is in `sessions` meanwhile.
void start_async_proxy_session(asio::io_context& io, asio::ip::tcp::socket client, ClientInfo info,
                               ClientSlot slot, ServerStats& stats, ServerLog& log, AsyncProxySessions& sessions);

/// The server stops: records the session as interrupted and ends it.
void interrupt(AsyncProxySession& session) noexcept;

}  // namespace poetry::server
