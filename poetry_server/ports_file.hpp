// The ports file: where scripts learn which port serves which poem, instead of guessing. It exists
// exactly while the server serves: claimed before binding, written once every listener is bound,
// removed when the server stops, so a script never reads a previous run's ports.
#pragma once

#include <filesystem>
#include <vector>

#include "listener.hpp"

namespace poetry::server {

class PortsFile {
public:
    /// Claims `path` before anything is bound. A ports file left by a run that is no longer running
    /// (a crash, a kill -9) is removed. @throws StartupError (exit 2) if the path is a directory, if
    /// it holds anything but a ports file (never deleted), or if it is the ports file of a
    /// poetry_server that is still running.
    explicit PortsFile(std::filesystem::path path);
    PortsFile(const PortsFile&) = delete;
    PortsFile& operator=(const PortsFile&) = delete;
    /// Removes the file if this server wrote it.
    ~PortsFile();

    /// Writes a JSON list with, per listener: host, port, poem (path as given), bytes (poem size),
    /// num_bytes, delay, pid (this server's) and, if it has faults, "faults": {"close_after": 100,
    /// "fault_rate": 0.5, "seed": 7} (the faults given, the rate and the seed). Atomic: a temporary
    /// file in the same folder, then rename, so a reader never sees half a file. @throws StartupError
    /// naming the file and the cause.
    void write(const std::vector<Listener>& listeners);

    /// Removes the file now (when the server stops serving), if this server wrote it.
    void remove() noexcept;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
    bool written_ = false;
};

}  // namespace poetry::server
