// A scripted poetry server on a free loopback port, for tests that run a client in the same process:
// every connection gets the same bytes in chunks with a pause between them, then ends the way the
// script says (a clean close, a reset, or silence). One thread accepts; each connection has its own.
#pragma once

#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "poetry/net/socket.hpp"

namespace poetry::test {

/// How a FakeServer ends a connection once it has sent its bytes.
enum class Ending {
    close,    // a clean close (FIN)
    reset,    // a reset (SO_LINGER 0), once the client's kernel has acknowledged every byte
    silence,  // keeps the connection open and sends nothing more, until the server goes
};

struct Script {
    using Hook = std::function<void(const std::stop_token&)>;

    Script(std::string bytes_, std::size_t chunk_, std::chrono::milliseconds pause_, Ending ending_,
           Hook before_reset_ = {})
        : bytes(std::move(bytes_)), chunk(chunk_), pause(pause_), ending(ending_),
          before_reset(std::move(before_reset_)) {}

    std::string bytes;
    std::size_t chunk;  // 0: all at once
    std::chrono::milliseconds pause;
    Ending ending;
    /// With Ending::reset: waited for before the reset (a test that must see the bytes first).
    Hook before_reset;
};

class FakeServer {
public:
    explicit FakeServer(Script script) : script_(std::move(script)) {
        acceptor_ = std::jthread([this](const std::stop_token& stop) { accept_all(stop); });
    }
    FakeServer(const FakeServer&) = delete;
    FakeServer& operator=(const FakeServer&) = delete;
    ~FakeServer() {
        acceptor_.request_stop();
        acceptor_.join();
        const std::scoped_lock lock(mutex_);
        sessions_.clear();  // each jthread: stop, then join
    }

    [[nodiscard]] std::uint16_t port() const { return listener_.local_endpoint().port(); }
    [[nodiscard]] net::Address address() const { return net::Address("127.0.0.1", port()); }
    [[nodiscard]] std::size_t accepted() const noexcept { return accepted_; }

private:
    void accept_all(const std::stop_token& stop) {
        while (!stop.stop_requested()) {
            pollfd ready{listener_.fd(), POLLIN, 0};
            if (::poll(&ready, 1, 10) <= 0) {
                continue;
            }
            std::error_code ec;
            net::Socket client = net::accept(listener_, ec);
            if (ec) {
                continue;
            }
            ++accepted_;
            const std::scoped_lock lock(mutex_);
            sessions_.emplace_back([this, client = std::move(client)](const std::stop_token& session_stop) mutable {
                serve(std::move(client), session_stop);
            });
        }
    }

    void serve(net::Socket client, const std::stop_token& stop) const {
        const std::string& bytes = script_.bytes;
        const std::size_t chunk = script_.chunk == 0 ? bytes.size() : script_.chunk;
        for (std::size_t offset = 0; offset < bytes.size() && !stop.stop_requested(); offset += chunk) {
            if (offset > 0) {
                std::this_thread::sleep_for(script_.pause);  // the pacing under test, not a wait for state
            }
            std::error_code ec;
            const auto piece = std::string_view(bytes).substr(offset, chunk);
            client.send_all(net::as_bytes(piece), ec);
            if (ec) {
                return;
            }
        }
        switch (script_.ending) {
            case Ending::close:
                return;
            case Ending::reset:
                // Bytes not yet acknowledged would be thrown away with the reset: wait until the client's
                // kernel has them all (it hands them out before the reset's error).
                for (int unacknowledged = 1; !stop.stop_requested() &&
                                             ::ioctl(client.fd(), SIOCOUTQ, &unacknowledged) == 0 &&
                                             unacknowledged > 0;) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
                if (script_.before_reset) {
                    script_.before_reset(stop);
                }
                {
                    const linger abort_on_close{1, 0};
                    ::setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
                }
                return;
            case Ending::silence:
                // Until the client goes (readable at its end of stream) or the server stops.
                while (!stop.stop_requested()) {
                    pollfd ready{client.fd(), POLLIN, 0};
                    if (::poll(&ready, 1, 10) > 0) {
                        return;
                    }
                }
                return;
        }
    }

    net::Socket listener_ = net::listen(net::Endpoint::numeric("127.0.0.1", 0));
    Script script_;
    std::atomic<std::size_t> accepted_{0};
    std::mutex mutex_;
    std::vector<std::jthread> sessions_;  // guarded by mutex_
    std::jthread acceptor_;              // last: stopped and joined before the members above go
};

}  // namespace poetry::test
