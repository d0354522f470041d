#include "poetry/selectors/select_selector.hpp"

#include <stdexcept>
#include <string>
#include <system_error>

#include <fcntl.h>

#include "poetry/detail/syscall.hpp"
#include "timeout.hpp"

namespace poetry {

SelectSelector::SelectSelector() {
    FD_ZERO(&read_set_);
    FD_ZERO(&write_set_);
}

void SelectSelector::backend_register(int fd, EventMask events) {
    // FD_SET on fd >= FD_SETSIZE writes past the fd_set (select(2), BUGS): refuse instead.
    if (fd >= FD_SETSIZE) {
        throw std::invalid_argument("select selector: fd " + std::to_string(fd) +
                                    " is at or above FD_SETSIZE (" + std::to_string(FD_SETSIZE) +
                                    "); use the poll or epoll selector");
    }
    if (has(events, EventMask::read)) {
        FD_SET(fd, &read_set_);
    }
    if (has(events, EventMask::write)) {
        FD_SET(fd, &write_set_);
    }
    if (fd > max_fd_) {
        max_fd_ = fd;
    }
}

void SelectSelector::backend_modify(int fd, EventMask old_events, EventMask events) {
    backend_unregister(fd, old_events);
    backend_register(fd, events);
}

void SelectSelector::backend_unregister(int fd, EventMask /*events*/) noexcept {
    FD_CLR(fd, &read_set_);
    FD_CLR(fd, &write_set_);
    if (fd == max_fd_) {
        update_max_fd();
    }
}

void SelectSelector::update_max_fd() noexcept {
    while (max_fd_ >= 0 && !FD_ISSET(max_fd_, &read_set_) && !FD_ISSET(max_fd_, &write_set_)) {
        --max_fd_;
    }
}

bool SelectSelector::forget_closed_fds() noexcept {
    bool forgot = false;
    for (int fd = 0; fd <= max_fd_; ++fd) {
        if ((FD_ISSET(fd, &read_set_) || FD_ISSET(fd, &write_set_)) && ::fcntl(fd, F_GETFD) == -1 &&
            errno == EBADF) {
            FD_CLR(fd, &read_set_);
            FD_CLR(fd, &write_set_);
            forgot = true;
        }
    }
    update_max_fd();
    return forgot;
}

void SelectSelector::backend_select(Timeout timeout, std::vector<std::pair<int, EventMask>>& ready) {
    fd_set readable = read_set_;
    fd_set writable = write_set_;
    timeval tv = detail::timeout_timeval(timeout);
    timeval* tv_or_block = timeout < Timeout::zero() ? nullptr : &tv;
    const int count = ::select(max_fd_ + 1, &readable, &writable, nullptr, tv_or_block);
    if (count < 0) {
        const std::error_code error = detail::last_error();
        if (error == std::errc::interrupted) {
            return;
        }
        // EBADF: some registered fd was closed. Forget the closed ones, as epoll does by itself (their
        // keys stay until unregistered, and registering their number again revives them), and return
        // no events: the caller waits again.
        if (error == std::errc::bad_file_descriptor && forget_closed_fds()) {
            return;
        }
        throw std::system_error(error, "select");
    }
    for (int fd = 0; fd <= max_fd_ && ready.size() < static_cast<std::size_t>(count); ++fd) {
        EventMask events = EventMask::none;
        if (FD_ISSET(fd, &readable)) {
            events = events | EventMask::read;
        }
        if (FD_ISSET(fd, &writable)) {
            events = events | EventMask::write;
        }
        if (events != EventMask::none) {
            ready.emplace_back(fd, events);
        }
    }
}

}  // namespace poetry
