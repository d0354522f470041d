// Awaitables that connect coroutines to the event loop: sleep, fd readiness, recv, send_all, accept,
// connect. Each tries the operation first and waits only if it would block (asyncio's sock_recv,
// libcoro). Each removes its reader, writer or timer in its destructor, so a coroutine destroyed
// while suspended leaves nothing registered. Failures throw std::system_error, so coroutine code reads
// like blocking code.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>

#include "poetry/coro/task.hpp"
#include "poetry/loop/event_loop.hpp"
#include "poetry/loop/timer.hpp"
#include "poetry/net/address.hpp"
#include "poetry/net/errors.hpp"
#include "poetry/net/socket.hpp"

namespace poetry {

/// Suspends until `when` (at least one loop iteration, even if it has passed). Allocates nothing: the
/// timer lives in the awaiter, in the coroutine's frame.
class SleepAwaiter {
public:
    SleepAwaiter(EventLoop& loop, TimePoint when) noexcept
        : when_(when), timer_(loop, [this] {
              // Moved out first: the coroutine it resumes destroys this awaiter as it goes on.
              const detail::Resumer resume = std::move(*resume_);
              resume();
          }) {}
    SleepAwaiter(const SleepAwaiter&) = delete;
    SleepAwaiter& operator=(const SleepAwaiter&) = delete;

    bool await_ready() const noexcept { return false; }
    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> awaiting) {
        resume_.emplace(awaiting);
        timer_.arm_at(when_);
    }
    void await_resume() const noexcept {}

private:
    TimePoint when_;
    std::optional<detail::Resumer> resume_;
    Timer timer_;  // last: cancelled (in its destructor) before what its callback uses goes
};

template <class Rep, class Period>
SleepAwaiter sleep(EventLoop& loop, std::chrono::duration<Rep, Period> delay) noexcept {
    return SleepAwaiter(loop, deadline_after(loop.time(), saturating_duration(delay)));
}

/// Suspends until the loop's clock reaches `when`: an absolute schedule (chunk k at start + k x delay)
/// whose lateness never accumulates, as it would with sleep(delay) after each step.
inline SleepAwaiter sleep_until(EventLoop& loop, TimePoint when) noexcept {
    return SleepAwaiter(loop, when);
}

namespace detail {

/// Base of the fd awaitables: registers the loop callback for one direction and removes it again,
/// at the latest in the destructor.
class FdWatch {
public:
    FdWatch(EventLoop& loop, int fd, EventMask direction) noexcept
        : loop_(loop), fd_(fd), direction_(direction) {}
    FdWatch(const FdWatch&) = delete;
    FdWatch& operator=(const FdWatch&) = delete;
    ~FdWatch() { unwatch(); }

protected:
    /// @throws std::logic_error if something already waits on this fd in this direction: the loop holds
    /// one callback per fd and direction, so a second waiter would silently replace the first.
    void watch(Callback callback) {
        const bool reading = direction_ == EventMask::read;
        if (reading ? loop_.has_reader(fd_) : loop_.has_writer(fd_)) {
            throw std::logic_error("fd " + std::to_string(fd_) + " already has a waiter for " +
                                   (reading ? "reading" : "writing") + "; only one may wait per direction");
        }
        reading ? loop_.add_reader(fd_, std::move(callback)) : loop_.add_writer(fd_, std::move(callback));
        watching_ = true;
    }
    void unwatch() noexcept {
        if (watching_) {
            watching_ = false;
            direction_ == EventMask::read ? loop_.remove_reader(fd_) : loop_.remove_writer(fd_);
        }
    }
    int fd() const noexcept { return fd_; }

private:
    EventLoop& loop_;
    int fd_;
    EventMask direction_;
    bool watching_ = false;
};

/// Base of the awaitables that try their operation at once and, while it would block, again each time
/// the fd is ready. `Operation` provides `bool try_operation() noexcept`: true once it is done or has
/// failed, false if it must wait.
template <class Operation>
class RetryWhenReady : protected FdWatch {
public:
    using FdWatch::FdWatch;

    bool await_ready() noexcept { return operation().try_operation(); }
    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> awaiting) {
        watch([this, resume = Resumer(awaiting)] {
            if (operation().try_operation()) {
                unwatch();
                resume();
            }
        });
    }

private:
    Operation& operation() noexcept { return static_cast<Operation&>(*this); }
};

}  // namespace detail

/// Suspends until `fd` is readable (EventMask::read) or writable (EventMask::write).
class ReadinessAwaiter : detail::FdWatch {
public:
    ReadinessAwaiter(EventLoop& loop, int fd, EventMask direction) noexcept : FdWatch(loop, fd, direction) {}
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    void await_suspend(std::coroutine_handle<Promise> awaiting) {
        watch([this, resume = detail::Resumer(awaiting)] {
            unwatch();
            resume();
        });
    }
    void await_resume() const noexcept {}
};

inline ReadinessAwaiter readable(EventLoop& loop, int fd) noexcept {
    return {loop, fd, EventMask::read};
}
inline ReadinessAwaiter writable(EventLoop& loop, int fd) noexcept {
    return {loop, fd, EventMask::write};
}

/// Receives what is there, up to buffer.size() bytes; 0 means the peer closed its side.
class RecvAwaiter : public detail::RetryWhenReady<RecvAwaiter> {
public:
    RecvAwaiter(EventLoop& loop, net::Socket& socket, std::span<std::byte> buffer) noexcept
        : RetryWhenReady(loop, socket.fd(), EventMask::read), socket_(socket), buffer_(buffer) {}

    /// @throws std::system_error "recv: <reason>".
    std::size_t await_resume() const {
        net::throw_if_error(error_, "recv");
        return received_;
    }

private:
    friend class detail::RetryWhenReady<RecvAwaiter>;
    bool try_operation() noexcept;

    net::Socket& socket_;
    std::span<std::byte> buffer_;
    std::size_t received_ = 0;
    std::error_code error_;
};

inline RecvAwaiter recv(EventLoop& loop, net::Socket& socket, std::span<std::byte> buffer) noexcept {
    return {loop, socket, buffer};
}

/// Sends every byte of `data`, waiting for the socket to drain as often as needed.
class SendAllAwaiter : public detail::RetryWhenReady<SendAllAwaiter> {
public:
    SendAllAwaiter(EventLoop& loop, net::Socket& socket, std::span<const std::byte> data) noexcept
        : RetryWhenReady(loop, socket.fd(), EventMask::write), socket_(socket), data_(data) {}

    /// @throws std::system_error "send: <reason>" (e.g. EPIPE when the peer has gone).
    void await_resume() const { net::throw_if_error(error_, "send"); }

private:
    friend class detail::RetryWhenReady<SendAllAwaiter>;
    /// Sends until done, failed, or the socket is full; true unless it must wait.
    bool try_operation() noexcept;

    net::Socket& socket_;
    std::span<const std::byte> data_;
    std::error_code error_;
};

inline SendAllAwaiter send_all(EventLoop& loop, net::Socket& socket,
                               std::span<const std::byte> data) noexcept {
    return {loop, socket, data};
}

/// Accepts one connection; makes the listener non-blocking (so that trying first cannot block the loop).
class AcceptAwaiter : public detail::RetryWhenReady<AcceptAwaiter> {
public:
    AcceptAwaiter(EventLoop& loop, net::Socket& listener, net::Endpoint* peer) noexcept
        : RetryWhenReady(loop, listener.fd(), EventMask::read), listener_(listener), peer_(peer) {}

    /// @throws std::system_error "accept: <reason>" (e.g. EMFILE when out of fds).
    net::Socket await_resume();

private:
    friend class detail::RetryWhenReady<AcceptAwaiter>;
    bool try_operation() noexcept;

    net::Socket& listener_;
    net::Endpoint* peer_;
    bool made_nonblocking_ = false;
    net::Socket accepted_;
    std::error_code error_;
};

inline AcceptAwaiter accept(EventLoop& loop, net::Socket& listener, net::Endpoint* peer = nullptr) noexcept {
    return {loop, listener, peer};
}

/// Connects to `endpoint` without blocking the loop; the socket it returns is non-blocking.
/// @throws std::system_error "connect to 127.0.0.1:8000: Connection refused".
Task<net::Socket> connect(EventLoop& loop, net::Endpoint endpoint);

/// Resolves `address` without blocking the loop (numeric hosts inline, names on the loop's resolver
/// threads: resolver.hpp) and connects to the first endpoint that accepts (net::ConnectAttempts).
/// @throws std::system_error "resolve HOST:PORT: <reason>" if the name is unknown, else
///         "connect to HOST:PORT: <reason of the last failure>".
Task<net::Socket> connect(EventLoop& loop, net::Address address);

}  // namespace poetry
