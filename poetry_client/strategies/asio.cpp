// asio: asio's own io_context on the calling thread and a C++20 coroutine per download, started with
// co_spawn. The production-grade comparison point for the coroutines on the library's event loop.
#include <asio.hpp>
#include <asio/experimental/awaitable_operators.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "asio_support.hpp"
#include "describe_exception.hpp"
#include "limits.hpp"
#include "strategy.hpp"

namespace poetry::client {
namespace {

using asio::awaitable;
using asio::ip::tcp;
using asio_support::use_tuple;
using namespace asio::experimental::awaitable_operators;

class AsioDownloads {
public:
    AsioDownloads(std::span<const Download> downloads, const StrategySettings& settings,
                  DownloadObserver& observer)
        : limits_(settings.limits()), interruption_(settings.interruption) {
        for (const Download& download : downloads) {
            recorders_.emplace_back(download, observer);
        }
    }

    std::vector<DownloadResult> run() {
        // A stop: every download not finished yet is interrupted and the io_context stops at once; the
        // coroutines left suspended go with io_ (declared last, destroyed first). The eventfd is
        // watched through a copy, which stream_descriptor owns and closes; the wait is cancelled when
        // the last download ends, or io_.run() would wait on it for ever.
        std::optional<asio::posix::stream_descriptor> stop_request;
        if (interruption_ != nullptr) {
            stop_request.emplace(io_,
                                 asio_support::dup_for_asio(interruption_->fd(), "the interruption's eventfd"));
            stop_request->async_wait(asio::posix::stream_descriptor::wait_read, [this](const std::error_code& ec) {
                if (ec) {
                    return;  // cancelled: the run ended first
                }
                for (DownloadRecorder& recorder : recorders_) {
                    if (!recorder.done()) {
                        recorder.interrupt();
                    }
                }
                io_.stop();
            });
        }
        std::size_t remaining = recorders_.size();
        for (DownloadRecorder& recorder : recorders_) {
            asio::co_spawn(io_, download(recorder), [&](const std::exception_ptr& error) {
                // Nothing may leave this handler: an exception here would end io_.run() and abandon
                // every other download. Only an observer that throws from finished() gets this far.
                if (error && !recorder.done()) {
                    try {
                        recorder.fail(unexpected_error(error));
                    } catch (...) {
                    }
                }
                if (--remaining == 0 && stop_request) {
                    std::error_code ignored;
                    stop_request->cancel(ignored);
                }
            });
        }
        if (remaining == 0 && stop_request) {
            std::error_code ignored;
            stop_request->cancel(ignored);
        }
        io_.run();

        std::vector<DownloadResult> results;
        results.reserve(recorders_.size());
        for (DownloadRecorder& recorder : recorders_) {
            if (!recorder.done()) {
                recorder.fail("asio: the download's coroutine ended without an outcome");
            }
            results.push_back(recorder.take_result());
        }
        return results;
    }

private:
    awaitable<void> download(DownloadRecorder& recorder) {
        try {
            // Lives in this frame, which outlasts both coroutines below: the || operator returns only
            // once the loser has finished cancelling.
            TimePoint last_activity = Clock::now();
            if (limits_.any()) {
                co_await (fetch(recorder, last_activity) || watchdog(recorder, last_activity));
            } else {
                co_await fetch(recorder, last_activity);
            }
        } catch (...) {
            recorder.fail(unexpected_error(std::current_exception()));
        }
    }

    /// Resolve, connect and read to the end. Every co_await is followed by a done() check: once the
    /// watchdog has failed the download, a completion that was already queued must not report more.
    awaitable<void> fetch(DownloadRecorder& recorder, TimePoint& last_activity) {
        try {
            const net::Address& address = recorder.download().address;
            // getaddrinfo runs on asio's resolver thread and cannot be interrupted, so a timed-out
            // download whose host is slow to resolve holds up io_.run() (not the others) until it ends.
            tcp::resolver resolver(io_);
            auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
                address.host(), std::to_string(address.port()), tcp::resolver::numeric_service, use_tuple);
            if (recorder.done()) {
                co_return;
            }
            if (resolve_ec) {
                recorder.fail(failure_reason("resolve", resolve_ec));
                co_return;
            }

            tcp::socket socket(io_);
            const std::error_code connect_ec = co_await connect_any(socket, endpoints, recorder);
            if (recorder.done()) {
                co_return;
            }
            if (connect_ec == asio::error::connection_reset) {
                // asio learns how the connect ended from SO_ERROR, which also takes a reset that came
                // after the handshake. The connection was made, and what the server sent before the
                // reset is queued: take it, then report the reset as the other strategies do.
                recorder.connected();
                take_queued(socket, recorder);
                recorder.fail(failure_reason("recv", connect_ec));
                co_return;
            }
            if (connect_ec) {
                recorder.fail(failure_reason("connect", connect_ec));
                co_return;
            }
            recorder.connected();
            if (recorder.done()) {  // its observer failed
                co_return;
            }
            last_activity = Clock::now();  // like every strategy: connecting counts as activity

            // read_some below must report "not yet" rather than block the one thread every download runs on.
            std::error_code ec;
            socket.non_blocking(true, ec);
            if (ec) {
                recorder.fail(failure_reason("set non-blocking", ec));
                co_return;
            }
            for (;;) {
                // Wait for data, then read it ourselves, rather than async_read_some: asio performs that
                // recv early (speculatively on initiation, or in the reactor) and resumes us later, so
                // with one buffer for all downloads another download's data could land in it first.
                // Reading in this step and copying at once keeps the shared buffer safe.
                auto [wait_ec] = co_await socket.async_wait(tcp::socket::wait_read, use_tuple);
                if (recorder.done()) {
                    co_return;
                }
                if (wait_ec) {
                    recorder.fail(failure_reason("recv", wait_ec));
                    co_return;
                }
                const std::size_t n = socket.read_some(asio::buffer(buffer_), ec);
                if (ec == asio::error::would_block) {
                    continue;  // a spurious wake-up: nothing to read after all
                }
                if (ec == asio::error::eof) {
                    recorder.end_of_stream();
                    co_return;
                }
                if (ec) {
                    recorder.fail(failure_reason("recv", ec));
                    co_return;
                }
                last_activity = Clock::now();
                recorder.received(std::span<const std::byte>(buffer_).first(n), last_activity);
                if (recorder.done()) {
                    co_return;
                }
            }
        } catch (...) {
            // Swallowed here, not in download(): an exception out of this coroutine would not count as
            // winning the ||, which would leave the watchdog to report a time-out instead.
            recorder.fail(unexpected_error(std::current_exception()));
        }
    }

    /// Connects `socket` to the first of `endpoints` that accepts; else the last one's error. Not
    /// asio::async_connect over the range: when it cannot open the socket (EMFILE: no fd left), asio
    /// 1.22's range_connect_op finds the socket closed and reports operation_aborted instead, so the
    /// download would say "Operation aborted." where every other strategy says "Too many open files".
    /// Like range_connect_op, it stops between endpoints once the download has ended (the watchdog
    /// failed it while a connect was finishing): a cancellation only reaches an operation in progress.
    awaitable<std::error_code> connect_any(tcp::socket& socket, const tcp::resolver::results_type& endpoints,
                                           const DownloadRecorder& recorder) {
        std::error_code ec = asio::error::not_found;  // what asio says for no endpoints at all
        for (const auto& entry : endpoints) {
            if (recorder.done()) {
                co_return asio::error::operation_aborted;
            }
            std::error_code ignored;
            socket.close(ignored);
            socket.open(entry.endpoint().protocol(), ec);
            if (ec) {
                continue;
            }
            auto [connect_ec] = co_await socket.async_connect(entry.endpoint(), use_tuple);
            ec = connect_ec;
            // A reset here can come after a completed handshake (see fetch): not a reason to try another.
            if (!ec || ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
                break;
            }
        }
        co_return ec;
    }

    /// Reads what the socket has queued now, without waiting.
    void take_queued(tcp::socket& socket, DownloadRecorder& recorder) {
        std::error_code ec;
        socket.non_blocking(true, ec);
        while (!ec) {
            const std::size_t n = socket.read_some(asio::buffer(buffer_), ec);
            if (!ec) {
                recorder.received(std::span<const std::byte>(buffer_).first(n));
            }
        }
    }

    /// Sleeps until the limits' expiry, and again while fetch() keeps moving it: a chunk costs fetch()
    /// one assignment, not a timer reset. Returns when a limit has passed (the download is failed) or
    /// when fetch() finished first and the || cancelled the wait.
    awaitable<void> watchdog(DownloadRecorder& recorder, const TimePoint& last_activity) {
        try {
            asio::steady_timer timer(io_);
            const TimePoint started = recorder.started();
            for (;;) {
                timer.expires_at(limits_.expiry(started, last_activity));
                auto [ec] = co_await timer.async_wait(use_tuple);
                if (ec || recorder.done()) {
                    co_return;
                }
                if (auto why = limits_.passed(started, last_activity, Clock::now())) {
                    recorder.fail(*why);
                    co_return;
                }
            }
        } catch (...) {
            recorder.fail(unexpected_error(std::current_exception()));
        }
    }

    DownloadLimits limits_;
    Interruption* interruption_;
    // One buffer for every download, not one each (64 KiB each would be 640 MB at 10,000): they take
    // turns on one thread, and each chunk is copied into its recorder in the step that read it.
    std::vector<std::byte> buffer_ = std::vector<std::byte>(receive_buffer_size);
    // A deque, so that recorders never move while coroutines hold references to them.
    std::deque<DownloadRecorder> recorders_;
    // Last, so that it is destroyed first: should run() ever leave coroutines suspended, their frames
    // (which refer to the members above) go with it.
    asio::io_context io_{1};
};

}  // namespace

std::vector<DownloadResult> download_asio(std::span<const Download> downloads,
                                          const StrategySettings& settings, DownloadObserver& observer) {
    return AsioDownloads(downloads, settings, observer).run();
}

}  // namespace poetry::client
