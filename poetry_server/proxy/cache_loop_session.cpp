// A --cache proxy's client on the library's loop while the cache is being filled: it asks the cache
// every 10 ms (a fetch is short and rare, and a check costs a lock), then becomes a poem's session.
#include <chrono>
#include <optional>

#include "loop_session.hpp"
#include "poetry/loop/timer.hpp"

namespace poetry::server {
namespace {

constexpr auto check_every = std::chrono::milliseconds(10);

class CacheWaitSession final : public LoopClient {
public:
    CacheWaitSession(LoopSessions& sessions, net::Socket socket, std::string peer, ClientSlot slot,
                     const Listener& listener, std::uint64_t number, SessionFactory serve_poem)
        : sessions_(sessions),
          socket_(std::move(socket)),
          peer_(std::move(peer)),
          slot_(std::move(slot)),
          listener_(listener),
          number_(number),
          serve_poem_(serve_poem),
          started_(Clock::now()) {}

    void start() override {
        ticket_ = listener_.cache->request();
        check();
    }

    void interrupt() noexcept override { end(SessionEnd::interrupted, "server stopping"); }

private:
    void check() {
        const UpstreamCache::Outcome outcome = listener_.cache->outcome(ticket_);
        if (outcome.served_as != nullptr) {
            LoopSessions& sessions = sessions_;
            sessions.start(serve_poem_(sessions, std::move(socket_), std::move(peer_), std::move(*slot_),
                                       *outcome.served_as, number_));
            sessions.erase(*this);
            return;
        }
        if (outcome.failure) {
            end(SessionEnd::upstream_failed, *outcome.failure);
            sessions_.erase(*this);
            return;
        }
        timer_.arm_after(check_every);
    }

    /// Records the session that never began, as `how`: it is counted and logged like any other.
    void end(SessionEnd how, const std::string& reason) noexcept {
        if (slot_) {
            SessionRecord record(ClientInfo{peer_, &listener_, started_, ConnectionFaults()}, std::move(*slot_),
                                 sessions_.context().stats, sessions_.context().log);
            record.end(how, reason);
            slot_.reset();
        }
    }

    LoopSessions& sessions_;
    net::Socket socket_;
    std::string peer_;
    std::optional<ClientSlot> slot_;
    const Listener& listener_;
    std::uint64_t number_;
    SessionFactory serve_poem_;
    TimePoint started_;
    std::uint64_t ticket_ = 0;
    Timer timer_{sessions_.loop(), [this] { check(); }};
};

}  // namespace

std::unique_ptr<LoopClient> make_cache_wait_session(LoopSessions& sessions, net::Socket socket, std::string peer,
                                                    ClientSlot slot, const Listener& listener, std::uint64_t number,
                                                    SessionFactory serve_poem) {
    return std::make_unique<CacheWaitSession>(sessions, std::move(socket), std::move(peer), std::move(slot),
                                              listener, number, serve_poem);
}

}  // namespace poetry::server
