// A plain blocking client for integration tests that records what arrived and when.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "poetry/net/socket.hpp"

namespace poetry::test {

using Clock = std::chrono::steady_clock;

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

}  // namespace poetry::test
