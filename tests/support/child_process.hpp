// A child process for integration tests: started with fork/exec, output to files, and always killed
// and reaped by the destructor, so a failing test never leaves a server running.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "support/clock.hpp"

namespace poetry::test {

class ChildProcess {
public:
    struct Options {
        std::filesystem::path stdout_path = "/dev/null";
        std::filesystem::path stderr_path = "/dev/null";
        std::optional<rlim_t> fd_limit;       // soft and hard RLIMIT_NOFILE for the child
        std::optional<rlim_t> fd_soft_limit;  // soft RLIMIT_NOFILE only (the hard one stays)
    };

    ChildProcess(const std::vector<std::string>& argv, const Options& options) {
        std::vector<char*> args;
        for (const auto& arg : argv) {
            args.push_back(const_cast<char*>(arg.c_str()));
        }
        args.push_back(nullptr);
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ < 0) {
            throw std::system_error(errno, std::generic_category(), "fork");
        }
        if (pid_ == 0) {
            // In the child: only async-signal-safe calls until exec.
            // Killed with the test program, even when no destructor runs there: a sanitizer report or a
            // crash ends a test program without killing its servers otherwise. The signal comes when
            // the forking *thread* ends: a ChildProcess made on a short-lived thread (std::async) dies
            // with that thread. Every one today is made on the test's main thread.
            if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
                ::_exit(127);
            }
            const int out = ::open(options.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            const int err = ::open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (out < 0 || err < 0 || ::dup2(out, STDOUT_FILENO) < 0 || ::dup2(err, STDERR_FILENO) < 0) {
                ::_exit(127);
            }
            if (options.fd_limit) {
                const rlimit limit{*options.fd_limit, *options.fd_limit};
                if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
                    ::_exit(127);
                }
            }
            if (options.fd_soft_limit) {
                rlimit limit{};
                ::getrlimit(RLIMIT_NOFILE, &limit);
                limit.rlim_cur = *options.fd_soft_limit;
                if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
                    ::_exit(127);
                }
            }
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() {
        if (!status_) {
            ::kill(pid_, SIGKILL);
            int ignored = 0;
            ::waitpid(pid_, &ignored, 0);
        }
    }

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    /// True while the child has not exited (reaps it if it has).
    bool running() {
        if (status_) {
            return false;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            status_ = status;
            return false;
        }
        return true;
    }

    void signal(int number) const { ::kill(pid_, number); }

    /// Waits up to `timeout` for the child to exit. @returns its exit status (128 + signal if killed
    /// by one), or nullopt if it is still running.
    std::optional<int> wait(std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        while (running()) {
            if (Clock::now() >= deadline) {
                return std::nullopt;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : 128 + WTERMSIG(*status_);
    }

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

}  // namespace poetry::test
