// What /proc says about another process (a server under test): resident memory, open fds, CPU time.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "support/sanitized.hpp"

namespace poetry::test {

/// Under AddressSanitizer freed memory waits in a quarantine (256 MB by default) and every allocation
/// carries redzones; under ThreadSanitizer every access has shadow memory. A process's resident memory
/// then says more about the sanitizer than about the code: tests skip their memory bounds there
/// (LeakSanitizer checks for leaks instead).
inline constexpr bool resident_memory_is_meaningful = !under_sanitizer;

inline std::filesystem::path proc_dir(pid_t pid) {
    return std::filesystem::path("/proc") / std::to_string(pid);
}

/// The `field` ("VmRSS", "VmHWM") of /proc/`pid`/status, in kB.
inline std::size_t status_kb(pid_t pid, const std::string& field) {
    std::ifstream status(proc_dir(pid) / "status");
    for (std::string line; std::getline(status, line);) {
        if (line.starts_with(field + ":")) {
            return std::stoul(line.substr(field.size() + 1));
        }
    }
    throw std::runtime_error("no " + field + " for pid " + std::to_string(pid) + " (has it exited?)");
}

/// Resident memory of `pid` now, in kB.
inline std::size_t resident_kb(pid_t pid) {
    return status_kb(pid, "VmRSS");
}

/// Starts a new peak for peak_resident_kb: the kernel's high-water mark drops to the resident memory
/// of now (writing 5 to clear_refs). Exact, where sampling could miss a short peak.
inline void reset_peak_resident(pid_t pid) {
    std::ofstream clear(proc_dir(pid) / "clear_refs");
    clear << "5";
    clear.flush();
    if (!clear) {
        throw std::runtime_error("cannot reset the peak resident memory of pid " + std::to_string(pid));
    }
}

/// The most resident memory `pid` has had since it started or since reset_peak_resident, in kB.
inline std::size_t peak_resident_kb(pid_t pid) {
    return status_kb(pid, "VmHWM");
}

/// The number of fds `pid` has open.
inline std::size_t open_fds(pid_t pid) {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(proc_dir(pid) / "fd")) {
        ++count;
    }
    return count;
}

/// User plus system CPU time `pid` has used, all its threads together, in seconds.
inline double cpu_seconds(pid_t pid) {
    std::ifstream in(proc_dir(pid) / "stat");
    std::string stat;
    std::getline(in, stat);
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) {
        throw std::runtime_error("unreadable /proc/" + std::to_string(pid) + "/stat");
    }
    std::istringstream fields(stat.substr(close + 2));
    std::string skipped;
    for (int field = 3; field < 14; ++field) {  // state .. cmajflt
        fields >> skipped;
    }
    unsigned long long user = 0;
    unsigned long long system = 0;
    fields >> user >> system;  // fields 14 and 15, in clock ticks
    return static_cast<double>(user + system) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace poetry::test
