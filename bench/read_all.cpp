// The fast-path reader: connects to 127.0.0.1:PORT, reads to the end with a large buffer, and prints
// one JSON line with the bytes and the seconds from connect to end of stream.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "poetry/net/socket.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    const auto start = std::chrono::steady_clock::now();
    poetry::net::Socket socket = poetry::net::connect(
        poetry::net::Address("127.0.0.1", static_cast<std::uint16_t>(std::stoi(argv[1]))));
    std::vector<std::byte> buffer(1 << 20);
    std::size_t total = 0;
    while (const std::size_t n = socket.recv(buffer)) {
        total += n;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("{\"bytes\": %zu, \"seconds\": %.3f, \"mb_per_s\": %.1f}\n", total, seconds,
                static_cast<double>(total) / 1e6 / seconds);
    return 0;
}
