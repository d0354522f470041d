// Clients for integration tests: a plain blocking one that records what arrived and when, and many
// read together on one thread.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "poetry/detail/syscall.hpp"
#include "poetry/net/socket.hpp"
#include "support/clock.hpp"

namespace poetry::test {

struct Piece {
    Clock::duration at;  // since connect
    std::size_t size;
};

struct Download {
    std::string bytes;
    std::vector<Piece> pieces;
    Clock::time_point connect_started;  // before connect(): no chunk can be due before it
    Clock::time_point connected;
    bool closed_by_server = false;  // end of stream seen
    std::string error;              // recv error, if any

    // at(), not front() and back(): a download that got nothing throws instead of reading past the end.
    [[nodiscard]] Clock::time_point first_byte() const { return connected + pieces.at(0).at; }
    [[nodiscard]] Clock::time_point last_byte() const { return connected + pieces.at(pieces.size() - 1).at; }
};

/// Everything the peer of `socket` sends until it ends its stream; `ec` says if the stream failed
/// instead, or was silent for `patience` ("would block").
inline std::string read_to_end(net::Socket& socket, std::error_code& ec,
                               std::chrono::seconds patience = std::chrono::seconds(10)) {
    socket.set_receive_timeout(patience, ec);
    std::string received;
    std::byte buffer[65536];
    while (const std::size_t n = socket.recv(buffer, ec)) {
        received.append(reinterpret_cast<const char*>(buffer), n);
    }
    return received;
}

/// Connects to 127.0.0.1:`port` and reads until end of stream, an error, 10 s of silence, or
/// `stop_after` bytes (then it closes, as a client that drops mid-poem).
inline Download download(std::uint16_t port, std::size_t stop_after = std::numeric_limits<std::size_t>::max(),
                         const std::string& host = "127.0.0.1") {
    Download result;
    result.connect_started = Clock::now();
    net::Socket socket = net::connect(net::Address(host, port));
    result.connected = Clock::now();
    const timeval patience{10, 0};  // a silent server fails the test instead of hanging it
    ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience));
    std::byte buffer[65536];
    while (result.bytes.size() < stop_after) {
        std::error_code ec;
        const std::size_t n = socket.recv(buffer, ec);
        if (ec) {
            result.error = ec.message();
            break;
        }
        if (n == 0) {
            result.closed_by_server = true;
            break;
        }
        result.pieces.push_back({Clock::now() - result.connected, n});
        result.bytes.append(reinterpret_cast<const char*>(buffer), n);
    }
    return result;
}

/// One of many clients read together: what it got and how its connection ended.
struct Reader {
    net::Socket socket;
    std::string bytes;
    bool ended = false;
    std::string error;  // empty when the server closed cleanly
};

/// Reads every client until each connection ends, or until `deadline`, on one thread with poll(2).
inline void read_until_all_end(std::vector<Reader>& readers, Clock::time_point deadline) {
    for (auto& reader : readers) {
        reader.socket.set_nonblocking();
    }
    std::byte buffer[4096];
    while (Clock::now() < deadline) {
        std::vector<pollfd> fds;
        std::vector<Reader*> open;
        for (auto& reader : readers) {
            if (!reader.ended) {
                fds.push_back({reader.socket.fd(), POLLIN, 0});
                open.push_back(&reader);
            }
        }
        if (fds.empty()) {
            return;
        }
        ::poll(fds.data(), fds.size(), 100);
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].revents == 0) {
                continue;
            }
            for (;;) {
                std::error_code ec;
                const std::size_t n = open[i]->socket.recv(buffer, ec);
                if (ec && poetry::detail::is_would_block(ec)) {
                    break;
                }
                if (ec || n == 0) {
                    open[i]->ended = true;
                    open[i]->error = ec ? ec.message() : "";
                    break;
                }
                open[i]->bytes.append(reinterpret_cast<const char*>(buffer), n);
            }
        }
    }
}

}  // namespace poetry::test
