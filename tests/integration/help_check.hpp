// What both programs' --help promise, checked the same way for both: 80 columns, no trailing spaces,
// the exit statuses, signals and limits, and every option documented in the program's docs page.
#pragma once

#include <boost/test/unit_test.hpp>

#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "integration/server_process.hpp"  // read_file, POETRY_POEMS_DIR

namespace poetry::test {

/// The options (--name) that a --help text lists.
inline std::set<std::string> options_in_help(const std::string& help) {
    std::set<std::string> options;
    const std::regex option_line(R"(^\s+(?:-\w, )?(--[a-z][a-z-]*))");
    std::istringstream lines(help);
    for (std::string line; std::getline(lines, line);) {
        std::smatch match;
        if (std::regex_search(line, match, option_line)) {
            options.insert(match[1]);
        }
    }
    return options;
}

/// Checks `help` (a program's --help) and that docs/`page` names every option it lists.
inline void check_help(const std::string& help, const std::string& page) {
    std::istringstream lines(help);
    int number = 0;
    for (std::string line; std::getline(lines, line);) {
        ++number;
        BOOST_TEST(line.size() <= 80U, "line " << number << " is " << line.size() << " columns: " << line);
        BOOST_TEST(!line.ends_with(" "), "line " << number << " ends with a space: " << line);
    }
    for (const char* part : {"Exit status: 0 ", "Signals: SIGINT or SIGTERM", "Limits: ", "86400"}) {
        BOOST_TEST(help.find(part) != std::string::npos, part);
    }
    const std::string docs = read_file(std::string(POETRY_POEMS_DIR) + "/../docs/" + page);
    BOOST_REQUIRE_MESSAGE(!docs.empty(), "docs/" << page << " is missing");
    const auto options = options_in_help(help);
    BOOST_TEST(options.size() >= 10U, "too few options found in --help");
    for (const auto& option : options) {
        BOOST_TEST(docs.find("`" + option) != std::string::npos, option << " is not in docs/" << page);
    }
}

}  // namespace poetry::test
