// One client of a proxied listener (--upstream), whatever the mode: the connect to the upstream, the
// bytes from the upstream to the client (downstream) paced and faulted like a poem, those from the
// client to the upstream forwarded as they come, half-closes passed on, and how it ended. It never
// waits: the mode's driver (a loop's callbacks, a coroutine, a thread's poll, asio) says which socket
// became ready, step() does all that can be done without blocking, and interest() says what to wait
// for next. So the rules of a proxied connection are written once, and each mode only waits its way.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

#include "listener.hpp"
#include "poetry/loop/clock.hpp"
#include "poetry/net/connect_attempts.hpp"
#include "poetry/net/socket.hpp"
#include "proxy/relay_buffer.hpp"
#include "server_log.hpp"
#include "proxy/stream_pacer.hpp"

namespace poetry::server {

/// What a relay waits for: readiness of its two sockets and a time.
struct RelayInterest {
    bool client_read = false;
    bool client_write = false;
    bool upstream_read = false;
    bool upstream_write = false;
    std::optional<TimePoint> wake_at;

    friend bool operator==(const RelayInterest&, const RelayInterest&) = default;
};

class ProxyRelay {
public:
    /// Called with an fd just before the relay closes it, so that the driver can stop watching it
    /// while the number is still that socket's.
    using ClosingFd = std::function<void(int fd)>;

    /// `client` is connected and non-blocking; the record and the listener must outlive the relay.
    ProxyRelay(net::Socket& client, SessionRecord& record, const Listener& listener, ServerLog& log,
               ClosingFd closing = {});
    ProxyRelay(const ProxyRelay&) = delete;
    ProxyRelay& operator=(const ProxyRelay&) = delete;
    ~ProxyRelay();

    /// The client's socket became readable or writable (an error or hang-up counts as both).
    void client_ready(bool readable, bool writable) noexcept;
    /// The same for the upstream's.
    void upstream_ready(bool readable, bool writable) noexcept;
    /// Does all that can be done now without blocking: the connect, reading, forwarding, chunks that
    /// are due, half-closes, and the end once both directions are over or a side failed.
    void step(TimePoint now);
    /// What to wait for before the next step (nothing once ended).
    [[nodiscard]] RelayInterest interest() const noexcept;
    /// True once the session is over and recorded: the driver closes the client's socket (by
    /// destroying it) and stops calling.
    [[nodiscard]] bool ended() const noexcept { return ended_; }
    /// The upstream's fd, or -1 while there is none (before connecting, after closing it).
    [[nodiscard]] int upstream_fd() const noexcept { return upstream_.fd(); }
    /// The server stops: records the session as interrupted and ends it.
    void interrupt() noexcept;

private:
    void start_connect(TimePoint now);
    void continue_connect(TimePoint now);
    void read_client();
    void write_upstream(TimePoint now);
    void read_upstream();
    void write_client(TimePoint now);
    void downstream_done(TimePoint now);
    void finish_if_both_done();

    /// The upstream could not be reached, or failed mid-stream: the client is closed (reset, if bytes
    /// were lost mid-stream, so that it cannot take a cut stream for a whole one) and the session ends.
    void upstream_failed(const std::string& cause, bool connecting);
    /// The client reset or failed: the session ends as dropped (or cut, while hanging).
    void client_left(const std::string& reason);
    void close_upstream() noexcept;
    void end() noexcept;

    net::Socket& client_;
    SessionRecord& record_;
    const Listener& listener_;
    ServerLog& log_;
    ClosingFd closing_;
    StreamPacer downstream_pace_;
    ConnectionFaults no_faults_;                 // the direction toward the upstream has none
    std::optional<StreamPacer> upstream_pace_;  // --upstream-num-bytes/-delay/-rate, if given
    RelayBuffer downstream_;  // upstream -> client
    RelayBuffer upstream_bytes_;  // client -> upstream

    net::Socket upstream_;
    std::optional<net::ConnectAttempts> attempts_;
    TimePoint connect_deadline_{};
    bool connecting_ = false;
    bool connected_ = false;

    // Readiness as last known: true until a call would block, then until the driver says otherwise.
    bool client_readable_ = true;
    bool client_writable_ = true;
    bool upstream_readable_ = false;
    bool upstream_writable_ = false;

    bool client_eof_ = false;        // the client has sent its FIN
    bool upstream_shut_ = false;     // ... and it has been passed on to the upstream
    bool upstream_eof_ = false;      // the upstream has sent its FIN
    bool client_shut_ = false;       // ... and, with every byte before it, passed on to the client
    bool hanging_ = false;           // at --hang-after's limit
    std::optional<std::string> upstream_error_;  // it failed mid-stream: what came before goes first
    std::optional<TimePoint> close_at_;  // --slow-close: when the FIN may go
    bool ended_ = false;
};

}  // namespace poetry::server
