// --mode coroutines: a session is a Task on the loop, written top to bottom like the blocking session:
// sleep until the chunk is due, send it (waiting for room if the socket is full), and at the end do
// what the fault asks. The client's leaving and the server's stop end it from outside: the session is
// destroyed, and with it the suspended coroutine, whose awaiters unregister as they go.
#include <memory>
#include <optional>

#include "loop_session.hpp"
#include "poetry/coro/awaitables.hpp"
#include "poetry/coro/create_task.hpp"
#include "poetry/detail/syscall.hpp"
#include "session_task.hpp"

namespace poetry::server {
namespace {

class CoroutineSession final : public LoopSession {
public:
    using LoopSession::LoopSession;

    void start() override {
        task_.start(loop(), serve(),
                    [this](const std::exception_ptr& error) { sessions_.failed(*this, record_, error); });
    }

private:
    // Every path ends with the session destroyed (by close(), send_failed() or poem_sent()) and then
    // co_return at once: the frame is destroyed when it suspends for the last time, and nothing in it
    // touches the session after that.
    Task<void> serve() {
        for (; !chunks_.done(); chunks_.next()) {
            if (chunks_.must_wait()) {
                co_await sleep_until(loop(), chunks_.due());
            }
            const std::size_t size = chunks_.size();
            std::size_t written = 0;
            while (written < size) {
                std::error_code ec;
                written += listener_.poem->send(socket_.fd(), chunks_.offset() + written, size - written, ec);
                if (detail::is_would_block(ec)) {
                    co_await writable(loop(), socket_.fd());
                } else if (ec) {
                    send_failed(ec);
                    co_return;
                }
            }
            chunk_sent(size);
        }
        if (poem_sent()) {
            co_return;
        }
        if (hanging()) {
            // Nothing resumes this: the client's leaving or the stop destroys the session.
            co_await Future<void>(loop());
        }
        co_await sleep(loop(), record_.client().faults.slow_close());
        close();
    }

    SessionTask task_;  // last: destroyed first, with the coroutine, while the rest is whole
};

}  // namespace

std::unique_ptr<LoopClient> make_coroutine_session(LoopSessions& sessions, net::Socket socket,
                                                    std::string peer, ClientSlot slot, const Listener& listener,
                                                    std::uint64_t number) {
    return std::make_unique<CoroutineSession>(sessions, std::move(socket), std::move(peer), std::move(slot), listener,
                                              number);
}

}  // namespace poetry::server
