#include "reporters/outputs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ostream>
#include <system_error>

#include "poetry/detail/syscall.hpp"
#include "poetry/detail/unique_fd.hpp"
#include "program_errors.hpp"

namespace poetry::client {

void check_stdout_open() {
    const int flags = ::fcntl(STDOUT_FILENO, F_GETFL);
    if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY) {
        throw cli::InputError(std::string("stdout is not open for writing") +
                              (flags < 0 ? std::string(": ") + std::strerror(errno) : std::string()));
    }
}

void check_output_dir(const std::filesystem::path& dir) {
    const std::string where = "--output-dir " + dir.string();
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
        throw cli::InputError(where + ": " + ec.message());
    }
    // A folder that exists can still refuse files (permissions, a read-only mount): try one.
    const auto probe = dir / (".poetry_client-check-" + std::to_string(::getpid()));
    const detail::UniqueFd file(
        detail::retry_on_eintr(ec, [&] { return ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644); }));
    if (ec) {
        throw cli::InputError(where + ": cannot write in it: " + ec.message());
    }
    std::filesystem::remove(probe, ec);
}

void check_written(std::ostream& out, const std::string& what, int earlier_errno) {
    errno = 0;
    out.flush();
    if (!out) {
        const int cause = earlier_errno != 0 ? earlier_errno : errno;
        throw OutputError("cannot write " + what + ": " + (cause != 0 ? std::strerror(cause) : "write error"));
    }
}

}  // namespace poetry::client
