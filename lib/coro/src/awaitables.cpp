#include "poetry/coro/awaitables.hpp"

#include <sys/socket.h>

#include "poetry/coro/create_task.hpp"
#include "poetry/detail/syscall.hpp"
#include "poetry/loop/resolver.hpp"
#include "poetry/net/connect_attempts.hpp"
#include "poetry/net/errors.hpp"

namespace poetry {

bool RecvAwaiter::try_operation() noexcept {
    // MSG_DONTWAIT: never blocks the loop, whatever mode the socket is in.
    received_ = socket_.recv(buffer_, error_, MSG_DONTWAIT);
    return !detail::is_would_block(error_);
}

bool SendAllAwaiter::try_operation() noexcept {
    while (!data_.empty()) {
        const std::size_t sent = socket_.send(data_, error_, MSG_DONTWAIT);
        if (detail::is_would_block(error_)) {
            error_.clear();
            return false;
        }
        if (error_) {
            return true;
        }
        data_ = data_.subspan(sent);
    }
    return true;
}

bool AcceptAwaiter::try_operation() noexcept {
    if (!made_nonblocking_) {
        listener_.set_nonblocking(true, error_);
        if (error_) {
            return true;
        }
        made_nonblocking_ = true;
    }
    // Every attempt starts clear: a "would block" kept from the last one must not stand for this one
    // (it once made every later wake-up skip accept(2) and spin the loop).
    error_.clear();
    accepted_ = net::accept(listener_, error_, peer_);
    // A client that gave up before we accepted it concerns that client only: wait for the next one.
    if (net::is_aborted_accept(error_)) {
        error_.clear();
        return false;
    }
    return !detail::is_would_block(error_);
}

net::Socket AcceptAwaiter::await_resume() {
    net::throw_if_error(error_, "accept");
    return std::move(accepted_);
}

Task<net::Socket> connect(EventLoop& loop, net::Endpoint endpoint) {
    std::error_code ec;
    net::Socket socket = net::start_connect(endpoint, ec);
    if (ec == std::errc::operation_in_progress) {
        co_await writable(loop, socket.fd());
        ec = socket.connect_error();
    }
    if (ec) {
        throw net::connect_error(endpoint, ec);
    }
    co_return socket;
}

Task<net::Socket> connect(EventLoop& loop, net::Address address) {
    net::ConnectAttempts attempts(address, co_await resolve(loop, address));
    while (const net::Endpoint* endpoint = attempts.next()) {
        try {
            co_return co_await connect(loop, *endpoint);
        } catch (const std::system_error& e) {
            attempts.failed(e.code());
        }
    }
    throw attempts.exception();
}

}  // namespace poetry
