// Where the results go (stdout, --output-dir, --timeline FILE), checked before the first download, so
// that a long run never ends in "cannot write", and checked again as they are written: a result that
// could not be written is an error, never silent.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <stdexcept>
#include <string>

namespace poetry::client {

/// A result could not be written after the run (stdout closed or full, a file): exit status 1, the
/// same for every kind of output.
class OutputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Before any download: stdout is open for writing. @throws cli::InputError (exit 2) if it is closed.
void check_stdout_open();

/// Before any download: `dir` exists (made if need be) and a new file can be written in it.
/// @throws cli::InputError (exit 2) naming --output-dir and the cause.
void check_output_dir(const std::filesystem::path& dir);

/// After writing to `out` (stdout) and flushing it. @throws OutputError ("cannot write to stdout:
/// Broken pipe") if a write failed; `earlier_errno` is the cause of a failure seen before, if known.
void check_written(std::ostream& out, const std::string& what, int earlier_errno = 0);

}  // namespace poetry::client
