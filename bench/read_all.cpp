// The fast-path reader: connects to 127.0.0.1:PORT, reads to the end with a large buffer, and prints
// one JSON line with the bytes, the seconds from connect to end of stream, and its own CPU seconds (a
// reader near a whole core would be the bottleneck, not the sender it measures).
#include <sys/resource.h>

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
    // The clock poetry::Clock names, spelled out: this driver links poetry::net only, not the loop layer
    // that holds the alias.
    const auto start = std::chrono::steady_clock::now();
    poetry::net::Socket socket = poetry::net::connect(
        poetry::net::Address("127.0.0.1", static_cast<std::uint16_t>(std::stoi(argv[1]))));
    std::vector<std::byte> buffer(1 << 20);
    std::size_t total = 0;
    while (const std::size_t n = socket.recv(buffer)) {
        total += n;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const auto cpu = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    std::printf("{\"bytes\": %zu, \"seconds\": %.3f, \"mb_per_s\": %.1f, \"cpu_s\": %.3f}\n", total, seconds,
                static_cast<double>(total) / 1e6 / seconds, cpu(usage.ru_utime) + cpu(usage.ru_stime));
    return 0;
}
