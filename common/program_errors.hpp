// The two errors that end either program before it has done anything: one line on stderr and exit
// status 2 (exit_status.hpp's exit_status_of writes the line and returns the status).
#pragma once

#include <stdexcept>

namespace poetry::cli {

/// A bad command line: what() is the one line, which main() follows with "; try --help".
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Input that cannot be used (a ports file that is missing or malformed, a poem that cannot be read,
/// an address that cannot be listened on): what() is the one line, naming the input and the problem.
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace poetry::cli
