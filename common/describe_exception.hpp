// What an exception says, as one line: for the places that catch everything, report it and go on.
#pragma once

#include <exception>
#include <string>

namespace poetry {

/// What an exception says (what()), as one line for a result or a log; "unknown error" for one that is
/// not a std::exception, which must not escape a loop callback or a coroutine's completion handler and
/// leave its work unfinished.
inline std::string describe_exception(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

/// "unexpected error: <what>": the one line for an exception that ended a coroutine (an asio co_spawn,
/// a Task on the loop) where none was expected, for a completion handler or done-callback that must let
/// nothing escape.
inline std::string unexpected_error(const std::exception_ptr& error) {
    return "unexpected error: " + describe_exception(error);
}

}  // namespace poetry
