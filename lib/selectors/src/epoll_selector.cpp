#include "poetry/selectors/epoll_selector.hpp"

#include <sys/epoll.h>

#include <system_error>

#include "poetry/detail/syscall.hpp"
#include "timeout.hpp"

namespace poetry {
namespace {

std::uint32_t to_epoll_events(EventMask events) noexcept {
    std::uint32_t bits = 0;
    if (has(events, EventMask::read)) {
        bits |= EPOLLIN;
    }
    if (has(events, EventMask::write)) {
        bits |= EPOLLOUT;
    }
    return bits;
}

void control(int epoll_fd, int operation, int fd, EventMask events, std::error_code& ec) {
    epoll_event event{};
    event.events = to_epoll_events(events);
    event.data.fd = fd;
    detail::retry_on_eintr(ec, [&] { return ::epoll_ctl(epoll_fd, operation, fd, &event); });
}

void control(int epoll_fd, int operation, int fd, EventMask events, const char* what) {
    std::error_code ec;
    control(epoll_fd, operation, fd, events, ec);
    if (ec) {
        throw std::system_error(ec, std::string(what) + " fd " + std::to_string(fd));
    }
}

}  // namespace

EpollSelector::EpollSelector() : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (!epoll_fd_) {
        throw std::system_error(detail::last_error(), "epoll_create1");
    }
}

EpollSelector::~EpollSelector() = default;

void EpollSelector::backend_register(int fd, EventMask events) {
    control(epoll_fd_.get(), EPOLL_CTL_ADD, fd, events, "epoll_ctl(ADD)");
}

void EpollSelector::backend_modify(int fd, EventMask /*old_events*/, EventMask events) {
    std::error_code ec;
    control(epoll_fd_.get(), EPOLL_CTL_MOD, fd, events, ec);
    if (ec == std::errc::no_such_file_or_directory) {
        // Closing the fd took it out of the epoll set, and its number now names a new fd (a closed one
        // would be EBADF): register that one, as select and poll do by simply watching the number.
        control(epoll_fd_.get(), EPOLL_CTL_ADD, fd, events, ec);
    }
    if (ec == std::errc::bad_file_descriptor) {
        return;  // closed and not reused: there is nothing to watch, as with select and poll
    }
    if (ec) {
        throw std::system_error(ec, "epoll_ctl(MOD) fd " + std::to_string(fd));
    }
}

void EpollSelector::backend_unregister(int fd, EventMask /*events*/) noexcept {
    // Fails only if the fd was already closed, which closing removes from the epoll set anyway.
    ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void EpollSelector::backend_select(Timeout timeout, std::vector<std::pair<int, EventMask>>& ready) {
    // Room for every registered fd: one call reports all that are ready, as select and poll do.
    events_.resize(size() == 0 ? 1 : size());
    const int count = ::epoll_wait(epoll_fd_.get(), events_.data(), static_cast<int>(events_.size()),
                                   detail::timeout_milliseconds(timeout));
    if (count < 0) {
        if (errno == EINTR) {
            return;
        }
        throw std::system_error(detail::last_error(), "epoll_wait");
    }
    for (int i = 0; i < count; ++i) {
        const epoll_event& raw = events_[static_cast<std::size_t>(i)];
        const std::uint32_t bits = raw.events;
        const int fd = raw.data.fd;  // a copy: epoll_event is packed, so no reference may bind to it
        EventMask events = EventMask::none;
        if (bits & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
            events = events | EventMask::read;
        }
        if (bits & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
            events = events | EventMask::write;
        }
        ready.emplace_back(fd, events);
    }
}

}  // namespace poetry
