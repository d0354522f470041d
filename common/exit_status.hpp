// The edge of both programs' main(): whatever escapes the program becomes one line on stderr, named
// after the program, and the exit status that its --help promises.
#pragma once

#include <exception>
#include <iostream>
#include <string_view>
#include <utility>

#include "program_errors.hpp"

namespace poetry::cli {

/// Runs `program_main` and returns its exit status. What escapes it is written to stderr as one line,
/// "<program>: <what>", and becomes status 2 for a UsageError (the line ends "; try --help") or an
/// InputError, and 1 for any other exception: a failure while the program ran.
template <class ProgramMain>
int exit_status_of(std::string_view program, ProgramMain&& program_main) {
    try {
        return std::forward<ProgramMain>(program_main)();
    } catch (const UsageError& e) {
        std::cerr << program << ": " << e.what() << "; try --help\n";
        return 2;
    } catch (const InputError& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return 1;
    }
}

}  // namespace poetry::cli
