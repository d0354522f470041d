// --mode async: one asio io_context on one thread; a coroutine per listener accepts, a coroutine per
// client streams the poem on an absolute schedule (expires_at, so timing errors never accumulate), with
// its faults if it has any, while another reads and discards what the client sends and notices when it
// goes. A proxied client is an AsyncProxySession (proxy_async_session.hpp).
#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <unordered_set>

#include "asio_support.hpp"
#include "describe_exception.hpp"
#include "poetry/detail/syscall.hpp"
#include "poetry/loop/clock.hpp"
#include "poetry/net/errors.hpp"
#include "proxy/proxy_async_session.hpp"
#include "serve.hpp"

namespace poetry::server {
namespace {

using asio::awaitable;
using asio::ip::tcp;
using asio_support::use_tuple;
using namespace asio::experimental::awaitable_operators;

constexpr auto accept_pause = std::chrono::milliseconds(100);
// Connections taken from the backlog per wake-up of an acceptor (nginx's multi_accept): one trip through
// the scheduler per connection cannot keep up with thousands of clients connecting at once, and once the
// backlog is full the kernel drops handshakes, which clients retry only a second later. Bounded, so that
// a storm of connections cannot hold up the chunks of the clients already served.
constexpr int accept_batch = 64;

/// `due` rounded up to the next whole millisecond of the clock. asio's reactor re-arms its timerfd
/// (timerfd_settime(2), a kernel hrtimer reprogrammed) each time it wakes for a timer: with thousands
/// of clients, each due at its own nanosecond, it woke once per chunk, and those calls were 14% of the
/// server's CPU at 2,000 clients. On a millisecond grid, the chunks due within one millisecond leave
/// on one wake-up, as they do on our own loop, whose epoll_wait counts in milliseconds; no chunk leaves
/// early, and the lateness reported is still against the true due time.
TimePoint on_wake_grid(TimePoint due) {
    return TimePoint(std::chrono::ceil<std::chrono::milliseconds>(due.time_since_epoch()));
}

std::string peer_of(const tcp::socket& socket) {
    std::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    return ec ? std::string("unknown peer")
              : net::Endpoint(endpoint.data(), static_cast<socklen_t>(endpoint.size())).to_string();
}

class AsyncServer {
public:
    explicit AsyncServer(ServeContext& context) : context_(context) {}

    void run() {
        for (Listener& listener : context_.listeners) {
            const auto protocol = listener.endpoint.family() == AF_INET6 ? tcp::v6() : tcp::v4();
            // A duplicate of the listening fd for each thread's acceptor, which owns and closes its own:
            // the socket stays the listener's, and every thread accepts on it.
            acceptors_.emplace_back(io_, protocol,
                                    asio_support::dup_for_asio(listener.socket.fd(), "the listening socket"));
            acceptors_.back().non_blocking(true);  // for the batch of synchronous accepts
        }
        for (std::size_t i = 0; i < acceptors_.size(); ++i) {
            spawn(accept_clients(acceptors_[i], context_.listeners[i]));
        }
        spawn(wait_for_stop());
        io_.run();
    }

private:
    template <class Awaitable>
    void spawn(Awaitable&& work) {
        asio::co_spawn(io_, std::forward<Awaitable>(work), [this](const std::exception_ptr& error) {
            if (error) {
                // Nothing may leave this handler: an exception here would end io_.run().
                context_.log.error(unexpected_error(error));
            }
        });
    }

    awaitable<void> wait_for_stop() {
        asio::posix::stream_descriptor stop(io_,
                                            asio_support::dup_for_asio(context_.stop.fd(), "the stop signalfd"));
        co_await stop.async_wait(asio::posix::stream_descriptor::wait_read, use_tuple);
        // Stop accepting, and end every session: their pending operations fail with operation_aborted.
        stopping_ = true;
        stopped_.cancel();
        for (auto& acceptor : acceptors_) {
            std::error_code ignored;
            acceptor.close(ignored);
        }
        for (tcp::socket* client : clients_) {
            std::error_code ignored;
            client->close(ignored);
        }
        for (AsyncProxySession* session : AsyncProxySessions(proxies_)) {  // a copy: each leaves the set
            interrupt(*session);
        }
    }

    awaitable<void> accept_clients(tcp::acceptor& acceptor, const Listener& listener) {
        asio::steady_timer pause(io_);
        bool paused = false;  // a shortage was logged; it lasts until nobody is waiting in the backlog
        while (!stopping_) {
            auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
            if (stopping_ || ec == asio::error::operation_aborted) {
                co_return;
            }
            if (ec && !net::is_aborted_accept(asio_support::errno_code(ec))) {
                // Out of fds (or another failure that retrying at once would not cure): the connection
                // stays in the backlog and existing clients go on; try again after a pause, not in a spin.
                if (!paused) {
                    const bool out_of_fds = net::is_out_of_fds(asio_support::errno_code(ec));
                    context_.log.accept_paused(listener, ec, out_of_fds);
                    paused = true;
                }
                pause.expires_after(accept_pause);
                co_await pause.async_wait(use_tuple);
                continue;
            }
            if (ec) {
                continue;
            }
            admit(std::move(socket), listener);
            // The acceptor is non-blocking: these take what is queued now and stop at "would block".
            // Any other error is left to the next async_accept, which pauses if it persists.
            for (int i = 1; i < accept_batch && !stopping_; ++i) {
                tcp::socket next = acceptor.accept(ec);
                if (ec == asio::error::would_block) {
                    paused = false;
                }
                if (ec) {
                    break;
                }
                admit(std::move(next), listener);
            }
        }
    }

    void admit(tcp::socket socket, const Listener& listener) {
        std::string peer = peer_of(socket);
        std::optional<ClientSlot> slot = context_.admit(peer, listener);
        if (!slot) {
            return;  // the socket closes here
        }
        const std::uint64_t number = context_.number_next(listener);
        if (listener.cache) {
            spawn(serve_cached_client(std::move(socket), std::move(peer), std::move(*slot), listener, number));
            return;
        }
        if (listener.upstream) {
            start_async_proxy_session(io_, std::move(socket),
                                      ClientInfo{std::move(peer), &listener, Clock::now(),
                                                 listener.connection_faults(number)},
                                      std::move(*slot), context_.stats, context_.log, proxies_);
            return;
        }
        spawn(serve_client(std::move(socket), std::move(peer), std::move(*slot), listener, number));
    }

    /// A --cache proxy's client: waits for the cache (checking every 10 ms), then is served its content
    /// like a poem, or closed if the fetch failed.
    awaitable<void> serve_cached_client(tcp::socket socket, std::string peer, ClientSlot slot, const Listener& listener,
                                        std::uint64_t number) {
        const TimePoint started = Clock::now();
        const std::uint64_t ticket = listener.cache->request();
        asio::steady_timer check(io_);
        for (;;) {
            const UpstreamCache::Outcome outcome = listener.cache->outcome(ticket);
            if (outcome.served_as != nullptr) {
                co_await serve_client(std::move(socket), std::move(peer), std::move(slot), *outcome.served_as, number);
                co_return;
            }
            if (outcome.failure || stopping_) {
                SessionRecord record(ClientInfo{std::move(peer), &listener, started, ConnectionFaults()},
                                     std::move(slot), context_.stats, context_.log);
                record.end(stopping_ ? SessionEnd::interrupted : SessionEnd::upstream_failed,
                           stopping_ ? "server stopping" : *outcome.failure);
                co_return;
            }
            check.expires_after(std::chrono::milliseconds(10));
            co_await check.async_wait(use_tuple);
        }
    }

    /// What a session's two coroutines share.
    struct SessionState {
        bool input_ended = false;  // the client has ended its stream (it may still be reading)
        bool hanging = false;      // at --hang-after's limit: now the end of stream means the client left
    };

    awaitable<void> serve_client(tcp::socket socket, std::string peer, ClientSlot slot, const Listener& listener,
                                 std::uint64_t number) {
        SessionRecord record(
            ClientInfo{std::move(peer), &listener, Clock::now(), listener.connection_faults(number)},
            std::move(slot), context_.stats, context_.log);
        if (stopping_) {
            // Spawned just before the stop, started after it: its socket was not there to be closed.
            record.end(SessionEnd::interrupted, "server stopping");
            co_return;
        }
        clients_.insert(&socket);
        struct Unregister {
            std::unordered_set<tcp::socket*>& clients;
            tcp::socket* socket;
            ~Unregister() { clients.erase(socket); }
        } unregister{clients_, &socket};

        std::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        socket.native_non_blocking(true, ignored);  // send_poem's sendfile must never block the loop
        auto chunks = listener.schedule(record.client().faults, record.client().start);
        SessionState state;
        const auto outcome =
            co_await (send_poem(socket, listener, chunks, record, state) || discard_input(socket, state));
        const std::error_code ec = outcome.index() == 0 ? std::get<0>(outcome) : std::get<1>(outcome);
        const auto cut = chunks.done() ? chunks.cut() : std::nullopt;
        if (state.hanging) {
            record.cut(FaultKind::hang_after, stopping_ ? "until the server stopped"
                                              : !ec || ec == asio::error::eof
                                                  ? "until the client left"
                                                  : "until the client left (" + ec.message() + ")");
        } else if (outcome.index() == 0 && !ec && cut && cut->kind == FaultKind::reset_after) {
            // RST instead of FIN: SO_LINGER with a zero timeout makes close(2) abort the connection.
            socket.set_option(asio::socket_base::linger(true, 0), ignored);
            socket.close(ignored);
            record.cut(FaultKind::reset_after);
        } else if (outcome.index() == 0 && !ec) {
            socket.shutdown(tcp::socket::shutdown_send, ignored);
            if (cut) {
                record.cut(FaultKind::close_after);
            } else {
                record.end(SessionEnd::finished);
            }
        } else {
            record.end(stopping_ ? SessionEnd::interrupted : SessionEnd::dropped,
                       stopping_ ? "server stopping" : ec.message());
        }
    }

    /// Sends the chunks on their schedule, then does what the fault at the limit asks (the hang is a
    /// wait that only the client's leaving or the stop ends) or holds the FIN for the slow close.
    awaitable<std::error_code> send_poem(tcp::socket& socket, const Listener& listener, ChunkSchedule& chunks,
                                         SessionRecord& record, SessionState& state) {
        asio::steady_timer timer(io_);
        for (; !chunks.done(); chunks.next()) {
            if (chunks.must_wait()) {
                timer.expires_at(on_wake_grid(chunks.due()));
                if (auto [ec] = co_await timer.async_wait(use_tuple); ec) {
                    co_return ec;
                }
            }
            const std::size_t size = chunks.size();
            // sendfile from the sealed poem at once: a chunk nearly always fits in the socket buffer,
            // and then no second suspension is needed. Only what does not fit waits for room.
            std::error_code ec;
            std::size_t written = 0;
            while (written < size) {
                written += listener.poem->send(socket.native_handle(), chunks.offset() + written,
                                               size - written, ec);
                if (!ec) {
                    continue;
                }
                if (!poetry::detail::is_would_block(ec)) {
                    break;
                }
                ec.clear();
                if (auto [wait_ec] = co_await socket.async_wait(tcp::socket::wait_write, use_tuple);
                    wait_ec) {
                    ec = wait_ec;
                    break;
                }
            }
            record.add_sent(written);
            if (ec) {
                co_return ec;
            }
            record.chunk_left(chunks.due());
            context_.log.chunk_sent(record.client(), written, chunks.index(), chunks.due());
        }
        const auto cut = chunks.cut();
        if (cut && cut->kind == FaultKind::hang_after) {
            state.hanging = true;
            if (state.input_ended) {
                co_return std::error_code{};  // the client has gone already
            }
            co_return co_await wait_for_ever();  // discard_input ends the session when the client goes
        }
        if (cut && cut->kind == FaultKind::reset_after) {
            co_return std::error_code{};
        }
        if (const auto slow_close = record.client().faults.slow_close(); slow_close.count() > 0) {
            record.fault_acted(FaultKind::slow_close);
            timer.expires_after(slow_close);
            if (auto [ec] = co_await timer.async_wait(use_tuple); ec) {
                co_return ec;
            }
        }
        co_return std::error_code{};
    }

    /// Reads what the client sends and throws it away; returns (ending the session) only on an error
    /// such as a reset. End of stream just means the client will send no more: it may still be reading,
    /// unless the session hangs, where the end of stream is all the client can say about leaving.
    awaitable<std::error_code> discard_input(tcp::socket& socket, SessionState& state) {
        for (;;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink_), use_tuple);
            if (ec == asio::error::eof && !state.hanging) {
                state.input_ended = true;
                co_return co_await wait_for_ever();  // until the poem ends
            }
            if (ec) {
                co_return ec;
            }
        }
    }

    /// Waits until cancelled: by the other side of a session's ||, or by the stop for every session.
    awaitable<std::error_code> wait_for_ever() {
        if (stopping_) {
            co_return asio::error::operation_aborted;
        }
        auto [cancelled] = co_await stopped_.async_wait(use_tuple);
        co_return cancelled;
    }

    ServeContext& context_;
    asio::io_context io_{1};
    // Never expires: sessions that wait for nothing in particular (a client that has ended its stream,
    // a hang) wait on it, and the stop cancels every such wait at once.
    asio::steady_timer stopped_{io_, asio::steady_timer::time_point::max()};
    std::vector<tcp::acceptor> acceptors_;
    std::unordered_set<tcp::socket*> clients_;
    AsyncProxySessions proxies_;
    // Where every session's discarded input goes: one buffer for all, not one per client (4 KB per
    // client was 40 MB at 10,000 clients). Safe because it is never read and the io_context runs on
    // one thread, so the reads into it happen one after another.
    std::array<std::byte, 4096> sink_{};
    bool stopping_ = false;
};

}  // namespace

void serve_async(ServeContext& context) {
    run_on_threads(context, [&context] { AsyncServer(context).run(); });
}

}  // namespace poetry::server
