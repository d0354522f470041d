// What both programs' command lines share, on top of cxxopts: list options split here rather than by
// cxxopts (which drops a trailing empty item, so "10," passed for "10"), repeated single-value options
// refused (cxxopts keeps the last silently), cxxopts' messages in plain quotes, and --selector.
#pragma once

// cxxopts splits vector values at this delimiter; NUL never occurs in an argument, so each occurrence
// of a list option arrives whole and split_list sees every item, empty ones included.
#define CXXOPTS_VECTOR_DELIMITER '\0'
#include <cxxopts.hpp>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "poetry/selectors/selector.hpp"

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

/// The comma-separated items of every occurrence of list option `name`, in order.
/// @throws Error (the program's UsageError) for an empty item: "--num-bytes: "10," has an empty item".
template <class Error>
std::vector<std::string> list_items(const cxxopts::ParseResult& parsed, const std::string& name) {
    std::vector<std::string> items;
    for (const auto& text : parsed[name].as<std::vector<std::string>>()) {
        std::size_t start = 0;
        for (;;) {
            const std::size_t comma = text.find(',', start);
            std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            if (item.empty()) {
                throw Error("--" + name + ": \"" + text + "\" has an empty item");
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
/// positional arguments). @throws Error: "--mode is given 2 times: give it once".
template <class Error>
void refuse_repeated(const cxxopts::ParseResult& parsed, std::initializer_list<std::string_view> repeatable) {
    std::map<std::string, int> seen;
    for (const auto& argument : parsed.arguments()) {
        const std::string& key = argument.key();
        if (std::find(repeatable.begin(), repeatable.end(), key) == repeatable.end() && ++seen[key] == 2) {
            throw Error("--" + key + " is given more than once: give it once");
        }
    }
}

/// The --selector value of either program: "auto" or one of the library's backends.
/// @throws Error: "--selector: "kqueue" is not one of auto, select, poll, epoll".
template <class Error>
std::string parse_selector(const std::string& text) {
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
    throw Error("--selector: \"" + text + "\" is not one of " + known);
}

}  // namespace poetry::cli
