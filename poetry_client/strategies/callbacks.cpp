// callbacks: the library's event loop and selector, with one callback object per download that moves
// through resolving -> connecting -> reading -> done as the loop's resolver answers, then the loop
// reports its socket writable, then readable. Nothing waits: every step is a callback, so all
// downloads advance together on one thread.
#include <deque>
#include <exception>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "poetry/detail/syscall.hpp"
#include "poetry/loop/event_loop.hpp"
#include "poetry/loop/resolver.hpp"
#include "poetry/net/connect_attempts.hpp"
#include "poetry/net/socket.hpp"
#include "strategies/limit_timer.hpp"
#include "strategies/loop_errors.hpp"
#include "strategy.hpp"

namespace poetry::client {
namespace {

using Endpoints = std::vector<net::Endpoint>;

class PoemProtocol {
public:
    PoemProtocol(EventLoop& loop, const Download& download, DownloadObserver& observer,
                 std::span<std::byte> buffer, DownloadLimits limits, std::function<void()> on_done)
        : loop_(loop),
          recorder_(download, observer),
          buffer_(buffer),
          timer_(loop, limits, [this](const std::string& reason) { fail(reason); }),
          on_done_(std::move(on_done)) {}
    PoemProtocol(const PoemProtocol&) = delete;
    PoemProtocol& operator=(const PoemProtocol&) = delete;

    void start() {
        if (done_) {
            return;  // interrupted before its turn
        }
        // The limits count the lookup too: it no longer holds up the loop, so a limit can end it.
        timer_.start();
        resolving_ = resolve(loop_, recorder_.download().address);
        resolving_->add_done_callback([this](Future<Endpoints>& resolved) { on_resolved(resolved); });
    }

    DownloadResult take_result() { return recorder_.take_result(); }

    /// The run was asked to stop: interrupted, with what has come so far.
    void interrupt() {
        if (!done_) {
            recorder_.interrupt();
            done();
        }
    }

private:
    void on_resolved(Future<Endpoints>& resolved) {
        if (done_) {
            return;  // a limit or an interruption ended it meanwhile (and cancelled the lookup)
        }
        try {
            attempts_.emplace(recorder_.download().address, resolved.take_result());
        } catch (const std::system_error& e) {
            fail(failure_reason("resolve", e.code()));  // the report names the address already
            return;
        } catch (const std::exception& e) {
            fail(std::string("resolve: ") + e.what());
            return;
        }
        connect_next();
    }

    // Tries the endpoints in turn (net::ConnectAttempts): the last failure is the one reported.
    void connect_next() {
        while (const net::Endpoint* endpoint = attempts_->next()) {
            std::error_code ec;
            socket_ = net::start_connect(*endpoint, ec);
            if (!ec) {
                connected();
                return;
            }
            if (ec == std::errc::operation_in_progress) {
                watch([this] { connect_finished(); }, &EventLoop::add_writer);
                return;
            }
            attempts_->failed(ec);
        }
        fail(failure_reason("connect", attempts_->error()));
    }

    void connect_finished() {
        loop_.remove_writer(socket_.fd());
        if (const auto ec = socket_.connect_error()) {
            socket_.close();
            attempts_->failed(ec);
            connect_next();
            return;
        }
        connected();
    }

    void connected() {
        recorder_.connected();
        if (recorder_.done()) {  // its observer failed
            done();
            return;
        }
        timer_.touch();
        watch([this] { readable(); }, &EventLoop::add_reader);
    }

    // One recv per readiness, like asyncio's transports: a flood from one server cannot starve the rest.
    void readable() {
        std::error_code ec;
        const std::size_t n = socket_.recv(buffer_, ec);
        if (detail::is_would_block(ec)) {
            return;
        }
        if (ec) {
            fail(failure_reason("recv", ec));
        } else if (n == 0) {
            recorder_.end_of_stream();
            done();
        } else {
            timer_.touch();
            recorder_.received(buffer_.first(n));
            if (recorder_.done()) {  // its observer failed
                done();
            }
        }
    }

    // add_reader/add_writer refuse an fd the selector cannot watch (select's FD_SETSIZE).
    void watch(Callback callback, void (EventLoop::*add)(int, Callback)) {
        try {
            (loop_.*add)(socket_.fd(), std::move(callback));
        } catch (const std::exception& e) {
            fail(std::string("watch socket: ") + e.what());
        }
    }

    void fail(const std::string& reason) {
        recorder_.fail(reason);
        done();
    }

    void done() {
        if (std::exchange(done_, true)) {
            return;
        }
        if (resolving_ && !resolving_->done()) {
            resolving_->cancel();  // a lookup not started never runs; one under way is dropped
        }
        if (socket_) {
            loop_.remove_reader(socket_.fd());
            loop_.remove_writer(socket_.fd());
            socket_.close();
        }
        timer_.stop();
        on_done_();
    }

    EventLoop& loop_;
    DownloadRecorder recorder_;
    std::span<std::byte> buffer_;
    LimitTimer timer_;
    std::function<void()> on_done_;
    std::optional<Future<Endpoints>> resolving_;
    std::optional<net::ConnectAttempts> attempts_;  // once resolved
    net::Socket socket_;
    bool done_ = false;
};

}  // namespace

std::vector<DownloadResult> download_callbacks(std::span<const Download> downloads,
                                               const StrategySettings& settings, DownloadObserver& observer) {
    EventLoop loop(make_selector(settings.selector));
    const LoopErrors errors(loop);
    if (settings.resolve_function) {
        loop.resolver().set_resolve_function(settings.resolve_function);
    }
    // One receive buffer for all: they run on one thread and each chunk is copied out at once.
    std::vector<std::byte> buffer(receive_buffer_size);
    std::size_t remaining = downloads.size();
    std::deque<PoemProtocol> protocols;  // stable addresses: the loop's callbacks point at them
    for (const auto& download : downloads) {
        auto& protocol = protocols.emplace_back(loop, download, observer, buffer, settings.limits(), [&] {
            if (--remaining == 0) {
                loop.stop();
            }
        });
        loop.call_soon([&protocol] { protocol.start(); });
    }
    if (settings.interruption != nullptr) {
        loop.add_reader(settings.interruption->fd(), [&] {
            loop.remove_reader(settings.interruption->fd());  // it stays readable
            for (auto& protocol : protocols) {
                protocol.interrupt();
            }
        });
    }
    if (remaining > 0) {
        loop.run_forever();
        errors.rethrow_if_any();
    }
    if (settings.interruption != nullptr) {
        loop.remove_reader(settings.interruption->fd());
    }
    std::vector<DownloadResult> results;
    results.reserve(downloads.size());
    for (auto& protocol : protocols) {
        results.push_back(protocol.take_result());
    }
    return results;
}

}  // namespace poetry::client
