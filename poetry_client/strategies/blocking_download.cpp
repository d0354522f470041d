#include "strategies/blocking_download.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "poetry/detail/syscall.hpp"
#include "poetry/net/connect_attempts.hpp"
#include "poetry/net/socket.hpp"
#include "strategy.hpp"

namespace poetry::client {
namespace {

/// Why a connect that timed out at a limit's expiry gave up: the limit due then.
std::string reason_at_expiry(const DownloadLimits& limits, TimePoint started) {
    const TimePoint expiry = limits.expiry(started, started);
    return limits.passed(started, started, std::max(expiry, Clock::now())).value_or("connect: timed out");
}

/// A connect that waits (poll(2) for the handshake, so that the wait can be limited and a shutdown
/// by an interruption ends it), on a socket watched by `interruption` from its creation. The socket
/// comes back blocking. On failure it is empty and `ec` says why (std::errc::timed_out at `expiry`).
net::Socket connect_watched(const net::Endpoint& endpoint, TimePoint expiry, Interruption* interruption,
                            std::error_code& ec) {
    net::Socket socket = net::start_connect(endpoint, ec);
    const Interruption::Watch watch(interruption, socket.fd());
    if (ec == std::errc::operation_in_progress) {
        pollfd handshake{socket.fd(), POLLOUT, 0};
        int ready = 0;
        do {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(expiry - Clock::now());
            const int wait = expiry == TimePoint::max() ? -1 : static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, INT32_MAX));
            ready = detail::retry_on_eintr(ec, [&] { return ::poll(&handshake, 1, wait); });
        } while (!ec && ready == 0 && Clock::now() < expiry);  // poll may wake a tick early
        if (!ec) {
            ec = ready == 0 ? std::make_error_code(std::errc::timed_out) : socket.connect_error();
        }
    }
    if (!ec) {
        socket.set_nonblocking(false, ec);
    }
    return ec ? net::Socket() : std::move(socket);
}

net::Socket connect_blocking(const Download& download, const DownloadLimits& limits, Interruption* interruption,
                             DownloadRecorder& recorder) {
    std::error_code ec;
    // A blocking lookup, like every other step of this strategy.
    net::ConnectAttempts attempts(download.address, net::resolve(download.address, ec));
    if (ec) {
        recorder.fail(failure_reason("resolve", ec));
        return {};
    }
    const TimePoint expiry = limits.expiry(recorder.started(), recorder.started());
    while (const net::Endpoint* endpoint = attempts.next()) {
        net::Socket socket = connect_watched(*endpoint, expiry, interruption, ec);
        if (interruption != nullptr && interruption->requested()) {
            recorder.interrupt();
            return {};
        }
        if (!ec) {
            return socket;
        }
        attempts.failed(ec);
    }
    const std::error_code& last = attempts.error();
    recorder.fail(last == std::errc::timed_out ? reason_at_expiry(limits, recorder.started())
                                               : failure_reason("connect", last));
    return {};
}

}  // namespace

DownloadResult fetch_blocking(const Download& download, const DownloadLimits& limits, Interruption* interruption,
                              DownloadObserver& observer) {
    DownloadRecorder recorder(download, observer);
    const auto interrupted = [interruption] { return interruption != nullptr && interruption->requested(); };
    if (interrupted()) {
        recorder.interrupt();  // its turn came after the stop
        return recorder.take_result();
    }
    net::Socket socket = connect_blocking(download, limits, interruption, recorder);
    if (!socket) {
        return recorder.take_result();
    }
    const Interruption::Watch watch(interruption, socket.fd());
    recorder.connected();
    if (recorder.done()) {  // its observer failed
        return recorder.take_result();
    }
    // The limits wait in the kernel, as SO_RCVTIMEO, which counts in ticks and can expire up to a tick
    // (4 ms at HZ=250) before the time asked for: its expiry is checked against the clock, and while no
    // limit has passed, recv waits again for the rest. With --timeout alone the wait after each chunk
    // is the whole timeout, set once; --deadline shortens it as the deadline nears.
    std::error_code ec;
    const auto wait_at_most = [&](Clock::duration wait) {
        socket.set_receive_timeout(
            std::max(std::chrono::ceil<std::chrono::microseconds>(wait), std::chrono::microseconds(1)), ec);
        if (ec) {
            recorder.fail(failure_reason("set SO_RCVTIMEO", ec));
        }
        return !ec;
    };
    const TimePoint started = recorder.started();
    TimePoint last_activity = Clock::now();
    if (limits.any() && !wait_at_most(limits.expiry(started, last_activity) - last_activity)) {
        return recorder.take_result();
    }
    const bool wait_shrinks = limits.total().has_value();
    bool waiting_for_the_rest = false;  // SO_RCVTIMEO holds less than the whole idle timeout
    std::array<std::byte, receive_buffer_size> buffer;
    for (;;) {
        const std::size_t n = socket.recv(buffer, ec);
        if ((ec || n == 0) && interrupted()) {
            recorder.interrupt();  // the shutdown that woke this recv, not the server's end
            break;
        }
        if (ec) {
            // SO_RCVTIMEO expiring is reported as "would block" (socket(7)).
            if (!detail::is_would_block(ec) || !limits.any()) {
                recorder.fail(failure_reason("recv", ec));
                break;
            }
            const TimePoint now = Clock::now();
            if (auto why = limits.passed(started, last_activity, now)) {
                recorder.fail(*why);
                break;
            }
            if (!wait_at_most(limits.expiry(started, last_activity) - now)) {
                break;
            }
            waiting_for_the_rest = true;
            continue;
        }
        if (n == 0) {
            recorder.end_of_stream();
            break;
        }
        last_activity = Clock::now();
        recorder.received(std::span(buffer).first(n), last_activity);
        if (recorder.done()) {
            break;
        }
        if (limits.any() && (wait_shrinks || waiting_for_the_rest)) {
            if (!wait_at_most(limits.expiry(started, last_activity) - last_activity)) {
                break;
            }
            waiting_for_the_rest = false;
        }
    }
    return recorder.take_result();
}

}  // namespace poetry::client
