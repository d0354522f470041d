#include "proxy/proxy_async_session.hpp"

#include <array>
#include <optional>

#include "proxy/proxy_relay.hpp"

namespace poetry::server {

class AsyncProxySession : public std::enable_shared_from_this<AsyncProxySession> {
public:
    AsyncProxySession(asio::io_context& io, net::Socket client, ClientInfo info, ClientSlot slot,
                      ServerStats& stats, ServerLog& log, AsyncProxySessions& sessions)
        : io_(io),
          client_(std::move(client)),
          record_(std::move(info), std::move(slot), stats, log),
          relay_(client_, record_, *record_.client().listener, log,
                 [this](int fd) {
                     if (fd == upstream_fd_) {
                         forget_upstream();
                     }
                 }),
          client_watch_(io, client_.fd()),
          sessions_(sessions) {
        sessions_.insert(this);
    }
    AsyncProxySession(const AsyncProxySession&) = delete;
    AsyncProxySession& operator=(const AsyncProxySession&) = delete;
    ~AsyncProxySession() { finish(); }

    /// Steps the relay and waits for what it asks next, or ends the session.
    void advance() {
        if (finished_) {
            return;
        }
        relay_.step(Clock::now());
        if (relay_.ended()) {
            finish();
            return;
        }
        watch(relay_.interest());
    }

    void interrupt() noexcept {
        relay_.interrupt();
        finish();
    }

private:
    enum Side { client_side = 0, upstream_side = 1 };
    enum Direction { read = 0, write = 1 };

    void watch(const RelayInterest& wanted) {
        if (relay_.upstream_fd() != upstream_fd_) {
            forget_upstream();
            if (relay_.upstream_fd() >= 0) {
                upstream_watch_.emplace(io_, relay_.upstream_fd());
                upstream_fd_ = relay_.upstream_fd();
            }
        }
        // A wait that is no longer wanted is left pending: if it completes, the step it causes does
        // nothing, and it is not renewed.
        const std::array<std::array<bool, 2>, 2> want{{{wanted.client_read, wanted.client_write},
                                                       {wanted.upstream_read, wanted.upstream_write}}};
        for (const Side side : {client_side, upstream_side}) {
            for (const Direction direction : {read, write}) {
                if (want[side][direction] && !pending_[side][direction]) {
                    wait(side, direction);
                }
            }
        }
        if (wanted.wake_at != timer_at_) {
            timer_at_ = wanted.wake_at;
            if (!wanted.wake_at) {
                timer_.cancel();
            } else {
                timer_.expires_at(*wanted.wake_at);  // cancels the earlier wait, if any
                timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
                    if (ec != asio::error::operation_aborted) {
                        self->timer_at_.reset();
                        self->advance();
                    }
                });
            }
        }
    }

    void wait(Side side, Direction direction) {
        asio::posix::stream_descriptor& watched = side == client_side ? client_watch_ : *upstream_watch_;
        pending_[side][direction] = true;
        const auto how = direction == read ? asio::posix::stream_descriptor::wait_read
                                           : asio::posix::stream_descriptor::wait_write;
        watched.async_wait(how, [self = shared_from_this(), side, direction,
                                 generation = upstream_generation_](const std::error_code& ec) {
            if (side == upstream_side && generation != self->upstream_generation_) {
                return;  // a wait on an upstream socket that has since been closed
            }
            self->pending_[side][direction] = false;
            if (ec == asio::error::operation_aborted) {
                return;
            }
            // An error on the fd wakes the wait too: the relay's next recv or send says what it was.
            if (side == client_side) {
                self->relay_.client_ready(direction == read, direction == write);
            } else {
                self->relay_.upstream_ready(direction == read, direction == write);
            }
            self->advance();
        });
    }

    /// Stops watching the upstream's fd without closing it (the relay owns it), before it is closed.
    void forget_upstream() noexcept {
        if (upstream_watch_) {
            release(*upstream_watch_);  // cancels its waits; their handlers see the generation
            upstream_watch_.reset();
        }
        upstream_fd_ = -1;
        ++upstream_generation_;
        pending_[upstream_side] = {false, false};
    }

    void finish() noexcept {
        if (finished_) {
            return;
        }
        finished_ = true;
        sessions_.erase(this);
        release(client_watch_);
        forget_upstream();
        timer_.cancel();
        client_.close();  // now, not when the last cancelled handler lets the session go
    }

    /// Deregisters `watch` from asio's reactor, cancelling its waits, and leaves the fd open.
    static void release(asio::posix::stream_descriptor& watch) noexcept {
        try {
            watch.release();
        } catch (const std::system_error&) {
            // Only a failure to deregister, which closing the fd (next, by its owner) settles anyway.
        }
    }

    asio::io_context& io_;
    net::Socket client_;
    SessionRecord record_;
    ProxyRelay relay_;
    // Watches on fds that the session and the relay own: released, never closed, by these objects.
    asio::posix::stream_descriptor client_watch_;
    std::optional<asio::posix::stream_descriptor> upstream_watch_;
    int upstream_fd_ = -1;
    std::uint64_t upstream_generation_ = 0;
    std::array<std::array<bool, 2>, 2> pending_{};
    asio::steady_timer timer_{io_};
    std::optional<TimePoint> timer_at_;
    AsyncProxySessions& sessions_;
    bool finished_ = false;
};

void start_async_proxy_session(asio::io_context& io, asio::ip::tcp::socket client, ClientInfo info,
                               ClientSlot slot, ServerStats& stats, ServerLog& log, AsyncProxySessions& sessions) {
    net::Socket socket{detail::UniqueFd(client.release())};
    std::error_code ignored;
    socket.set_nonblocking(true, ignored);
    socket.set_nodelay(true, ignored);
    const auto session = std::make_shared<AsyncProxySession>(io, std::move(socket), std::move(info), std::move(slot),
                                                             stats, log, sessions);
    session->advance();
}

void interrupt(AsyncProxySession& session) noexcept {
    session.interrupt();
}

}  // namespace poetry::server
