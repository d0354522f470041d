#include "strategies/blocking_download.hpp"

#include <array>
#include <chrono>
#include <cstddef>

#include "poetry/detail/syscall.hpp"
#include "poetry/net/socket.hpp"
#include "strategy.hpp"

namespace poetry::client {
namespace {

net::Socket connect_blocking(const Download& download, std::optional<Seconds> timeout,
                             DownloadRecorder& recorder) {
    std::error_code ec;
    const auto endpoints = net::resolve(download.address, ec);
    if (ec) {
        recorder.fail(failure_reason("resolve", ec));
        return {};
    }
    for (const auto& endpoint : endpoints) {
        net::Socket socket =
            timeout ? net::connect(endpoint, std::chrono::ceil<std::chrono::milliseconds>(*timeout), ec)
                    : net::connect(endpoint, ec);
        if (!ec) {
            return socket;
        }
    }
    recorder.fail(ec == std::errc::timed_out ? inactivity_message(*timeout) : failure_reason("connect", ec));
    return {};
}

}  // namespace

DownloadResult fetch_blocking(const Download& download, std::optional<Seconds> timeout,
                              DownloadObserver& observer) {
    DownloadRecorder recorder(download, observer);
    net::Socket socket = connect_blocking(download, timeout, recorder);
    if (!socket) {
        return recorder.take_result();
    }
    recorder.connected();
    // SO_RCVTIMEO counts in the kernel's ticks and can expire up to a tick (4 ms at HZ=250) before the
    // time asked for, so its expiry is checked against the clock: when the silence is still short of
    // the timeout, recv waits again for the rest.
    std::error_code ec;
    const auto wait_at_most = [&](Seconds wait) {
        socket.set_receive_timeout(std::chrono::ceil<std::chrono::microseconds>(wait), ec);
        if (ec) {
            recorder.fail(failure_reason("set SO_RCVTIMEO", ec));
        }
        return !ec;
    };
    if (timeout && !wait_at_most(*timeout)) {
        return recorder.take_result();
    }
    bool waiting_for_the_rest = false;  // SO_RCVTIMEO holds less than the whole timeout
    TimePoint last_activity = Clock::now();
    std::array<std::byte, receive_buffer_size> buffer;
    for (;;) {
        const std::size_t n = socket.recv(buffer, ec);
        if (ec) {
            // SO_RCVTIMEO expiring is reported as "would block" (socket(7)).
            if (!detail::is_would_block(ec) || !timeout) {
                recorder.fail(failure_reason("recv", ec));
                break;
            }
            const Seconds quiet = Clock::now() - last_activity;
            if (quiet >= *timeout) {
                recorder.fail(inactivity_message(*timeout));
                break;
            }
            if (!wait_at_most(*timeout - quiet)) {
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
        if (waiting_for_the_rest) {
            if (!wait_at_most(*timeout)) {
                break;
            }
            waiting_for_the_rest = false;
        }
    }
    return recorder.take_result();
}

}  // namespace poetry::client
