// --mode callbacks: a session is an object whose callbacks the loop calls: its Timer when a chunk is
// due (or the slow close is over), its writer when a full socket has room again. The per-chunk path
// is one timer-heap operation and one send: no allocation, no kernel timer.
#include <memory>

#include "loop_session.hpp"
#include "poetry/detail/syscall.hpp"
#include "poetry/loop/timer.hpp"

namespace poetry::server {
namespace {

class CallbackSession final : public LoopSession {
public:
    using LoopSession::LoopSession;

    void start() override { send_due_chunks(); }

private:
    /// Sends every chunk that is due, up to the first that must wait (then arms the timer for it) or a
    /// full socket (then waits for room).
    void send_due_chunks() {
        while (!chunks_.done()) {
            if (chunks_.must_wait() && written_ == 0 && !due_reached_) {
                due_reached_ = true;
                timer_.arm_at(chunks_.due());
                return;
            }
            const std::size_t size = chunks_.size();
            std::error_code ec;
            written_ += listener_.poem->send(socket_.fd(), chunks_.offset() + written_, size - written_, ec);
            if (detail::is_would_block(ec)) {
                loop().add_writer(socket_.fd(), [this] {
                    loop().remove_writer(socket_.fd());
                    send_due_chunks();
                });
                return;
            }
            if (ec) {
                send_failed(ec);
                return;
            }
            if (written_ < size) {
                continue;  // the socket took part of it: try the rest at once
            }
            chunk_sent(size);
            written_ = 0;
            due_reached_ = false;
            chunks_.next();
        }
        if (!poem_sent() && !hanging()) {
            // The slow close: the FIN waits on the same timer.
            closing_ = true;
            timer_.arm_after(record_.client().faults.slow_close());
        }
    }

    void on_timer() {
        if (closing_) {
            close();
            return;
        }
        send_due_chunks();
    }

    Timer timer_{loop(), [this] { on_timer(); }};
    std::size_t written_ = 0;   // of the current chunk, when the socket took only part of it
    bool due_reached_ = false;  // the current chunk's time has come (the timer for it fired)
    bool closing_ = false;      // past the last chunk, waiting out the slow close
};

}  // namespace

std::unique_ptr<LoopClient> make_callback_session(LoopSessions& sessions, net::Socket socket, std::string peer,
                                                   ClientSlot slot, const Listener& listener, std::uint64_t number) {
    return std::make_unique<CallbackSession>(sessions, std::move(socket), std::move(peer), std::move(slot), listener,
                                             number);
}

}  // namespace poetry::server
