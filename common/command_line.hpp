// What both programs' command lines share, on top of cxxopts: the parser's setup, -h/--help and
// --version, cxxopts' errors as UsageErrors in plain quotes, list options split here rather than by
// cxxopts (which drops a trailing empty item, so "10," passed for "10"), repeated single-value options
// refused (cxxopts keeps the last silently), numbers read whole, and --selector.
#pragma once

// cxxopts splits vector values at this delimiter; NUL never occurs in an argument, so each occurrence
// of a list option arrives whole and split_list sees every item, empty ones included.
#define CXXOPTS_VECTOR_DELIMITER '\0'
#include <cxxopts.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "poetry/selectors/selector.hpp"
#include "program_errors.hpp"

namespace poetry::cli {

/// `message` with cxxopts' typographic quotes (U+2018, U+2019) made plain ASCII quotes.
inline std::string plain_quotes(std::string_view message) {
    std::string plain;
    plain.reserve(message.size());
    for (std::size_t i = 0; i < message.size(); ++i) {
        const std::string_view rest = message.substr(i);
        if (rest.starts_with("\u2018") || rest.starts_with("\u2019")) {
            plain += '\'';
            i += 2;  // the quote is three bytes in UTF-8
        } else {
            plain += message[i];
        }
    }
    return plain;
}

/// The help text: cxxopts' (which leaves a space at the end of every line it wraps) without trailing
/// spaces, then `epilogue` (exit statuses, signals, limits). Set the parser's width to 80 first.
inline std::string help_text(cxxopts::Options& parser, std::string_view epilogue) {
    const std::string text = parser.help() + "\n" + std::string(epilogue);
    std::string tidy;
    tidy.reserve(text.size());
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        std::string_view line(text.data() + start, end - start);
        while (!line.empty() && line.back() == ' ') {
            line.remove_suffix(1);
        }
        tidy.append(line);
        tidy += '\n';
        start = end + 1;
    }
    return tidy;
}

/// What --help and --version say about a program besides its options.
struct ProgramText {
    std::string_view name;         // "poetry_client": the usage line's, and the first word of --version
    std::string_view version;      // the second word of --version
    std::string_view description;  // before the usage line
    std::string_view positional;   // after "[OPTION...]" in the usage line: "ADDRESS..."
    std::string_view epilogue;     // after the options: exit statuses, signals, limits
};

/// The parser a program starts from: 80 columns wide, which help_text's tidying expects. Add the
/// program's options, then add_help_and_version.
inline cxxopts::Options make_parser(const ProgramText& program) {
    cxxopts::Options parser(std::string(program.name), std::string(program.description));
    parser.set_width(80);
    parser.positional_help(std::string(program.positional));
    return parser;
}

/// Adds -h/--help and --version, which parse_or_answer answers: after the program's own options, so
/// that they end the list in --help.
inline void add_help_and_version(cxxopts::Options& parser) {
    // clang-format off
    parser.add_options()
        ("h,help", "Show this help")
        ("version", "Show the version");
    // clang-format on
}

/// Parses the command line, and answers --help (help_text) or --version ("poetry_client 0.9.0") on
/// `out` if asked: then returns nullopt, and the program exits 0 without doing anything else.
/// @throws UsageError for what cxxopts refuses (an unknown option, a missing value), in its words.
inline std::optional<cxxopts::ParseResult> parse_or_answer(cxxopts::Options& parser,
                                                           const ProgramText& program, int argc,
                                                           const char* const* argv, std::ostream& out) {
    cxxopts::ParseResult parsed;
    try {
        parsed = parser.parse(argc, argv);
    } catch (const cxxopts::exceptions::exception& e) {
        throw UsageError(plain_quotes(e.what()));
    }
    if (parsed.count("help") != 0) {
        out << help_text(parser, program.epilogue);
        return std::nullopt;
    }
    if (parsed.count("version") != 0) {
        out << program.name << ' ' << program.version << '\n';
        return std::nullopt;
    }
    return parsed;
}

/// The comma-separated items of every occurrence of list option `name`, in order.
/// @throws UsageError for an empty item: "--num-bytes: "10," has an empty item".
inline std::vector<std::string> list_items(const cxxopts::ParseResult& parsed, const std::string& name) {
    std::vector<std::string> items;
    for (const auto& text : parsed[name].as<std::vector<std::string>>()) {
        std::size_t start = 0;
        for (;;) {
            const std::size_t comma = text.find(',', start);
            std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            if (item.empty()) {
                throw UsageError("--" + name + ": \"" + text + "\" has an empty item");
            }
            items.push_back(std::move(item));
            if (comma == std::string::npos) {
                break;
            }
            start = comma + 1;
        }
    }
    return items;
}

/// Refuses an option given more than once unless it is one of `repeatable` (the list options and the
/// positional arguments). @throws UsageError: "--mode is given more than once: give it once".
inline void refuse_repeated(const cxxopts::ParseResult& parsed,
                            std::initializer_list<std::string_view> repeatable) {
    std::map<std::string, int> seen;
    for (const auto& argument : parsed.arguments()) {
        const std::string& key = argument.key();
        if (std::find(repeatable.begin(), repeatable.end(), key) == repeatable.end() && ++seen[key] == 2) {
            throw UsageError("--" + key + " is given more than once: give it once");
        }
    }
}

/// All of `text` as a number of type T (a whole number for an integral T), or nullopt: empty, not a
/// number, trailing characters, out of T's range, or (for a floating-point T) infinite or NaN.
template <class T>
std::optional<T> to_number(const std::string& text) {
    T value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    if constexpr (std::is_floating_point_v<T>) {
        if (!std::isfinite(value)) {
            return std::nullopt;
        }
    }
    return value;
}

/// `text` as a whole number from `min` to `max`, for option `what`.
/// @throws UsageError: "--port: "70000" is not a whole number from 0 to 65535".
template <class Unsigned>
Unsigned parse_whole(const std::string& text, Unsigned min, Unsigned max, const std::string& what) {
    const std::optional<Unsigned> value = to_number<Unsigned>(text);
    if (!value || *value < min || *value > max) {
        throw UsageError(what + ": \"" + text + "\" is not a whole number from " + std::to_string(min) +
                         " to " + std::to_string(max));
    }
    return *value;
}

/// The --selector value of either program: "auto" or one of the library's backends.
/// @throws UsageError: "--selector: "kqueue" is not one of auto, select, poll, epoll".
inline std::string parse_selector(const std::string& text) {
    std::string known = "auto";
    for (const auto& name : selector_names()) {
        if (name == text) {
            return text;
        }
        known += ", " + std::string(name);
    }
    if (text == "auto") {
        return text;
    }
    throw UsageError("--selector: \"" + text + "\" is not one of " + known);
}

}  // namespace poetry::cli
