// A proxied listener's session on the library's loop (--mode callbacks and coroutines): a ProxyRelay
// and the loop's readers, writers and one Timer, kept to what the relay's interest() asks for. The
// callbacks session steps the relay in those callbacks; the coroutines session is a Task that steps
// it and awaits the next of them, top to bottom.
#include <memory>
#include <optional>

#include "loop_session.hpp"
#include "poetry/coro/create_task.hpp"
#include "poetry/coro/task.hpp"
#include "poetry/loop/timer.hpp"
#include "proxy/proxy_relay.hpp"
#include "session_task.hpp"

namespace poetry::server {
namespace {

/// The relay, its sockets and what the loop watches for it.
class ProxyLoopSession : public LoopClient {
public:
    ProxyLoopSession(LoopSessions& sessions, net::Socket socket, std::string peer, ClientSlot slot,
                     const Listener& listener, std::uint64_t number)
        : sessions_(sessions),
          socket_(std::move(socket)),
          record_(ClientInfo{std::move(peer), &listener, Clock::now(), listener.connection_faults(number)},
                  std::move(slot), sessions.context().stats, sessions.context().log),
          relay_(socket_, record_, listener, sessions.context().log, [this](int fd) { unwatch(fd); }) {
        std::error_code ignored;
        socket_.set_nodelay(true, ignored);
        socket_.set_nonblocking(true, ignored);
    }
    ~ProxyLoopSession() override {
        // Before the sockets close: the selector must not keep an fd that is about to be reused.
        unwatch(socket_.fd());
        unwatch(relay_.upstream_fd());
    }

    void interrupt() noexcept override { relay_.interrupt(); }

protected:
    /// Something the relay waited for has happened.
    virtual void woken() = 0;

    /// Steps the relay; returns false once the session has ended (and been destroyed).
    bool advance() {
        relay_.step(loop().time());
        if (relay_.ended()) {
            sessions_.erase(*this);
            return false;
        }
        watch(relay_.interest());
        return true;
    }

    EventLoop& loop() noexcept { return sessions_.loop(); }

private:
    struct Watched {
        int fd = -1;
        bool read = false;
        bool write = false;
    };

    /// Brings the loop's readers, writers and timer in line with `wanted`, touching only what changed.
    void watch(const RelayInterest& wanted) {
        watch_fd(client_, socket_.fd(), wanted.client_read, wanted.client_write, true);
        watch_fd(upstream_, relay_.upstream_fd(), wanted.upstream_read, wanted.upstream_write, false);
        if (!wanted.wake_at) {
            timer_.cancel();
        } else if (!timer_.armed() || timer_.when() != *wanted.wake_at) {
            timer_.arm_at(*wanted.wake_at);
        }
    }

    void watch_fd(Watched& watched, int fd, bool read, bool write, bool client) {
        if (watched.fd != fd) {
            unwatch(watched.fd);
            watched.fd = fd;
        }
        if (fd < 0) {
            return;
        }
        if (read != watched.read) {
            if (read) {
                loop().add_reader(fd, [this, client] {
                    client ? relay_.client_ready(true, false) : relay_.upstream_ready(true, false);
                    woken();
                });
            } else {
                loop().remove_reader(fd);
            }
            watched.read = read;
        }
        if (write != watched.write) {
            if (write) {
                loop().add_writer(fd, [this, client] {
                    client ? relay_.client_ready(false, true) : relay_.upstream_ready(false, true);
                    woken();
                });
            } else {
                loop().remove_writer(fd);
            }
            watched.write = write;
        }
    }

    void unwatch(int fd) noexcept {
        for (Watched* watched : {&client_, &upstream_}) {
            if (fd >= 0 && watched->fd == fd) {
                if (watched->read) {
                    loop().remove_reader(fd);
                }
                if (watched->write) {
                    loop().remove_writer(fd);
                }
                *watched = Watched{};
            }
        }
    }

protected:
    LoopSessions& sessions_;
    net::Socket socket_;
    SessionRecord record_;
    ProxyRelay relay_;

private:
    Watched client_;
    Watched upstream_;
    Timer timer_{loop(), [this] { woken(); }};  // last: cancelled before what its callback uses goes
};

class ProxyCallbackSession final : public ProxyLoopSession {
public:
    using ProxyLoopSession::ProxyLoopSession;

    void start() override { advance(); }

private:
    void woken() override { advance(); }
};

class ProxyCoroutineSession final : public ProxyLoopSession {
public:
    using ProxyLoopSession::ProxyLoopSession;

    void start() override {
        task_.start(loop(), serve(),
                    [this](const std::exception_ptr& error) { sessions_.failed(*this, record_, error); });
    }

private:
    /// Resumes the task from the loop's callback that woke it.
    struct Wake {
        ProxyCoroutineSession& session;
        bool await_ready() const noexcept { return false; }
        template <class Promise>
        void await_suspend(std::coroutine_handle<Promise> awaiting) {
            session.resume_.emplace(awaiting);
        }
        void await_resume() const noexcept {}
    };

    // The session is destroyed by advance() when the relay has ended, and the coroutine returns at
    // once, touching nothing; its frame goes when it suspends for the last time.
    Task<void> serve() {
        while (advance()) {
            co_await Wake{*this};
        }
    }

    void woken() override {
        if (resume_) {
            const detail::Resumer resume = std::move(*resume_);
            resume_.reset();
            resume();
        }
    }

    std::optional<detail::Resumer> resume_;
    SessionTask task_;  // last: destroyed first, with the coroutine, while the rest is whole
};

}  // namespace

std::unique_ptr<LoopClient> make_callback_proxy_session(LoopSessions& sessions, net::Socket socket, std::string peer,
                                                        ClientSlot slot, const Listener& listener,
                                                        std::uint64_t number) {
    return std::make_unique<ProxyCallbackSession>(sessions, std::move(socket), std::move(peer), std::move(slot),
                                                  listener, number);
}

std::unique_ptr<LoopClient> make_coroutine_proxy_session(LoopSessions& sessions, net::Socket socket,
                                                         std::string peer, ClientSlot slot, const Listener& listener,
                                                         std::uint64_t number) {
    return std::make_unique<ProxyCoroutineSession>(sessions, std::move(socket), std::move(peer), std::move(slot),
                                                   listener, number);
}

}  // namespace poetry::server
