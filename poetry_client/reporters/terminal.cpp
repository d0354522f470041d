#include "reporters/terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

namespace poetry::client {
namespace {

std::string_view environment(const char* name) noexcept {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string_view() : std::string_view(value);
}

bool is_utf8(std::string_view locale) noexcept {
    std::string lower(locale);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower.find("utf-8") != std::string::npos || lower.find("utf8") != std::string::npos;
}

}  // namespace

std::optional<std::string> why_no_live_view(int fd) {
    if (::isatty(fd) == 0) {
        return "stdout is not a terminal";
    }
    const std::string_view term = environment("TERM");
    if (term.empty() || term == "dumb") {
        return "the terminal cannot move its cursor (TERM=" + std::string(term) + ")";
    }
    return std::nullopt;
}

std::optional<TerminalSize> terminal_size(int fd) noexcept {
    winsize size{};
    if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_row == 0 || size.ws_col == 0) {
        return std::nullopt;
    }
    return TerminalSize{size.ws_row, size.ws_col};
}

LiveStyle live_style_from_environment() {
    const std::string_view term = environment("TERM");
    LiveStyle style;
    style.colour = environment("NO_COLOR").empty() && !term.empty() && term != "dumb";
    for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
        if (const std::string_view locale = environment(name); !locale.empty()) {
            style.unicode = is_utf8(locale);
            break;
        }
    }
    return style;
}

}  // namespace poetry::client
