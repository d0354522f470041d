// The real poetry_server, started for a test on free ports: it writes a --ports-file into a temp dir,
// and the fixture waits for it before the test connects. Killed and reaped whatever happens.
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "poetry/net/socket.hpp"
#include "support/child_process.hpp"
#include "support/clock.hpp"
#include "support/temp_dir.hpp"

namespace poetry::test {

inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Writes a file of `size` letters whose pattern (26 letters, shifted by one every 4,099 bytes) has a
/// period of 106,574 bytes: no chunk size a test uses divides it, so a lost or doubled chunk shows.
inline void write_patterned_file(const std::filesystem::path& path, std::size_t size) {
    std::string content(size, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) {
        content[i] = static_cast<char>('a' + (i * 31 + i / 4099) % 26);
    }
    std::ofstream(path, std::ios::binary) << content;
}

/// Why this machine cannot listen on the IPv6 loopback, or nothing when it can: IPv6 tests say so and
/// test nothing there.
inline std::optional<std::string> no_ipv6_loopback() {
    std::error_code ec;
    net::listen(net::Endpoint::numeric("::1", 0), 1, ec);
    return ec ? std::optional<std::string>(ec.message()) : std::nullopt;
}

/// The last non-empty line of a program's output, without its newline: the server's summary
/// ("Stopped after ...") once it has stopped.
inline std::string last_line(const std::string& text) {
    const auto end = text.find_last_not_of('\n');
    if (end == std::string::npos) {
        return "";
    }
    const auto start = text.rfind('\n', end);
    const auto first = start == std::string::npos ? 0 : start + 1;
    return text.substr(first, end - first + 1);
}

inline std::string poem_path(const std::string& name) {
    // Appended, not `std::string(DIR) + "/" + name`: GCC 12 reports a false -Warray-bounds in that
    // operator+ chain once it is inlined at -O1 (the tsan preset, test_client_exhaustion.cpp).
    std::string path = POETRY_POEMS_DIR;
    path += '/';
    path += name;
    return path;
}

struct ListenerInfo {
    std::string host;
    std::uint16_t port = 0;
    std::string poem;
    std::size_t bytes = 0;
    std::size_t num_bytes = 0;
    double delay = 0;
    std::string upstream;  // "HOST:PORT" for a proxied listener
};

/// What a server run that is expected to end by itself said and returned.
struct Exited {
    int status = -1;
    std::string out;
    std::string err;
};

/// Runs poetry_server with `args` and waits (at most 10 s) for it to exit.
inline Exited run_server_to_exit(const std::vector<std::string>& args) {
    TempDir dir;
    std::vector<std::string> argv{POETRY_SERVER_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess process(argv, {dir / "out", dir / "err", std::nullopt, std::nullopt});
    const auto status = process.wait(std::chrono::seconds(10));
    if (!status) {
        throw std::runtime_error("poetry_server did not exit within 10 s");
    }
    return {*status, read_file(dir / "out"), read_file(dir / "err")};
}

class RunningServer {
public:
    explicit RunningServer(const std::vector<std::string>& args,
                           std::optional<rlim_t> fd_limit = std::nullopt,
                           std::optional<rlim_t> fd_soft_limit = std::nullopt)
        : process_(command(args), {dir_ / "out", dir_ / "err", fd_limit, fd_soft_limit}) {
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        while (!std::filesystem::exists(dir_ / "ports.json")) {
            if (!process_.running()) {
                throw std::runtime_error("poetry_server exited at start: " + err());
            }
            if (Clock::now() > deadline) {
                throw std::runtime_error("poetry_server wrote no ports file within 10 s");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        for (const auto& entry : nlohmann::json::parse(read_file(dir_ / "ports.json"))) {
            // A proxied listener names its upstream instead of a poem, and has no size.
            listeners_.push_back({entry.at("host"), entry.at("port"), entry.value("poem", ""), entry.value("bytes", 0U),
                                  entry.at("num_bytes"), entry.at("delay"), entry.value("upstream", "")});
        }
    }

    [[nodiscard]] const std::vector<ListenerInfo>& listeners() const noexcept { return listeners_; }
    [[nodiscard]] std::uint16_t port(std::size_t i = 0) const { return listeners_.at(i).port; }
    [[nodiscard]] std::filesystem::path ports_file() const { return dir_ / "ports.json"; }
    [[nodiscard]] std::string out() const { return read_file(dir_ / "out"); }
    [[nodiscard]] std::string err() const { return read_file(dir_ / "err"); }
    [[nodiscard]] bool running() { return process_.running(); }
    [[nodiscard]] pid_t pid() const noexcept { return process_.pid(); }

    /// Waits up to `timeout` for `text` to appear on the server's stdout.
    bool wait_for_output(const std::string& text,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
        return wait_for(dir_ / "out", text, timeout);
    }

    /// Waits up to `timeout` for `text` to appear on the server's stderr.
    bool wait_for_error(const std::string& text,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
        return wait_for(dir_ / "err", text, timeout);
    }

    /// Sends `signal` and waits (at most 10 s) for the exit status; -1 if it did not exit.
    int stop(int signal = SIGTERM) {
        process_.signal(signal);
        return process_.wait(std::chrono::seconds(10)).value_or(-1);
    }

private:
    static bool wait_for(const std::filesystem::path& file, const std::string& text,
                         std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        while (read_file(file).find(text) == std::string::npos) {
            if (Clock::now() > deadline) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return true;
    }

    std::vector<std::string> command(const std::vector<std::string>& args) const {
        std::vector<std::string> argv{POETRY_SERVER_PATH, "--ports-file", (dir_ / "ports.json").string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }

    TempDir dir_;
    ChildProcess process_;
    std::vector<ListenerInfo> listeners_;
};

}  // namespace poetry::test
