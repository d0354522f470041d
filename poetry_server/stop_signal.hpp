// SIGINT/SIGTERM as a readable fd (signalfd), so that every mode, threads and event loops alike, waits
// for "stop" the way it waits for sockets.
#pragma once

#include "poetry/detail/unique_fd.hpp"

namespace poetry::server {

class StopSignal {
public:
    /// Blocks SIGINT and SIGTERM in the calling thread and opens the signalfd. Construct it in main
    /// before any other thread exists: threads inherit the blocked mask, so no thread is killed by the
    /// signal and the fd reports it to all. Nobody reads the fd, so it stays readable once signalled.
    /// @throws std::system_error.
    StopSignal();

    /// Readable (POLLIN) once a stop signal has arrived.
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    /// True once a stop signal has arrived (does not wait).
    [[nodiscard]] bool requested() const noexcept;

private:
    detail::UniqueFd fd_;
};

}  // namespace poetry::server
