// futures: the callback layer's Futures, chained. Connecting returns a future; its completion starts
// the reads (then()); each read is a future of one chunk; each poem is a future that completes at the
// end of the stream. This is Twisted's Deferred style on our loop.
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "poetry/detail/syscall.hpp"
#include "poetry/loop/future.hpp"
#include "poetry/loop/resolver.hpp"
#include "poetry/net/connect_attempts.hpp"
#include "poetry/net/socket.hpp"
#include "strategies/limit_timer.hpp"
#include "strategies/loop_errors.hpp"
#include "strategy.hpp"

namespace poetry::client {
namespace {

using Endpoints = std::vector<net::Endpoint>;

// ---- futures of socket operations ----------------------------------------------------------------

/// A reader or writer callback registered on the loop, owned by the future it will complete: when the
/// future is cancelled or dropped, the registration goes with it.
class FdCallbackRegistration final : public FutureProducer {
public:
    FdCallbackRegistration(EventLoop& loop, int fd, EventMask direction, Callback callback)
        : loop_(loop), fd_(fd), direction_(direction) {
        direction == EventMask::read ? loop.add_reader(fd, std::move(callback))
                                     : loop.add_writer(fd, std::move(callback));
    }
    FdCallbackRegistration(const FdCallbackRegistration&) = delete;
    FdCallbackRegistration& operator=(const FdCallbackRegistration&) = delete;
    ~FdCallbackRegistration() override {
        direction_ == EventMask::read ? loop_.remove_reader(fd_) : loop_.remove_writer(fd_);
    }

private:
    EventLoop& loop_;
    int fd_;
    EventMask direction_;
};

/// A connected socket from the first endpoint of `address` that accepts (net::ConnectAttempts), looked
/// up off the loop first; or "resolve: <reason>", or the last endpoint's "connect: <reason>".
class Connector final : public FutureProducer {
public:
    Connector(EventLoop& loop, WeakFuture<net::Socket> target) : loop_(loop), target_(std::move(target)) {}
    Connector(const Connector&) = delete;
    Connector& operator=(const Connector&) = delete;
    ~Connector() override {
        // Cancelled or dropped: nothing may call back here (not even a callback already scheduled),
        // and a lookup still under way is abandoned.
        if (resolving_) {
            resolving_->remove_done_callback(resolved_callback_);
            resolving_->cancel();
        }
    }

    void resolve(const net::Address& address) {
        resolving_ = poetry::resolve(loop_, address);
        resolved_callback_ = resolving_->add_done_callback([this, address](Future<Endpoints>& resolved) {
            try {
                attempts_.emplace(address, resolved.take_result());
            } catch (const std::system_error& e) {
                // The report names the address already, as in the other strategies.
                return fail(std::make_exception_ptr(std::system_error(e.code(), "resolve")));
            } catch (...) {
                return fail(std::current_exception());
            }
            connect_next();
        });
    }

private:
    void connect_next() {
        watch_.reset();
        while (const net::Endpoint* endpoint = attempts_->next()) {
            std::error_code ec;
            socket_ = net::start_connect(*endpoint, ec);
            if (!ec) {
                return complete({});
            }
            if (ec == std::errc::operation_in_progress) {
                watch();
                return;
            }
            attempts_->failed(ec);
        }
        complete(attempts_->error());
    }

    void watch() {
        try {
            watch_ = std::make_unique<FdCallbackRegistration>(loop_, socket_.fd(), EventMask::write, [this] {
                if (const auto error = socket_.connect_error()) {
                    attempts_->failed(error);
                    connect_next();
                } else {
                    complete({});
                }
            });
        } catch (...) {  // a selector that cannot take the fd (select's FD_SETSIZE)
            fail(std::current_exception());
        }
    }

    void complete(std::error_code ec) {
        watch_.reset();
        if (auto future = target_.lock(); future && !future->done()) {
            ec ? future->set_exception(std::make_exception_ptr(std::system_error(ec, "connect")))
               : future->set_result(std::move(socket_));
        }
    }

    void fail(std::exception_ptr error) {
        if (auto future = target_.lock(); future && !future->done()) {
            future->set_exception(std::move(error));
        }
    }

    EventLoop& loop_;
    WeakFuture<net::Socket> target_;
    std::optional<Future<Endpoints>> resolving_;
    std::uint64_t resolved_callback_ = 0;
    std::optional<net::ConnectAttempts> attempts_;  // once resolved
    net::Socket socket_;
    std::unique_ptr<FdCallbackRegistration> watch_;
};

Future<net::Socket> connect_async(EventLoop& loop, const net::Address& address) {
    Future<net::Socket> future(loop);
    auto connector = std::make_unique<Connector>(loop, future.weak());
    auto& started = *connector;
    future.set_producer(std::move(connector));
    started.resolve(address);
    return future;
}

/// Completes `future` with what one recv gives: the bytes as a string (empty at the end of the
/// stream). The bytes are copied out of the shared buffer at once, because the future's callbacks
/// run later, after other downloads have used the buffer. @returns false if it would block.
bool try_recv(net::Socket& socket, std::span<std::byte> buffer, Future<std::string>& future) {
    std::error_code ec;
    const std::size_t n = socket.recv(buffer, ec);
    if (detail::is_would_block(ec)) {
        return false;
    }
    if (ec) {
        future.set_exception(std::make_exception_ptr(std::system_error(ec, "recv")));
    } else {
        future.set_result(std::string(reinterpret_cast<const char*>(buffer.data()), n));
    }
    return true;
}

/// The next chunk from `socket`: tried at once, and when the socket is readable if it would block.
Future<std::string> recv_async(EventLoop& loop, net::Socket& socket, std::span<std::byte> buffer) {
    Future<std::string> future(loop);
    if (try_recv(socket, buffer, future)) {
        return future;
    }
    try {
        future.set_producer(std::make_unique<FdCallbackRegistration>(
            loop, socket.fd(), EventMask::read, [&socket, buffer, weak = future.weak()] {
                if (auto pending = weak.lock();
                    pending && !pending->done() && try_recv(socket, buffer, *pending)) {
                    pending->set_producer(nullptr);  // done: stop watching the socket
                }
            }));
    } catch (...) {
        future.set_exception(std::current_exception());
    }
    return future;
}

// ---- one poem ------------------------------------------------------------------------------------

/// The chunk being read, owned by the poem's future: cancelling the poem drops it, and a chunk's future
/// dropped while pending removes its reader.
class ChunkUnderWay final : public FutureProducer {
public:
    explicit ChunkUnderWay(Future<std::string> chunk) noexcept : chunk_(std::move(chunk)) {}

private:
    Future<std::string> chunk_;
};

/// What the continuations of one download share.
struct PoemFetch {
    PoemFetch(EventLoop& event_loop, const Download& download, DownloadObserver& observer,
              std::span<std::byte> receive_buffer, DownloadLimits limits)
        : loop(event_loop),
          recorder(download, observer),
          buffer(receive_buffer),
          poem(event_loop),
          timer(event_loop, limits, [this](const std::string& reason) { give_up(reason); }) {}

    /// A limit passed (`reason`), or the run was asked to stop (nothing): the download's chain is
    /// cancelled, and with it whichever step is under way (a then() future cancels what it waits on:
    /// the connect, or the poem, which owns its read); its completion says which.
    void give_up(std::optional<std::string> reason) {
        if (gave_up || interrupted) {
            return;
        }
        if (reason) {
            gave_up = std::move(reason);
        } else {
            interrupted = true;
        }
        if (chain) {
            chain->cancel();
        }
    }

    EventLoop& loop;
    DownloadRecorder recorder;
    std::span<std::byte> buffer;
    net::Socket socket;
    // The whole chain (fetch_poem), once started. Its steps' callbacks hold this fetch in turn: each
    // lets go as its step completes or is cancelled, so no cycle outlives the download.
    std::optional<Future<void>> chain;
    Future<void> poem;  // completes at the end of the stream
    LimitTimer timer;
    std::optional<std::string> gave_up;  // why a limit ended it
    bool interrupted = false;            // the run was asked to stop
};

/// Reads the next chunk, and from its completion the one after: a chain of one future per chunk, each
/// owned by the poem while it is under way. (Returning each next future from then() would nest them,
/// keeping every chunk's future alive until the poem ends; completing one poem future keeps memory flat.)
void read_next(const std::shared_ptr<PoemFetch>& fetch) {
    auto reading = recv_async(fetch->loop, fetch->socket, fetch->buffer);
    reading.add_done_callback([fetch](Future<std::string>& chunk) {
        if (fetch->poem.done()) {
            return;  // cancelled after this chunk had arrived
        }
        if (auto error = chunk.exception()) {
            fetch->poem.set_exception(error);
            return;
        }
        const std::string& data = chunk.result();
        if (data.empty()) {
            fetch->poem.set_result();
            return;
        }
        fetch->timer.touch();
        fetch->recorder.received(std::as_bytes(std::span(data)));
        if (fetch->recorder.done()) {  // its observer failed: the outcome is recorded
            fetch->poem.set_result();
            return;
        }
        read_next(fetch);
    });
    fetch->poem.set_producer(std::make_unique<ChunkUnderWay>(std::move(reading)));
}

/// The whole download: a future that completes when the poem has ended (or failed).
Future<void> fetch_poem(const std::shared_ptr<PoemFetch>& fetch) {
    fetch->timer.start();  // the limits count the lookup too: cancelling the chain abandons it
    // then() on a temporary takes the value: the continuation gets the socket itself.
    return connect_async(fetch->loop, fetch->recorder.download().address).then([fetch](net::Socket socket) {
        fetch->socket = std::move(socket);
        fetch->recorder.connected();
        fetch->timer.touch();
        if (fetch->recorder.done()) {
            fetch->poem.set_result();
            return fetch->poem;
        }
        read_next(fetch);
        return fetch->poem;
    });
}

}  // namespace

std::vector<DownloadResult> download_futures(std::span<const Download> downloads,
                                             const StrategySettings& settings, DownloadObserver& observer) {
    EventLoop loop(make_selector(settings.selector));
    const LoopErrors errors(loop);
    if (settings.resolve_function) {
        loop.resolver().set_resolve_function(settings.resolve_function);
    }
    std::vector<std::byte> buffer(receive_buffer_size);  // shared: try_recv copies each chunk out at once
    std::size_t remaining = downloads.size();
    std::vector<std::shared_ptr<PoemFetch>> fetches;
    fetches.reserve(downloads.size());
    for (const auto& download : downloads) {
        auto fetch = std::make_shared<PoemFetch>(loop, download, observer, buffer, settings.limits());
        fetches.push_back(fetch);
        loop.call_soon([&, fetch] {
            if (fetch->interrupted) {
                fetch->recorder.interrupt();  // stopped before its turn
                if (--remaining == 0) {
                    loop.stop();
                }
                return;
            }
            fetch->chain = fetch_poem(fetch);
            fetch->chain->add_done_callback([&, fetch](Future<void>& poem) {
                fetch->timer.stop();
                fetch->socket.close();
                if (fetch->interrupted) {
                    fetch->recorder.interrupt();
                } else if (fetch->gave_up) {
                    fetch->recorder.fail(*fetch->gave_up);
                } else if (auto error = poem.exception()) {
                    fetch->recorder.fail(describe_exception(error));
                } else {
                    fetch->recorder.end_of_stream();
                }
                if (--remaining == 0) {
                    loop.stop();
                }
            });
        });
    }
    if (settings.interruption != nullptr) {
        loop.add_reader(settings.interruption->fd(), [&] {
            loop.remove_reader(settings.interruption->fd());  // it stays readable
            for (auto& fetch : fetches) {
                fetch->give_up(std::nullopt);
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
    results.reserve(fetches.size());
    for (auto& fetch : fetches) {
        results.push_back(fetch->recorder.take_result());
    }
    return results;
}

}  // namespace poetry::client
