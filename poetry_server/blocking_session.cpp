#include "blocking_session.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <optional>
#include <system_error>

#include "poetry/detail/syscall.hpp"
#include "poetry/loop/clock.hpp"
#include "poetry/net/errors.hpp"

namespace poetry::server {
namespace {


/// poll(2) that retries EINTR; `timeout` < 0 waits forever (and one beyond poll's range, 24 days,
/// wakes early: callers loop until their time has come).
int wait(pollfd* fds, nfds_t count, Clock::duration timeout) {
    const int ms = timeout < Clock::duration::zero()
                       ? -1
                       : static_cast<int>(std::min<std::chrono::milliseconds::rep>(
                             std::chrono::ceil<std::chrono::milliseconds>(timeout).count(),
                             std::numeric_limits<int>::max()));
    std::error_code ec;
    return detail::retry_on_eintr(ec, [&] { return ::poll(fds, count, ms); });
}

/// Errors that concern one connection only, or none: accept again at once.
bool retry_at_once(const std::error_code& ec) {
    return detail::is_would_block(ec) || net::is_aborted_accept(ec);
}

/// Registers a session's fd for the lifetime of the session.
struct Registration {
    Registration(ClientRegistry& registry, int fd) : registry_(registry), fd_(fd) { registry_.add(fd_); }
    ~Registration() { registry_.remove(fd_); }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

private:
    ClientRegistry& registry_;
    int fd_;
};

/// What ended a session's wait.
enum class Woken { time, stop, client_gone };

/// A session's client and the stop signal, watched while the session waits: for a chunk's time, for
/// the slow close, or through a hang.
class Watch {
public:
    Watch(net::Socket& client, const StopSignal& stop) noexcept : client_(client), stop_(stop) {}

    /// Waits until `until` (time_point::max(): for ever), draining what the client sends. The client's
    /// end of stream means it sends no more, but may still be reading; with `end_of_stream_is_gone`
    /// (a hang, where the server sends nothing that could tell) it counts as gone.
    Woken until(TimePoint until, bool end_of_stream_is_gone) {
        for (;;) {
            if (!client_sending_ && end_of_stream_is_gone) {
                return Woken::client_gone;
            }
            // Once the client has ended its side, its fd leaves the set: poll() would report POLLHUP
            // for it on every call, whatever the events asked for, and this wait would spin.
            std::array<pollfd, 2> fds{
                {{stop_.fd(), POLLIN, 0}, {client_sending_ ? client_.fd() : -1, POLLIN, 0}}};
            wait(fds.data(), fds.size(),
                 until == TimePoint::max() ? Clock::duration(-1)
                                                   : std::max(until - Clock::now(), Clock::duration::zero()));
            if (fds[0].revents != 0) {
                return Woken::stop;
            }
            if (fds[1].revents != 0) {
                const std::size_t n = client_.recv(sink_, error_, MSG_DONTWAIT);
                if (error_ && !detail::is_would_block(error_)) {
                    return Woken::client_gone;
                }
                client_sending_ = n > 0 || static_cast<bool>(error_);
                error_.clear();
            }
            if (Clock::now() >= until) {
                return Woken::time;
            }
        }
    }

    /// Why the client is gone (clear if it ended its stream).
    [[nodiscard]] const std::error_code& error() const noexcept { return error_; }

private:
    net::Socket& client_;
    const StopSignal& stop_;
    bool client_sending_ = true;
    std::error_code error_;
    std::array<std::byte, 4096> sink_;
};

}  // namespace

void ClientRegistry::add(int fd) {
    const std::lock_guard lock(mutex_);
    fds_.insert(fd);
    if (stopping_) {
        ::shutdown(fd, SHUT_RDWR);
    }
}

void ClientRegistry::remove(int fd) {
    const std::lock_guard lock(mutex_);
    fds_.erase(fd);
}

void ClientRegistry::stop_all() {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    for (const int fd : fds_) {
        ::shutdown(fd, SHUT_RDWR);
    }
}

void serve_client_blocking(net::Socket client, std::string peer, std::uint64_t number, ClientSlot slot,
                           const Listener& listener, ServeContext& context, ClientRegistry& registry) {
    SessionRecord record(
        ClientInfo{std::move(peer), &listener, Clock::now(), listener.connection_faults(number)},
        std::move(slot), context.stats, context.log);
    const Registration registration(registry, client.fd());
    std::error_code ec;
    client.set_nonblocking(false, ec);  // accepted sockets do not inherit O_NONBLOCK on Linux; be sure
    client.set_nodelay(true, ec);

    Watch watch(client, context.stop);
    const auto end_early = [&](const std::string& reason) {
        const bool stopping = context.stop.requested();
        record.end(stopping ? SessionEnd::interrupted : SessionEnd::dropped,
                   stopping ? "server stopping" : reason);
    };
    // Waits until `until`, watching for the stop signal and draining what the client sends; false
    // (and the session's end recorded) if the stop or the client's leaving came first.
    const auto waited = [&](TimePoint until) {
        switch (watch.until(until, false)) {
            case Woken::stop:
                record.end(SessionEnd::interrupted, "server stopping");
                return false;
            case Woken::client_gone:
                end_early(watch.error().message());
                return false;
            case Woken::time:
                break;
        }
        return true;
    };

    auto chunks = listener.schedule(record.client().faults, record.client().start);
    for (; !chunks.done(); chunks.next()) {
        if (!waited(chunks.due())) {
            return;
        }
        const std::size_t size = chunks.size();
        std::size_t sent = 0;
        while (sent < size && !ec) {  // a blocking sendfile may still send less than asked
            sent += listener.poem->send(client.fd(), chunks.offset() + sent, size - sent, ec);
        }
        record.add_sent(sent);
        if (ec) {
            end_early(ec.message());
            return;
        }
        record.chunk_left(chunks.due());
        context.log.chunk_sent(record.client(), sent, chunks.index(), chunks.due());
    }

    const auto cut = chunks.cut();
    if (cut && cut->kind == FaultKind::reset_after) {
        // RST instead of FIN: SO_LINGER with a zero timeout makes close(2) abort the connection. The
        // socket closes when this function returns, after its registration has gone.
        const linger abort_on_close{1, 0};
        ::setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
        record.cut(FaultKind::reset_after);
        return;
    }
    if (cut && cut->kind == FaultKind::hang_after) {
        const bool stopped = watch.until(TimePoint::max(), true) == Woken::stop;
        record.cut(FaultKind::hang_after, stopped ? "until the server stopped"
                                          : watch.error()
                                              ? "until the client left (" + watch.error().message() + ")"
                                              : "until the client left");
        return;
    }
    if (const auto slow_close = record.client().faults.slow_close(); slow_close.count() > 0) {
        record.fault_acted(FaultKind::slow_close);
        if (!waited(Clock::now() + slow_close)) {
            return;
        }
    }
    client.shutdown(SHUT_WR, ec);
    if (cut) {
        record.cut(FaultKind::close_after);
    } else {
        record.end(SessionEnd::finished);
    }
}

void accept_clients(Listener& listener, ServeContext& context, const ServeClient& serve) {
    std::error_code ec;
    // Non-blocking, so that a client that resets between poll() and accept() cannot block this thread.
    listener.socket.set_nonblocking(true, ec);
    bool paused = false;  // a shortage was logged; it lasts until nobody is waiting in the backlog
    for (;;) {
        std::array<pollfd, 2> fds{{{context.stop.fd(), POLLIN, 0}, {listener.socket.fd(), POLLIN, 0}}};
        if (paused && wait(fds.data(), fds.size(), Clock::duration::zero()) == 0) {
            paused = false;
        }
        wait(fds.data(), fds.size(), Clock::duration(-1));
        if (fds[0].revents != 0) {
            return;
        }
        net::Endpoint peer;
        net::Socket client = net::accept(listener.socket, ec, &peer);
        if (ec && !retry_at_once(ec)) {
            // Out of fds (or another failure that retrying at once would not cure): the connection stays
            // in the backlog and existing clients go on; try again after a pause, not in a spin.
            if (!paused) {
                context.log.accept_paused(listener, ec, net::is_out_of_fds(ec));
                paused = true;
            }
            pollfd stop{context.stop.fd(), POLLIN, 0};
            wait(&stop, 1, std::chrono::milliseconds(100));
            continue;
        }
        if (ec) {
            continue;
        }
        std::string name = peer.to_string();
        std::optional<ClientSlot> slot = context.admit(name, listener);
        if (!slot) {
            continue;
        }
        serve(std::move(client), std::move(name), context.number_next(listener), std::move(*slot));
    }
}

void wait_for_stop(const StopSignal& stop) {
    pollfd fd{stop.fd(), POLLIN, 0};
    while (wait(&fd, 1, Clock::duration(-1)) <= 0) {
    }
}

}  // namespace poetry::server
