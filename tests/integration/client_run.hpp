// Running a program to its end for a test (poetry_client mostly), with what it printed and returned,
// and a loopback port that refuses every connection. Shared by the client's integration suites.
#pragma once

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

#include "integration/server_process.hpp"
#include "poetry/net/socket.hpp"
#include "support/clock.hpp"

namespace poetry::test {

/// What a program run said and returned, and how long it took from the outside.
struct ProgramRun {
    std::vector<std::string> argv;
    int status = -1;
    std::string out;
    std::string err;
    std::chrono::duration<double> took{};
};

inline std::ostream& operator<<(std::ostream& out, const ProgramRun& run) {
    for (const auto& arg : run.argv) {
        out << arg << ' ';
    }
    return out << "\nexit status " << run.status << "\n--- stdout:\n"
               << run.out << "--- stderr:\n"
               << run.err;
}

/// The open-files limits a program starts under (none: the test's own).
struct FdLimits {
    std::optional<rlim_t> hard_and_soft = std::nullopt;  // both limits
    std::optional<rlim_t> soft = std::nullopt;           // the soft one only (what a login shell gives)
};

/// Runs `argv` under `limits` and waits (at most 60 s) for it to exit. `while_running`, if given, is
/// called with its pid just after it starts. A program that does not exit is killed and fails the test.
inline ProgramRun run_program(const std::vector<std::string>& argv,
                              const std::function<void(pid_t)>& while_running = {},
                              const FdLimits& limits = {}) {
    using namespace std::chrono_literals;
    const TempDir dir;
    const auto started = Clock::now();
    ChildProcess process(argv, {dir / "out", dir / "err", limits.hard_and_soft, limits.soft});
    if (while_running) {
        while_running(process.pid());
    }
    const auto status = process.wait(60s);
    ProgramRun run{argv, status.value_or(-1), read_file(dir / "out"), read_file(dir / "err"),
                   Clock::now() - started};
    if (!status) {
        BOOST_FAIL(argv.front() << " did not exit within 60 s (killed):\n" << run);
    }
    return run;
}

/// poetry_client with `args`, as run_program runs it.
inline ProgramRun run_client(const std::vector<std::string>& args,
                             const std::function<void(pid_t)>& while_running = {},
                             const FdLimits& limits = {}) {
    std::vector<std::string> argv{POETRY_CLIENT_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, while_running, limits);
}

/// The run's stdout as the --json document; fails the test if it is not JSON.
inline nlohmann::json report_of(const ProgramRun& run) {
    try {
        return nlohmann::json::parse(run.out);
    } catch (const nlohmann::json::exception& e) {
        BOOST_FAIL("stdout is not JSON (" << e.what() << "):\n" << run);
    }
    return {};
}

/// A loopback port where every connection is refused: a socket holds it bound and never listens, so no
/// other program can take it while the test runs.
class RefusedPort {
public:
    RefusedPort() {
        std::error_code ec;
        socket_ = net::Socket::open(AF_INET, ec);
        const auto any_port = net::Endpoint::numeric("127.0.0.1", 0);
        if (ec || ::bind(socket_.fd(), any_port.data(), any_port.size()) != 0) {
            throw std::system_error(ec ? ec : std::error_code(errno, std::generic_category()), "bind");
        }
    }
    [[nodiscard]] std::string port() const { return std::to_string(socket_.local_endpoint().port()); }

private:
    net::Socket socket_;
};

}  // namespace poetry::test
