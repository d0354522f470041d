// --mode async: one asio io_context on one thread; a coroutine per listener accepts, a coroutine per
// client streams the poem on an absolute schedule (expires_at, so timing errors never accumulate)
// while another reads and discards what the client sends and notices when it goes.
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <unistd.h>
#include <algorithm>
#include <array>
#include <chrono>
#include <unordered_set>

#include "poetry/detail/syscall.hpp"
#include "serve.hpp"

namespace poetry::server {
namespace {

using asio::awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using Clock = std::chrono::steady_clock;

// asio 1.22 spelling: the token is explicit and as_tuple is still experimental.
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr auto accept_pause = std::chrono::milliseconds(100);
// Connections taken from the backlog per wake-up of an acceptor (nginx's multi_accept): one trip through
// the scheduler per connection cannot keep up with thousands of clients connecting at once, and once the
// backlog is full the kernel drops handshakes, which clients retry only a second later. Bounded, so that
// a storm of connections cannot hold up the chunks of the clients already served.
constexpr int accept_batch = 64;

// Standalone asio reports errno values in its own system category, which does not compare equal to
// std::errc conditions: compare the numbers within that category.
bool is_errno(const std::error_code& ec, int value) {
    return ec.category() == asio::error::get_system_category() && ec.value() == value;
}

bool out_of_fds(const std::error_code& ec) {
    return is_errno(ec, EMFILE) || is_errno(ec, ENFILE);
}

/// Errors that concern one connection only (it went away before we accepted it): accept again at once.
bool lost_one_connection(const std::error_code& ec) {
    return ec == asio::error::connection_aborted || is_errno(ec, EPROTO);
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
            acceptors_.emplace_back(io_, protocol, listener.socket.release());
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
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    context_.log.error(std::string("unexpected error: ") + e.what());
                }
            }
        });
    }

    awaitable<void> wait_for_stop() {
        asio::posix::stream_descriptor stop(io_, ::dup(context_.stop.fd()));
        co_await stop.async_wait(asio::posix::stream_descriptor::wait_read, use_tuple);
        // Stop accepting, and end every session: their pending operations fail with operation_aborted.
        stopping_ = true;
        for (auto& acceptor : acceptors_) {
            std::error_code ignored;
            acceptor.close(ignored);
        }
        for (tcp::socket* client : clients_) {
            std::error_code ignored;
            client->close(ignored);
        }
    }

    awaitable<void> accept_clients(tcp::acceptor& acceptor, const Listener& listener) {
        asio::steady_timer pause(io_);
        bool paused = false;
        while (!stopping_) {
            auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
            if (stopping_ || ec == asio::error::operation_aborted) {
                co_return;
            }
            if (ec && !lost_one_connection(ec)) {
                // Out of fds (or another failure that retrying at once would not cure): the connection
                // stays in the backlog and existing clients go on; try again after a pause, not in a spin.
                if (!paused) {
                    context_.log.accept_paused(listener, ec, out_of_fds(ec));
                    paused = true;
                }
                pause.expires_after(accept_pause);
                co_await pause.async_wait(use_tuple);
                continue;
            }
            if (ec) {
                continue;
            }
            paused = false;
            admit(std::move(socket), listener);
            // The acceptor is non-blocking: these take what is queued now and stop at "would block".
            // Any other error is left to the next async_accept, which pauses if it persists.
            for (int i = 1; i < accept_batch && !stopping_; ++i) {
                tcp::socket next = acceptor.accept(ec);
                if (ec) {
                    break;
                }
                admit(std::move(next), listener);
            }
        }
    }

    void admit(tcp::socket socket, const Listener& listener) {
        if (context_.refuse_if_full(peer_of(socket), listener)) {
            return;  // the socket closes here
        }
        spawn(serve_client(std::move(socket), listener));
    }

    awaitable<void> serve_client(tcp::socket socket, const Listener& listener) {
        SessionRecord record(ClientInfo{peer_of(socket), &listener, Clock::now()}, context_.stats,
                             context_.log);
        clients_.insert(&socket);
        struct Unregister {
            std::unordered_set<tcp::socket*>& clients;
            tcp::socket* socket;
            ~Unregister() { clients.erase(socket); }
        } unregister{clients_, &socket};

        std::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        socket.native_non_blocking(true, ignored);  // send_poem's sendfile must never block the loop
        const auto outcome = co_await (send_poem(socket, listener, record) || discard_input(socket));
        const std::error_code ec = outcome.index() == 0 ? std::get<0>(outcome) : std::get<1>(outcome);
        if (outcome.index() == 0 && !ec) {
            socket.shutdown(tcp::socket::shutdown_send, ignored);
            record.end(SessionEnd::finished);
        } else {
            record.end(stopping_ ? SessionEnd::interrupted : SessionEnd::dropped,
                       stopping_ ? "server stopping" : ec.message());
        }
    }

    awaitable<std::error_code> send_poem(tcp::socket& socket, const Listener& listener,
                                         SessionRecord& record) {
        asio::steady_timer timer(io_);
        std::size_t offset = 0;
        for (std::size_t index = 0; offset < listener.poem->size(); ++index) {
            if (index > 0 && listener.delay.count() > 0) {
                timer.expires_at(listener.chunk_due(record.client().start, index));
                if (auto [ec] = co_await timer.async_wait(use_tuple); ec) {
                    co_return ec;
                }
            }
            const std::size_t size = std::min(listener.num_bytes, listener.poem->size() - offset);
            // sendfile from the sealed poem at once: a chunk nearly always fits in the socket buffer,
            // and then no second suspension is needed. Only what does not fit waits for room.
            std::error_code ec;
            std::size_t written = 0;
            while (written < size) {
                written += listener.poem->send(socket.native_handle(), offset + written, size - written, ec);
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
            offset += written;
            if (ec) {
                co_return ec;
            }
            record.chunk_left(listener.chunk_due(record.client().start, index));
            context_.log.chunk_sent(record.client(), written, index);
        }
        co_return std::error_code{};
    }

    /// Reads what the client sends and throws it away; returns (ending the session) only on an error
    /// such as a reset. End of stream just means the client will send no more: it may still be reading.
    awaitable<std::error_code> discard_input(tcp::socket& socket) {
        for (;;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink_), use_tuple);
            if (ec == asio::error::eof) {
                asio::steady_timer forever(socket.get_executor(), asio::steady_timer::time_point::max());
                auto [cancelled] = co_await forever.async_wait(use_tuple);  // until the poem ends
                co_return cancelled;
            }
            if (ec) {
                co_return ec;
            }
        }
    }

    ServeContext& context_;
    asio::io_context io_{1};
    std::vector<tcp::acceptor> acceptors_;
    std::unordered_set<tcp::socket*> clients_;
    // Where every session's discarded input goes: one buffer for all, not one per client (4 KB per
    // client was 40 MB at 10,000 clients). Safe because it is never read and the io_context runs on
    // one thread, so the reads into it happen one after another.
    std::array<std::byte, 4096> sink_{};
    bool stopping_ = false;
};

}  // namespace

void serve_async(ServeContext& context) {
    AsyncServer(context).run();
}

}  // namespace poetry::server
