// The floor: the least a paced poem server can do, for the benchmarks to measure every mode against.
// One thread, one epoll set holding only the listener (and the stop signal), a binary heap of due
// times, and one send(2) per chunk: chunk k of a client leaves at accept + k x delay. Nothing else: it
// does not read what clients send nor watch them leave (a send fails when they have), keeps no log,
// and on a full socket retries the chunk 1 ms later. Only libc and the standard library.
//
//   bench_minimal_sender --num-bytes N --delay S [--port P] --ports-file FILE POEM
//
// Writes FILE (`[{"host": "127.0.0.1", "port": P, "bytes": SIZE}]`) once listening; on SIGTERM or
// SIGINT prints "Stopped: served N clients, dropped D; sent B bytes; K chunks left late by p50 X ms,
// p99 Y ms, max Z ms" and exits 0.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <queue>
#include <string>
#include <vector>

namespace {

std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

struct Due {
    std::int64_t when;  // ns, CLOCK_MONOTONIC
    int fd;
    bool operator>(const Due& other) const { return when > other.when; }
};

struct Client {
    std::int64_t start = 0;
    std::size_t offset = 0;
    std::size_t chunk = 0;
};

// 0.1 ms buckets up to 100 ms, and one for later: like poetry_server's summary.
struct Lateness {
    std::vector<std::uint64_t> counts = std::vector<std::uint64_t>(1001);
    std::uint64_t total = 0;
    std::int64_t max_ns = 0;
    void record(std::int64_t late) {
        late = std::max<std::int64_t>(late, 0);
        ++counts[static_cast<std::size_t>(std::min<std::int64_t>(late / 100'000, 1000))];
        ++total;
        max_ns = std::max(max_ns, late);
    }
    double percentile_ms(double p) const {
        const auto rank = static_cast<std::uint64_t>(p * static_cast<double>(total));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts.size(); ++i) {
            seen += counts[i];
            if (seen > rank) {
                return static_cast<double>(i + 1) / 10.0;
            }
        }
        return 100.0;
    }
};

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "bench_minimal_sender: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t num_bytes = 10;
    double delay = 0.1;
    int port = 0;
    std::string ports_file;
    std::string poem_path;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--num-bytes" && has_value) {
            num_bytes = std::strtoul(argv[++i], nullptr, 10);
        } else if (arg == "--delay" && has_value) {
            delay = std::strtod(argv[++i], nullptr);
        } else if (arg == "--port" && has_value) {
            port = std::atoi(argv[++i]);
        } else if (arg == "--ports-file" && has_value) {
            ports_file = argv[++i];
        } else if (arg == "-q") {
        } else if (arg[0] != '-') {
            poem_path = arg;
        } else {
            std::fprintf(stderr, "usage: bench_minimal_sender --num-bytes N --delay S [--port P] --ports-file FILE POEM\n");
            return 2;
        }
    }
    std::ifstream in(poem_path, std::ios::binary);
    const std::string poem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (poem.empty() || num_bytes == 0 || ports_file.empty()) {
        std::fprintf(stderr, "bench_minimal_sender: need a non-empty poem, --num-bytes >= 1 and --ports-file\n");
        return 2;
    }
    const auto delay_ns = static_cast<std::int64_t>(delay * 1e9);

    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_signals, nullptr);
    const int stop_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC);

    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int on = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        listen(listener, SOMAXCONN) != 0) {
        die("listen");
    }
    socklen_t length = sizeof(address);
    getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    {
        const std::string temporary = ports_file + ".tmp";
        std::ofstream(temporary) << "[{\"host\": \"127.0.0.1\", \"port\": " << ntohs(address.sin_port)
                                 << ", \"bytes\": " << poem.size() << "}]\n";
        std::rename(temporary.c_str(), ports_file.c_str());
    }

    const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    for (const int fd : {listener, stop_fd}) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
    }

    std::vector<Client> clients;  // by fd
    std::priority_queue<Due, std::vector<Due>, std::greater<>> heap;
    Lateness lateness;
    std::uint64_t served = 0, dropped = 0, bytes_sent = 0;
    epoll_event events[2];
    for (;;) {
        int timeout_ms = -1;
        if (!heap.empty()) {
            const std::int64_t wait = heap.top().when - now_ns();
            timeout_ms = wait <= 0 ? 0 : static_cast<int>((wait + 999'999) / 1'000'000);
        }
        const int ready = epoll_wait(epoll_fd, events, 2, timeout_ms);
        bool stopping = false;
        for (int i = 0; i < ready; ++i) {
            if (events[i].data.fd == stop_fd) {
                stopping = true;
                continue;
            }
            for (;;) {
                const int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                    break;
                }
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
                if (static_cast<std::size_t>(fd) >= clients.size()) {
                    clients.resize(static_cast<std::size_t>(fd) * 2 + 1);
                }
                const std::int64_t start = now_ns();
                clients[static_cast<std::size_t>(fd)] = Client{start, 0, 0};
                heap.push(Due{start, fd});
            }
        }
        if (stopping) {
            break;
        }
        const std::int64_t now = now_ns();
        while (!heap.empty() && heap.top().when <= now) {
            const Due due = heap.top();
            heap.pop();
            Client& client = clients[static_cast<std::size_t>(due.fd)];
            const std::size_t size = std::min(num_bytes, poem.size() - client.offset);
            const ssize_t sent = send(due.fd, poem.data() + client.offset, size, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                heap.push(Due{due.when + 1'000'000, due.fd});
                continue;
            }
            if (sent <= 0) {
                close(due.fd);
                ++dropped;
                continue;
            }
            client.offset += static_cast<std::size_t>(sent);
            bytes_sent += static_cast<std::uint64_t>(sent);
            if (static_cast<std::size_t>(sent) < size) {
                heap.push(Due{due.when, due.fd});  // the rest of the chunk, at once
                continue;
            }
            lateness.record(now_ns() - due.when);
            if (client.offset >= poem.size()) {
                shutdown(due.fd, SHUT_WR);
                close(due.fd);
                ++served;
                continue;
            }
            ++client.chunk;
            heap.push(Due{client.start + static_cast<std::int64_t>(client.chunk) * delay_ns, due.fd});
        }
    }
    std::printf("Stopped: served %llu clients, dropped %llu; sent %llu bytes; %llu chunks left late by p50 %.1f ms, "
                "p99 %.1f ms, max %.1f ms\n",
                static_cast<unsigned long long>(served), static_cast<unsigned long long>(dropped),
                static_cast<unsigned long long>(bytes_sent), static_cast<unsigned long long>(lateness.total),
                lateness.percentile_ms(0.5), lateness.percentile_ms(0.99), static_cast<double>(lateness.max_ns) / 1e6);
    std::remove(ports_file.c_str());
    return 0;
}
