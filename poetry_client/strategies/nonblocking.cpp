// nonblocking: non-blocking sockets polled in a busy loop, one download after another. Correct, and
// wasteful on purpose: while a server pauses, the CPU spins asking "anything yet?" (its CPU time,
// next to the wall time, is the point of this strategy).
#include <array>

#include "poetry/detail/syscall.hpp"
#include "poetry/net/connect_attempts.hpp"
#include "poetry/net/socket.hpp"
#include "strategy.hpp"

namespace poetry::client {
namespace {

/// Spins on connect(2) until the connection is made or fails; on failure the socket is empty and
/// `ec` says why. Gives up (empty socket, no error) once a limit has passed: `why` says which.
net::Socket connect_polling(const net::Endpoint& endpoint, const DownloadLimits& limits, TimePoint started,
                            const Interruption* interruption, std::optional<std::string>& why,
                            std::error_code& ec) {
    net::Socket socket = net::start_connect(endpoint, ec);
    if (ec != std::errc::operation_in_progress) {
        return socket;
    }
    while (!net::continue_connect(socket, ec)) {
        if (interruption != nullptr && interruption->requested()) {
            ec.clear();
            return {};
        }
        if (limits.any() && (why = limits.passed(started, started, Clock::now()))) {
            ec.clear();
            return {};
        }
    }
    return ec ? net::Socket() : std::move(socket);
}

DownloadResult fetch_polling(const Download& download, const DownloadLimits& limits,
                             const Interruption* interruption, DownloadObserver& observer) {
    DownloadRecorder recorder(download, observer);
    const auto interrupted = [interruption] { return interruption != nullptr && interruption->requested(); };
    if (interrupted()) {
        recorder.interrupt();  // its turn came after the stop
        return recorder.take_result();
    }
    std::error_code ec;
    // A blocking lookup, like every other step of this strategy.
    net::ConnectAttempts attempts(download.address, net::resolve(download.address, ec));
    if (ec) {
        recorder.fail(failure_reason("resolve", ec));
        return recorder.take_result();
    }
    net::Socket socket;
    std::optional<std::string> why;
    while (const net::Endpoint* endpoint = attempts.next()) {
        socket = connect_polling(*endpoint, limits, recorder.started(), interruption, why, ec);
        if (socket || why || interrupted()) {
            break;
        }
        attempts.failed(ec);
    }
    if (!socket && interrupted()) {
        recorder.interrupt();
        return recorder.take_result();
    }
    if (!socket) {
        recorder.fail(why ? *why : failure_reason("connect", attempts.error()));
        return recorder.take_result();
    }
    recorder.connected();
    if (recorder.done()) {  // its observer failed
        return recorder.take_result();
    }
    std::array<std::byte, receive_buffer_size> buffer;
    TimePoint last_data = Clock::now();
    for (;;) {
        const std::size_t n = socket.recv(buffer, ec);
        if (detail::is_would_block(ec)) {
            // Nothing yet: ask again at once. Only the checks for a stop and the limits separate two
            // attempts.
            if (interrupted()) {
                recorder.interrupt();
                break;
            }
            if (limits.any() && (why = limits.passed(recorder.started(), last_data, Clock::now()))) {
                recorder.fail(*why);
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
        if (recorder.done()) {  // its observer failed
            break;
        }
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
        results.push_back(fetch_polling(download, settings.limits(), settings.interruption, observer));
    }
    return results;
}

}  // namespace poetry::client
