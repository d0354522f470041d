#include "poetry/loop/acceptor.hpp"

#include <utility>

#include "poetry/detail/syscall.hpp"
#include "poetry/net/errors.hpp"

namespace poetry {

Acceptor::Acceptor(EventLoop& loop, net::Socket& listener, ConnectionHandler on_connection,
                   PauseHandler on_pause, Options options)
    : loop_(loop),
      listener_(listener),
      on_connection_(std::move(on_connection)),
      on_pause_(std::move(on_pause)),
      options_(options),
      retry_(loop, [this] { accept_batch(); }) {
    if (options_.batch == 0) {
        options_.batch = 1;
    }
}

void Acceptor::start() {
    if (started_) {
        return;
    }
    listener_.set_nonblocking(true);
    loop_.add_reader(listener_.fd(), [this] { accept_batch(); });
    started_ = true;
    paused_ = false;
    shortage_reported_ = false;
}

void Acceptor::stop() noexcept {
    if (!started_) {
        return;
    }
    started_ = false;
    paused_ = false;
    retry_.cancel();
    loop_.remove_reader(listener_.fd());
}

void Acceptor::accept_batch() {
    for (std::size_t i = 0; i < options_.batch && started_; ++i) {
        std::error_code ec;
        net::Endpoint peer;
        net::Socket client = net::accept_nonblocking(listener_, ec, &peer);
        if (ec && !detail::is_would_block(ec) && !net::is_aborted_accept(ec)) {
            pause(ec);
            return;
        }
        if (paused_) {
            // Accepting works again: watch the listener instead of polling it.
            paused_ = false;
            loop_.add_reader(listener_.fd(), [this] { accept_batch(); });
        }
        if (detail::is_would_block(ec)) {
            // Everyone who was waiting has been taken: the shortage, if there was one, is over.
            shortage_reported_ = false;
            break;
        }
        if (!ec) {
            on_connection_(std::move(client), peer);
        }
    }
}

void Acceptor::pause(const std::error_code& ec) {
    if (!paused_) {
        paused_ = true;
        loop_.remove_reader(listener_.fd());
        // Freed fds taken one at a time by a long queue pause and resume the acceptor once per client;
        // that is one shortage to the reader of the log, not one per client.
        if (!shortage_reported_) {
            shortage_reported_ = true;
            if (on_pause_) {
                on_pause_(ec);
            }
        }
    }
    if (started_) {  // the handler may have stopped it
        retry_.arm_after(options_.retry);
    }
}

}  // namespace poetry
