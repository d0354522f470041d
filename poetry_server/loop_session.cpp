#include "loop_session.hpp"

#include <sys/socket.h>

#include <utility>
#include <vector>

#include "describe_exception.hpp"
#include "poetry/detail/syscall.hpp"
#include "poetry/loop/clock.hpp"

namespace poetry::server {


void LoopSessions::start(std::unique_ptr<LoopClient> session) {
    LoopClient& started = *session;
    sessions_.emplace(&started, std::move(session));
    started.start();  // may end the session at once (a --close-after 0, a client already gone)
}

void LoopSessions::erase(LoopClient& session) noexcept {
    const auto it = sessions_.find(&session);
    if (it != sessions_.end()) {
        // Out of the map first, then destroyed: its destruction may not find itself half-erased.
        auto owned = std::move(it->second);
        sessions_.erase(it);
    }
}

void LoopSessions::failed(LoopClient& session, SessionRecord& record, const std::exception_ptr& error) {
    context_.log.error(unexpected_error(error));
    record.end(SessionEnd::dropped, "unexpected error");
    erase(session);
}

void LoopSessions::interrupt_all() noexcept {
    stopping_ = true;
    auto all = std::move(sessions_);
    sessions_.clear();
    for (auto& [session, owned] : all) {
        session->interrupt();
    }
    all.clear();  // each record logs its session here
}

LoopSession::LoopSession(LoopSessions& sessions, net::Socket socket, std::string peer, ClientSlot slot,
                const Listener& listener,
                         std::uint64_t number)
    : sessions_(sessions),
      socket_(std::move(socket)),
      record_(ClientInfo{std::move(peer), &listener, Clock::now(), listener.connection_faults(number)},
              std::move(slot), sessions.context().stats, sessions.context().log),
      listener_(listener),
      chunks_(listener.schedule(record_.client().faults, record_.client().start)) {
    std::error_code ignored;
    socket_.set_nodelay(true, ignored);
    loop().add_reader(socket_.fd(), [this] { on_readable(); });
}

LoopSession::~LoopSession() {
    // Before the socket closes: the selector must not keep an fd that is about to be reused.
    loop().remove_reader(socket_.fd());
    loop().remove_writer(socket_.fd());
}

void LoopSession::on_readable() {
    std::error_code ec;
    const std::size_t n = socket_.recv(sessions_.sink(), ec, MSG_DONTWAIT);
    if (detail::is_would_block(ec) || n > 0) {
        return;
    }
    if (ec) {
        client_left(ec.message());
        return;
    }
    // End of stream: the client will send no more, but may still be reading. Stop watching, or a
    // level-triggered selector would report the end of stream on every pass.
    input_ended_ = true;
    loop().remove_reader(socket_.fd());
    if (hanging_) {
        client_left({});
    }
}

void LoopSession::client_left(const std::string& reason) {
    if (hanging_) {
        record_.cut(FaultKind::hang_after,
                    reason.empty() ? "until the client left" : "until the client left (" + reason + ")");
    } else {
        record_.end(SessionEnd::dropped, reason);
    }
    sessions_.erase(*this);
}

void LoopSession::send_failed(const std::error_code& ec) {
    record_.end(SessionEnd::dropped, ec.message());
    sessions_.erase(*this);
}

void LoopSession::interrupt() noexcept {
    if (hanging_) {
        record_.cut(FaultKind::hang_after, "until the server stopped");
    } else {
        record_.end(SessionEnd::interrupted, "server stopping");
    }
}

void LoopSession::chunk_sent(std::size_t bytes) noexcept {
    record_.add_sent(bytes);
    record_.chunk_left(chunks_.due());
    sessions_.context().log.chunk_sent(record_.client(), bytes, chunks_.index(), chunks_.due());
}

bool LoopSession::poem_sent() {
    const auto cut = chunks_.cut();
    if (cut && cut->kind == FaultKind::reset_after) {
        // RST instead of FIN: SO_LINGER with a zero timeout makes close(2) abort the connection.
        const linger abort_on_close{1, 0};
        ::setsockopt(socket_.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
        record_.cut(FaultKind::reset_after);
        sessions_.erase(*this);
        return true;
    }
    if (cut && cut->kind == FaultKind::hang_after) {
        hanging_ = true;
        if (input_ended_) {
            client_left({});  // it has gone already: nothing could tell us later
            return true;
        }
        return false;  // until the reader sees it leave, or the server stops
    }
    if (record_.client().faults.slow_close().count() > 0) {
        record_.fault_acted(FaultKind::slow_close);
        return false;
    }
    close();
    return true;
}

void LoopSession::close() {
    std::error_code ignored;
    socket_.shutdown(SHUT_WR, ignored);
    if (chunks_.cut()) {
        record_.cut(FaultKind::close_after);
    } else {
        record_.end(SessionEnd::finished);
    }
    sessions_.erase(*this);
}

}  // namespace poetry::server
