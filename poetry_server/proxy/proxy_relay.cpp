#include "proxy/proxy_relay.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>

#include "poetry/detail/syscall.hpp"

namespace poetry::server {
namespace {

/// Room for what has come from the upstream but not left for the client: a chunk or two, so that a
/// slow schedule holds little, within bounds that keep a big --num-bytes from costing megabytes per
/// client (a chunk is then what the buffer holds when it is due).
std::size_t downstream_capacity(const Listener& listener) {
    const std::size_t chunk = listener.num_bytes + static_cast<std::size_t>(listener.faults.size_jitter);
    return listener.delay.count() == 0 ? 1 << 20 : std::clamp<std::size_t>(chunk, 4096, 65536);
}

/// Room for what the client sends before the upstream takes it.
constexpr std::size_t upstream_capacity = 16384;

}  // namespace

ProxyRelay::ProxyRelay(net::Socket& client, SessionRecord& record, const Listener& listener, ServerLog& log,
                       ClosingFd closing)
    : client_(client),
      record_(record),
      listener_(listener),
      log_(log),
      closing_(std::move(closing)),
      downstream_pace_(listener.schedule(record.client().faults, record.client().start)),
      // Unpaced, the proxy's fast path: spliced through a pipe. Paced, it has time, and the chunks
      // are small: a buffer costs no fds.
      downstream_(downstream_capacity(listener),
                  listener.delay.count() == 0 ? RelayBuffer::Kind::pipe : RelayBuffer::Kind::memory),
      upstream_bytes_(upstream_capacity) {
    if (const auto& pace = listener.upstream->pace()) {
        upstream_pace_.emplace(ChunkSchedule(unknown_size, pace->num_bytes, to_nanoseconds(pace->delay), no_faults_,
                                             record.client().start));
    }
}

ProxyRelay::~ProxyRelay() {
    close_upstream();
}

void ProxyRelay::client_ready(bool readable, bool writable) noexcept {
    client_readable_ = client_readable_ || readable;
    client_writable_ = client_writable_ || writable;
}

void ProxyRelay::upstream_ready(bool readable, bool writable) noexcept {
    upstream_readable_ = upstream_readable_ || readable;
    upstream_writable_ = upstream_writable_ || writable;
}

void ProxyRelay::step(TimePoint now) {
    if (ended_) {
        return;
    }
    if (!attempts_) {
        start_connect(now);
    } else if (connecting_) {
        continue_connect(now);
    }
    // Each part may end the session; none of them acts once it has ended.
    read_client();
    if (connected_ && !ended_) {
        write_upstream(now);
    }
    if (connected_ && !ended_) {
        read_upstream();
    }
    if (!ended_) {
        write_client(now);
    }
    if (!ended_ && client_shut_ && upstream_shut_) {
        record_.end(SessionEnd::finished);
        end();
    }
}

RelayInterest ProxyRelay::interest() const noexcept {
    RelayInterest wanted;
    if (ended_) {
        return wanted;
    }
    const auto wake_by = [&wanted](TimePoint when) {
        wanted.wake_at = wanted.wake_at ? std::min(*wanted.wake_at, when) : when;
    };
    wanted.client_read = !client_eof_ && (hanging_ || !upstream_bytes_.full());
    wanted.client_write = downstream_pace_.in_chunk() && !client_writable_;
    if (connecting_) {
        wanted.upstream_write = true;  // how a non-blocking connect ends
        wake_by(connect_deadline_);
    }
    if (connected_) {
        wanted.upstream_read = !upstream_eof_ && !downstream_.full();
        wanted.upstream_write = !upstream_writable_ && (upstream_pace_ ? upstream_pace_->in_chunk()
                                                                       : !upstream_bytes_.empty());
        if (upstream_pace_) {
            if (const auto due = upstream_pace_->wake_at(upstream_bytes_.size())) {
                wake_by(*due);
            }
        }
    }
    if (const auto due = downstream_pace_.wake_at(downstream_.size()); due && !hanging_) {
        wake_by(*due);
    }
    if (close_at_ && !client_shut_) {
        wake_by(*close_at_);
    }
    return wanted;
}

void ProxyRelay::interrupt() noexcept {
    if (ended_) {
        return;
    }
    if (hanging_) {
        record_.cut(FaultKind::hang_after, "until the server stopped");
    } else {
        record_.end(SessionEnd::interrupted, "server stopping");
    }
    end();
}

void ProxyRelay::start_connect(TimePoint now) {
    attempts_.emplace(listener_.upstream->address(), listener_.upstream->endpoints());
    connect_deadline_ = now + listener_.upstream->connect_timeout();
    connecting_ = true;
    continue_connect(now);
}

void ProxyRelay::continue_connect(TimePoint now) {
    std::error_code ec;
    if (upstream_.fd() >= 0) {
        if (!net::continue_connect(upstream_, ec)) {
            if (now >= connect_deadline_) {
                upstream_failed(attempts_->address().to_string() + ": no answer to connect in " +
                                    format_number(std::chrono::duration<double>(
                                                      listener_.upstream->connect_timeout())
                                                      .count()) +
                                    " s (--upstream-timeout)",
                                true);
            }
            return;
        }
        if (!ec) {
            connecting_ = false;
            connected_ = true;
            upstream_readable_ = upstream_writable_ = true;
            upstream_.set_nodelay(true, ec);  // what the client sends is passed on at once
            listener_.upstream->reached();
            return;
        }
        attempts_->failed(ec);
        close_upstream();
    }
    // The next address the name resolved to, if any.
    while (const net::Endpoint* endpoint = attempts_->next()) {
        upstream_ = net::start_connect(*endpoint, ec);
        if (!ec || ec == std::errc::operation_in_progress) {
            continue_connect(now);  // at once on loopback, often
            return;
        }
        attempts_->failed(ec);
    }
    upstream_failed(attempts_->exception().what(), true);
}

void ProxyRelay::read_client() {
    std::array<std::byte, 4096> discarded;  // while hanging, the upstream is gone: only leaving counts
    while (client_readable_ && !client_eof_ && (hanging_ || !upstream_bytes_.full())) {
        std::error_code ec;
        const std::size_t n = hanging_ ? client_.recv(discarded, ec, MSG_DONTWAIT) : upstream_bytes_.fill_from(client_, ec);
        if (detail::is_would_block(ec)) {
            client_readable_ = false;
        } else if (ec) {
            client_left(ec.message());
            return;
        } else if (n == 0) {
            client_eof_ = true;
            if (hanging_) {
                client_left({});
                return;
            }
        }
    }
}

void ProxyRelay::write_upstream(TimePoint now) {
    while (upstream_writable_) {
        const std::size_t allowed =
            upstream_pace_ ? upstream_pace_->may_send(now, upstream_bytes_.size()) : upstream_bytes_.size();
        if (allowed == 0) {
            break;
        }
        std::error_code ec;
        const std::size_t n = upstream_bytes_.drain_to(upstream_, allowed, ec);
        if (detail::is_would_block(ec)) {
            upstream_writable_ = false;
            return;
        }
        if (ec) {
            if (client_shut_) {
                // The upstream's whole stream has been relayed and it has gone: what the client still
                // sends has nowhere to go, and the exchange is over.
                upstream_bytes_.clear();
                upstream_shut_ = true;
                return;
            }
            upstream_failed(listener_.upstream->address().to_string() + ": " + ec.message(), false);
            return;
        }
        if (upstream_pace_ && upstream_pace_->sent(n)) {
            upstream_pace_->next();
        }
    }
    if (client_eof_ && upstream_bytes_.empty() && !upstream_shut_) {
        // The half-close, passed on: a request/response service sees the end of the request.
        std::error_code ignored;
        upstream_.shutdown(SHUT_WR, ignored);
        upstream_shut_ = true;
    }
}

void ProxyRelay::read_upstream() {
    while (upstream_readable_ && !upstream_eof_ && !hanging_ && !downstream_.full()) {
        std::error_code ec;
        const std::size_t n = downstream_.fill_from(upstream_, ec);
        if (detail::is_would_block(ec)) {
            upstream_readable_ = downstream_.full();  // a full pipe refused, not an empty socket
            break;
        }
        if (ec || n == 0) {
            // Its end, or its failure (a reset): either way the stream ends after what has come, which
            // the client still gets, paced, before the end is passed on.
            if (ec) {
                upstream_error_ = listener_.upstream->address().to_string() + ": " + ec.message();
            }
            upstream_eof_ = true;
            downstream_pace_.schedule().source_ended(downstream_pace_.taken() + downstream_.size());
        }
    }
}

void ProxyRelay::write_client(TimePoint now) {
    ChunkSchedule& chunks = downstream_pace_.schedule();
    while (!hanging_ && !client_shut_ && client_writable_) {
        const std::size_t allowed = downstream_pace_.may_send(now, downstream_.size());
        if (allowed == 0) {
            break;
        }
        std::error_code ec;
        const std::size_t n = downstream_.drain_to(client_, allowed, ec);
        if (detail::is_would_block(ec)) {
            client_writable_ = false;
            break;
        }
        if (ec) {
            client_left(ec.message());
            return;
        }
        if (downstream_pace_.sent(n)) {
            const std::size_t chunk = downstream_pace_.chunk();
            record_.add_sent(chunk);
            record_.chunk_left(chunks.due());
            log_.chunk_sent(record_.client(), chunk, chunks.index(), chunks.due());
            downstream_pace_.next();
        }
    }
    if (chunks.done() && !hanging_ && !client_shut_) {
        downstream_done(now);
    }
}

void ProxyRelay::downstream_done(TimePoint now) {
    if (const auto cut = downstream_pace_.schedule().cut()) {
        switch (cut->kind) {
            case FaultKind::reset_after: {
                // RST instead of FIN: SO_LINGER with a zero timeout makes close(2) abort the connection.
                const linger abort_on_close{1, 0};
                ::setsockopt(client_.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
                record_.cut(FaultKind::reset_after);
                end();
                return;
            }
            case FaultKind::hang_after:
                hanging_ = true;
                close_upstream();
                upstream_bytes_.clear();
                if (client_eof_) {
                    client_left({});  // it has gone already: nothing could tell us later
                }
                return;
            default: {
                std::error_code ignored;
                client_.shutdown(SHUT_WR, ignored);
                record_.cut(FaultKind::close_after);
                end();
                return;
            }
        }
    }
    if (upstream_error_) {
        upstream_failed(*upstream_error_, false);
        return;
    }
    // The upstream's whole stream has been relayed: its FIN follows, after the slow close if asked.
    if (const auto slow_close = record_.client().faults.slow_close(); slow_close.count() > 0) {
        if (!close_at_) {
            close_at_ = now + slow_close;
            record_.fault_acted(FaultKind::slow_close);
        }
        if (now < *close_at_) {
            return;
        }
    }
    std::error_code ignored;
    client_.shutdown(SHUT_WR, ignored);
    client_shut_ = true;
}

void ProxyRelay::upstream_failed(const std::string& cause, bool connecting) {
    if (connecting) {
        if (listener_.upstream->failure_is_news(cause)) {
            log_.error("upstream of " + listener_.endpoint.to_string() + ": " + cause +
                       "; closing its clients until it answers");
        }
    } else {
        // Mid-stream: a FIN would let the client take a cut stream for a whole one.
        const linger abort_on_close{1, 0};
        ::setsockopt(client_.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
    }
    record_.end(SessionEnd::upstream_failed, cause);
    end();
}

void ProxyRelay::client_left(const std::string& reason) {
    if (client_shut_) {
        // Everything reached it, FIN included: how it then closes (a reset, with unread bytes) is its own affair.
        record_.end(SessionEnd::finished);
    } else if (hanging_) {
        record_.cut(FaultKind::hang_after,
                    reason.empty() ? "until the client left" : "until the client left (" + reason + ")");
    } else {
        record_.end(SessionEnd::dropped, reason.empty() ? "the client left" : reason);
    }
    end();
}

void ProxyRelay::close_upstream() noexcept {
    if (upstream_.fd() >= 0) {
        if (closing_) {
            closing_(upstream_.fd());
        }
        upstream_.close();
    }
    connecting_ = connected_ = false;
}

void ProxyRelay::end() noexcept {
    close_upstream();
    ended_ = true;
}

}  // namespace poetry::server
