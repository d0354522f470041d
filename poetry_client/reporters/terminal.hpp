// What --live needs to know of the terminal on stdout: whether it is one that can redraw, its size now,
// and whether it shows colours and block characters. Read from the fd and the environment each time:
// the user can resize the window while a run goes on.
#pragma once

#include <optional>
#include <string>

#include "reporters/live_frame.hpp"

namespace poetry::client {

/// Why `fd` cannot show a live view ("stdout is not a terminal", "the terminal is TERM=dumb"), or
/// nullopt when it can.
std::optional<std::string> why_no_live_view(int fd);

/// The size of the terminal on `fd` now, or nullopt if it does not say.
std::optional<TerminalSize> terminal_size(int fd) noexcept;

/// Colours unless NO_COLOR is set and not empty (https://no-color.org) or TERM is dumb or unset; block
/// characters when the locale's character set is UTF-8 (LC_ALL, else LC_CTYPE, else LANG).
LiveStyle live_style_from_environment();

}  // namespace poetry::client
