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
    std::error_code ec;
    if (timeout) {
        socket.set_receive_timeout(std::chrono::ceil<std::chrono::microseconds>(*timeout), ec);
        if (ec) {
            recorder.fail(failure_reason("set SO_RCVTIMEO", ec));
            return recorder.take_result();
        }
    }
    std::array<std::byte, receive_buffer_size> buffer;
    for (;;) {
        const std::size_t n = socket.recv(buffer, ec);
        if (ec) {
            // SO_RCVTIMEO expiring is reported as "would block" (socket(7)).
            recorder.fail(detail::is_would_block(ec) ? inactivity_message(*timeout)
                                                     : failure_reason("recv", ec));
            break;
        }
        if (n == 0) {
            recorder.end_of_stream();
            break;
        }
        recorder.received(std::span(buffer).first(n));
    }
    return recorder.take_result();
}

}  // namespace poetry::client
