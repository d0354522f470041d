// nonblocking: non-blocking sockets polled in a busy loop, one download after another. Correct, and
// wasteful on purpose: while a server pauses, the CPU spins asking "anything yet?" (its CPU time,
// next to the wall time, is the point of this strategy).
#include <array>

#include "poetry/detail/syscall.hpp"
#include "poetry/net/socket.hpp"
#include "strategy.hpp"

namespace poetry::client {
namespace {

/// Spins on connect(2) until the connection is made or fails; on failure the socket is empty and
/// `ec` says why (std::errc::timed_out after `timeout`).
net::Socket connect_polling(const net::Endpoint& endpoint, const std::optional<Seconds>& timeout,
                            std::error_code& ec) {
    net::Socket socket = net::start_connect(endpoint, ec);
    if (ec != std::errc::operation_in_progress) {
        return socket;
    }
    const TimePoint started = Clock::now();
    while (!net::continue_connect(socket, ec)) {
        if (timeout && Clock::now() - started >= *timeout) {
            ec = std::make_error_code(std::errc::timed_out);
            return {};
        }
    }
    return ec ? net::Socket() : std::move(socket);
}

DownloadResult fetch_polling(const Download& download, const StrategySettings& settings,
                             DownloadObserver& observer) {
    DownloadRecorder recorder(download, observer);
    std::error_code ec;
    const auto endpoints = net::resolve(download.address, ec);
    if (ec) {
        recorder.fail(failure_reason("resolve", ec));
        return recorder.take_result();
    }
    net::Socket socket;
    for (const auto& endpoint : endpoints) {
        socket = connect_polling(endpoint, settings.timeout, ec);
        if (!ec) {
            break;
        }
    }
    if (ec) {
        recorder.fail(ec == std::errc::timed_out ? inactivity_message(*settings.timeout)
                                                 : failure_reason("connect", ec));
        return recorder.take_result();
    }
    recorder.connected();
    std::array<std::byte, receive_buffer_size> buffer;
    TimePoint last_data = Clock::now();
    for (;;) {
        const std::size_t n = socket.recv(buffer, ec);
        if (detail::is_would_block(ec)) {
            // Nothing yet: ask again at once. Only the timeout check separates two attempts.
            if (settings.timeout && Clock::now() - last_data >= *settings.timeout) {
                recorder.fail(inactivity_message(*settings.timeout));
                break;
            }
            continue;
        }
        if (ec) {
            recorder.fail(failure_reason("recv", ec));
            break;
        }
        if (n == 0) {
            recorder.end_of_stream();
            break;
        }
        last_data = Clock::now();
        recorder.received(std::span(buffer).first(n), last_data);
    }
    return recorder.take_result();
}

}  // namespace

std::vector<DownloadResult> download_nonblocking(std::span<const Download> downloads,
                                                 const StrategySettings& settings,
                                                 DownloadObserver& observer) {
    std::vector<DownloadResult> results;
    results.reserve(downloads.size());
    for (const auto& download : downloads) {
        results.push_back(fetch_polling(download, settings, observer));
    }
    return results;
}

}  // namespace poetry::client
