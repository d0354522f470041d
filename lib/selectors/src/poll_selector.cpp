#include "poetry/selectors/poll_selector.hpp"

#include <system_error>

#include "poetry/detail/syscall.hpp"
#include "timeout.hpp"

namespace poetry {
namespace {

short to_poll_events(EventMask events) noexcept {
    short bits = 0;
    if (has(events, EventMask::read)) {
        bits |= POLLIN;
    }
    if (has(events, EventMask::write)) {
        bits |= POLLOUT;
    }
    return bits;
}

// poll(2) skips entries with a negative fd. An fd found closed while registered (POLLNVAL) is parked
// as ~fd, which keeps its number recoverable, so that it is not reported again and again (a busy
// loop) and yet comes back to life when its number is registered again through modify.
int parked(int fd) noexcept {
    return ~fd;
}
int number_of(const pollfd& entry) noexcept {
    return entry.fd < 0 ? ~entry.fd : entry.fd;
}

}  // namespace

void PollSelector::backend_register(int fd, EventMask events) {
    fds_.push_back(pollfd{fd, to_poll_events(events), 0});
    try {
        slot_of_.emplace(fd, fds_.size() - 1);
    } catch (...) {
        fds_.pop_back();
        throw;
    }
}

void PollSelector::backend_modify(int fd, EventMask /*old_events*/, EventMask events) {
    pollfd& entry = fds_[slot_of_.at(fd)];
    entry.fd = fd;  // a parked entry's number may belong to a new fd now
    entry.events = to_poll_events(events);
}

void PollSelector::backend_unregister(int fd, EventMask /*events*/) noexcept {
    const auto it = slot_of_.find(fd);
    const std::size_t slot = it->second;
    slot_of_.erase(it);
    if (slot != fds_.size() - 1) {
        fds_[slot] = fds_.back();
        slot_of_[number_of(fds_[slot])] = slot;
    }
    fds_.pop_back();
}

void PollSelector::backend_select(Timeout timeout, std::vector<std::pair<int, EventMask>>& ready) {
    const int count = ::poll(fds_.data(), fds_.size(), detail::timeout_milliseconds(timeout));
    if (count < 0) {
        if (errno == EINTR) {
            return;
        }
        throw std::system_error(detail::last_error(), "poll");
    }
    std::size_t seen = 0;
    for (pollfd& entry : fds_) {
        if (seen == static_cast<std::size_t>(count)) {
            break;
        }
        if (entry.revents == 0) {
            continue;
        }
        ++seen;
        if (entry.revents & POLLNVAL) {
            // Closed while registered: epoll forgets such an fd by itself, and so do we.
            entry.fd = parked(entry.fd);
            continue;
        }
        // Errors and hang-ups wake both directions (CPython's _PollLikeSelector): the next recv or
        // send reports what happened. The base class masks with what the key asked for.
        EventMask events = EventMask::none;
        if (entry.revents & ~POLLOUT) {
            events = events | EventMask::read;
        }
        if (entry.revents & ~POLLIN) {
            events = events | EventMask::write;
        }
        ready.emplace_back(entry.fd, events);
    }
}

}  // namespace poetry
