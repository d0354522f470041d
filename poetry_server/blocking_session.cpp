#include "blocking_session.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <system_error>

#include "poetry/detail/syscall.hpp"

namespace poetry::server {
namespace {

using Clock = std::chrono::steady_clock;

/// poll(2) that retries EINTR; `timeout` < 0 waits forever.
int wait(pollfd* fds, nfds_t count, Clock::duration timeout) {
    const int ms = timeout < Clock::duration::zero()
                       ? -1
                       : static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(timeout).count());
    std::error_code ec;
    return detail::retry_on_eintr(ec, [&] { return ::poll(fds, count, ms); });
}

bool out_of_fds(const std::error_code& ec) {
    return ec == std::errc::too_many_files_open || ec == std::errc::too_many_files_open_in_system;
}

/// Errors that concern one connection only, or none: accept again at once.
bool retry_at_once(const std::error_code& ec) {
    return detail::is_would_block(ec) || ec == std::errc::connection_aborted ||
           ec == std::errc::protocol_error;
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

void serve_client_blocking(net::Socket client, std::string peer, const Listener& listener,
                           ServeContext& context, ClientRegistry& registry) {
    SessionRecord record(ClientInfo{std::move(peer), &listener, Clock::now()}, context.stats, context.log);
    const Registration registration(registry, client.fd());
    std::error_code ec;
    client.set_nonblocking(false, ec);  // accepted sockets do not inherit O_NONBLOCK on Linux; be sure
    client.set_nodelay(true, ec);

    const auto end_early = [&](const std::string& reason) {
        const bool stopping = context.stop.requested();
        record.end(stopping ? SessionEnd::interrupted : SessionEnd::dropped,
                   stopping ? "server stopping" : reason);
    };

    std::array<std::byte, 4096> sink;
    bool client_sending = true;
    std::size_t offset = 0;
    for (std::size_t index = 0; offset < listener.poem->size(); ++index) {
        // Until this chunk is due: watch for the stop signal, and drain what the client sends.
        const auto due = listener.chunk_due(record.client().start, index);
        for (;;) {
            // Once the client has ended its side, its fd leaves the set: poll() would report POLLHUP
            // for it on every call, whatever the events asked for, and this wait would spin.
            std::array<pollfd, 2> fds{
                {{context.stop.fd(), POLLIN, 0}, {client_sending ? client.fd() : -1, POLLIN, 0}}};
            wait(fds.data(), fds.size(), std::max(due - Clock::now(), Clock::duration::zero()));
            if (fds[0].revents != 0) {
                record.end(SessionEnd::interrupted, "server stopping");
                return;
            }
            if (fds[1].revents != 0) {
                const std::size_t n = client.recv(sink, ec, MSG_DONTWAIT);
                if (ec && !detail::is_would_block(ec)) {
                    end_early(ec.message());
                    return;
                }
                // End of stream: the client sends no more, but may still be reading.
                client_sending = n > 0 || static_cast<bool>(ec);
            }
            if (Clock::now() >= due) {
                break;
            }
        }
        const std::size_t size = std::min(listener.num_bytes, listener.poem->size() - offset);
        std::size_t sent = 0;
        while (sent < size && !ec) {  // a blocking sendfile may still send less than asked
            sent += listener.poem->send(client.fd(), offset + sent, size - sent, ec);
        }
        record.add_sent(sent);
        offset += sent;
        if (ec) {
            end_early(ec.message());
            return;
        }
        record.chunk_left(listener.chunk_due(record.client().start, index));
        context.log.chunk_sent(record.client(), sent, index);
    }
    client.shutdown(SHUT_WR, ec);
    record.end(SessionEnd::finished);
}

void accept_clients(Listener& listener, ServeContext& context, const ServeClient& serve) {
    std::error_code ec;
    // Non-blocking, so that a client that resets between poll() and accept() cannot block this thread.
    listener.socket.set_nonblocking(true, ec);
    bool paused = false;
    for (;;) {
        std::array<pollfd, 2> fds{{{context.stop.fd(), POLLIN, 0}, {listener.socket.fd(), POLLIN, 0}}};
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
                context.log.accept_paused(listener, ec, out_of_fds(ec));
                paused = true;
            }
            pollfd stop{context.stop.fd(), POLLIN, 0};
            wait(&stop, 1, std::chrono::milliseconds(100));
            continue;
        }
        if (ec) {
            continue;
        }
        paused = false;
        if (context.refuse_if_full(peer.to_string(), listener)) {
            continue;
        }
        serve(std::move(client), peer.to_string());
    }
}

void wait_for_stop(const StopSignal& stop) {
    pollfd fd{stop.fd(), POLLIN, 0};
    while (wait(&fd, 1, Clock::duration(-1)) <= 0) {
    }
}

}  // namespace poetry::server
