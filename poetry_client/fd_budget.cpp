#include "fd_budget.hpp"

#include <sys/select.h>

#include <filesystem>
#include <system_error>

#include "poetry/net/fd_limit.hpp"

namespace poetry::client {
namespace {

// Besides the sockets: the selector's own fd, a resolver's, and a little slack.
constexpr std::size_t spare_fds = 16;

std::size_t open_fds() {
    std::error_code ec;
    std::size_t count = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
         it.increment(ec)) {
        ++count;
    }
    return ec ? 3 : count;
}

}  // namespace

std::optional<std::string> make_room_for(std::size_t sockets) {
    const std::size_t needed = open_fds() + sockets + spare_fds;
    const std::size_t limit = net::raise_fd_limit(needed);
    if (limit >= needed) {
        return std::nullopt;
    }
    return "warning: " + std::to_string(sockets) + " downloads at once need about " + std::to_string(needed) +
           " open files, but the limit is " + std::to_string(limit) +
           " (the hard limit, see ulimit -Hn): downloads beyond it will fail with \"Too many open files\"";
}

std::optional<std::string> select_cannot_watch(std::size_t sockets) {
    // socket(2) returns the lowest free fd, so new sockets fill the holes below any high inherited fd
    // first: the count of open fds plus the new ones bounds the highest new fd from above.
    const std::size_t highest = open_fds() + sockets + 1;  // +1: the selector's own
    if (highest < FD_SETSIZE) {
        return std::nullopt;
    }
    return "--selector select can only watch fds below FD_SETSIZE (" + std::to_string(FD_SETSIZE) +
           "), and " + std::to_string(sockets) + " downloads at once need fds up to about " +
           std::to_string(highest) + ": use --selector epoll (or poll)";
}

}  // namespace poetry::client
