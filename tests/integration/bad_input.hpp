// What both programs promise for bad input, checked the same way in both integration suites: exit
// status 2, nothing on stdout, one line on stderr that starts with the program's name, and for a
// usage error ends with "; try --help".
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace poetry::test {

/// How often `what` occurs in `text` (overlapping occurrences count).
inline std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

/// A command line that must be refused, and what the refusal must say.
struct BadInput {
    std::vector<std::string> args;
    std::string message;
    bool usage = false;  // a usage error, whose line ends with a hint to --help (not a bad input file)
};

inline std::ostream& operator<<(std::ostream& out, const BadInput& input) {
    for (const auto& arg : input.args) {
        out << arg << ' ';
    }
    return out;
}

/// Checks a run of `program` that had to be refused; `context` is shown with every failed check.
inline void check_refused(const std::string& program, int status, const std::string& out,
                          const std::string& err, const std::string& message, bool usage,
                          const std::string& context) {
    BOOST_TEST(status == 2, context);
    BOOST_TEST(out.empty(), "something was printed on stdout: " << context);
    BOOST_TEST(err.starts_with(program + ": "), context);
    BOOST_TEST(err.find(message) != std::string::npos, context);
    BOOST_TEST(count(err, "\n") == 1U, context);
    BOOST_TEST(err.find("Usage:") == std::string::npos, "the whole help was printed: " << context);
    BOOST_TEST(err.find("\u2018") == std::string::npos, "a typographic quote: " << context);
    if (usage) {
        BOOST_TEST(err.ends_with("; try --help\n"), context);
    }
}

}  // namespace poetry::test
