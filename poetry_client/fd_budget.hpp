// Room for many sockets at once, checked before any download starts: the open-files limit (raised
// when --connections needs it) and the select selector's FD_SETSIZE ceiling.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace poetry::client {

/// Raises the soft open-files limit (up to the hard limit) when `sockets` more fds than are open now
/// do not fit. @returns a one-line warning when even the hard limit is too low, else nothing.
std::optional<std::string> make_room_for(std::size_t sockets);

/// @returns the one-line error (suggesting --selector epoll) when the select selector cannot watch
/// `sockets` more fds than are open now (fds must stay below FD_SETSIZE), else nothing.
std::optional<std::string> select_cannot_watch(std::size_t sockets);

}  // namespace poetry::client
