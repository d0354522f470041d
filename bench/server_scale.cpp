// Load driver for the server-scale benchmark: K concurrent downloads from one port on the library's
// coroutine layer, measuring how late each chunk arrives against its absolute schedule: chunk k is due
// k x delay after the schedule's start. The client cannot see the start (the server's accept), and its
// own connect time is a poor stand-in (with thousands of connects in flight, the coroutine that made
// one resumes late); since no chunk leaves early, the start is estimated as the earliest that any
// chunk implies, min(arrival_k - k x delay). The time from connect to the first byte is reported on
// its own. With RAMP seconds, the connects are spread evenly over that time instead of all at once, as
// clients that arrive over a while rather than in one burst (whose schedules then all coincide).
// Prints one JSON line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "poetry/coro/awaitables.hpp"
#include "poetry/coro/create_task.hpp"
#include "poetry/coro/gather.hpp"
#include "poetry/net/fd_limit.hpp"

namespace {

using poetry::Clock;

struct Result {
    std::size_t bytes = 0;
    std::vector<double> lateness_ms;  // one per chunk
    double first_byte_ms = 0;         // from connect() returning to chunk 0
    bool failed = false;
};

poetry::Task<Result> download(poetry::EventLoop& loop, poetry::net::Endpoint server, std::size_t num_bytes,
                              Clock::duration delay, Clock::duration connect_after) {
    Result result;
    try {
        if (connect_after > Clock::duration::zero()) {
            co_await poetry::sleep(loop, connect_after);
        }
        poetry::net::Socket socket = co_await poetry::connect(loop, server);
        const auto connected = Clock::now();
        std::vector<std::pair<std::size_t, Clock::time_point>> arrivals;  // (chunk, when)
        std::byte buffer[4096];
        while (const std::size_t n = co_await poetry::recv(loop, socket, buffer)) {
            const auto now = Clock::now();
            if (result.bytes == 0) {
                result.first_byte_ms = std::chrono::duration<double, std::milli>(now - connected).count();
            }
            for (std::size_t k = result.bytes / num_bytes; (k + 1) * num_bytes <= result.bytes + n; ++k) {
                arrivals.emplace_back(k, now);
            }
            result.bytes += n;
        }
        auto start = Clock::time_point::max();
        for (const auto& [k, when] : arrivals) {
            start = std::min(start, when - delay * static_cast<std::int64_t>(k));
        }
        for (const auto& [k, when] : arrivals) {
            const auto due = start + delay * static_cast<std::int64_t>(k);
            result.lateness_ms.push_back(std::chrono::duration<double, std::milli>(when - due).count());
        }
    } catch (const std::exception&) {
        result.failed = true;
    }
    co_return result;
}

double percentile(std::vector<double>& values, double p) {
    if (values.empty()) {
        return 0;
    }
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index), values.end());
    return values[index];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6 && argc != 7) {
        std::fprintf(stderr, "usage: %s PORT NUM_BYTES DELAY CONNECTIONS POEM_BYTES [RAMP]\n", argv[0]);
        return 2;
    }
    const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
    const std::size_t num_bytes = std::stoul(argv[2]);
    const auto delay =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(std::stod(argv[3])));
    const std::size_t connections = std::stoul(argv[4]);
    const std::size_t poem_bytes = std::stoul(argv[5]);
    const auto ramp = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(argc == 7 ? std::stod(argv[6]) : 0.0));
    poetry::net::raise_fd_limit(connections + 64);

    poetry::EventLoop loop;
    std::vector<poetry::Task<Result>> tasks;
    for (std::size_t i = 0; i < connections; ++i) {
        const auto connect_after = ramp * static_cast<std::int64_t>(i) / static_cast<std::int64_t>(connections);
        tasks.push_back(
            download(loop, poetry::net::Endpoint::numeric("127.0.0.1", port), num_bytes, delay, connect_after));
    }
    const auto start = Clock::now();
    auto results = poetry::run(loop, poetry::gather(loop, std::move(tasks)));
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();

    std::size_t complete = 0;
    std::vector<double> lateness;
    std::vector<double> first_byte;
    for (auto& result : results) {
        complete += !result.failed && result.bytes == poem_bytes ? 1 : 0;
        lateness.insert(lateness.end(), result.lateness_ms.begin(), result.lateness_ms.end());
        first_byte.push_back(result.first_byte_ms);
    }
    const double max = lateness.empty() ? 0 : *std::max_element(lateness.begin(), lateness.end());
    std::printf(
        "{\"connections\": %zu, \"complete\": %zu, \"chunks\": %zu, \"wall_s\": %.2f, "
        "\"lateness_ms\": {\"p50\": %.2f, \"p99\": %.2f, \"max\": %.2f}, \"first_byte_ms_p99\": %.1f, "
        "\"ramp_s\": %.2f}\n",
        connections, complete, lateness.size(), wall, percentile(lateness, 0.5), percentile(lateness, 0.99),
        max, percentile(first_byte, 0.99), std::chrono::duration<double>(ramp).count());
    return complete == connections ? 0 : 1;
}
