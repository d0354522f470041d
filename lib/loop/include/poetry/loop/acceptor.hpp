// The callback layer's accept loop (asyncio's _accept_connection, nginx's multi_accept): takes
// connections off a listening socket as they come, and rides out running out of fds without spinning.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <system_error>

#include "poetry/loop/event_loop.hpp"
#include "poetry/loop/timer.hpp"
#include "poetry/net/address.hpp"
#include "poetry/net/socket.hpp"

namespace poetry {

struct AcceptorOptions {
    std::size_t batch = 64;                                  // connections per readiness, at most
    Clock::duration retry = std::chrono::milliseconds(100);  // between attempts while paused
};

/// While started, accepts on each readiness of `listener` up to `batch` connections (one wake-up per
/// connection cannot keep up with thousands connecting at once, and a full backlog drops handshakes
/// that clients retry only a second later; the bound keeps a storm of connections from holding up
/// everything else), and hands each, non-blocking, to the connection handler. A connection the peer
/// aborted before it was accepted (ECONNABORTED, EPROTO) is skipped. Any other failure (out of fds:
/// EMFILE, ENFILE; out of memory: ENOBUFS, ENOMEM) pauses: the acceptor stops watching and tries
/// again every `retry` until accept works; the connections wait in the backlog meanwhile, and the
/// loop does not spin. The pause handler hears of a shortage once: from the first failure until the
/// backlog has been emptied (accept would block), however often freed fds let one more client in
/// and the next accept fails again.
class Acceptor {
public:
    using ConnectionHandler = std::function<void(net::Socket, const net::Endpoint& peer)>;
    using PauseHandler = std::function<void(const std::error_code&)>;
    using Options = AcceptorOptions;

    /// Does not start yet. `listener` must outlive the acceptor; it is made non-blocking.
    Acceptor(EventLoop& loop, net::Socket& listener, ConnectionHandler on_connection,
             PauseHandler on_pause = {}, Options options = {});
    Acceptor(const Acceptor&) = delete;
    Acceptor& operator=(const Acceptor&) = delete;
    ~Acceptor() { stop(); }

    /// Starts watching the listener. @throws std::system_error (or what the selector throws).
    void start();
    /// Stops accepting (idempotent); the handlers may call it. Connections left in the backlog stay.
    void stop() noexcept;
    [[nodiscard]] bool started() const noexcept { return started_; }
    /// True while paused by a failure, until an accept works again.
    [[nodiscard]] bool paused() const noexcept { return paused_; }

private:
    void accept_batch();
    void pause(const std::error_code& ec);

    EventLoop& loop_;
    net::Socket& listener_;
    ConnectionHandler on_connection_;
    PauseHandler on_pause_;
    Options options_;
    Timer retry_;
    bool started_ = false;
    bool paused_ = false;
    bool shortage_reported_ = false;  // until accept would block again
};

}  // namespace poetry
