#include "poetry/loop/mailbox.hpp"

#include <fcntl.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

#include <cstdint>
#include <system_error>
#include <utility>

#include "poetry/detail/syscall.hpp"

namespace poetry {

Mailbox::Mailbox(Key) {
    std::error_code ec;
#if defined(__linux__)
    // One fd, a counter: cheaper than the pipe, and it cannot fill up.
    wake_read_.reset(detail::retry_on_eintr(ec, [] { return ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }));
#else
    int ends[2];
    if (detail::retry_on_eintr(ec, [&] { return ::pipe(ends); }) == 0) {
        wake_read_.reset(ends[0]);
        wake_write_.reset(ends[1]);
        for (int end : ends) {
            if (!ec) {
                detail::retry_on_eintr(ec, [&] { return ::fcntl(end, F_SETFD, FD_CLOEXEC); });
            }
            if (!ec) {
                detail::set_nonblocking(end, true, ec);
            }
        }
    }
#endif
    if (ec) {
        throw std::system_error(ec, "open the event loop's wake-up fd");
    }
}

Mailbox::~Mailbox() = default;

bool Mailbox::post(Callback callback) {
    const std::lock_guard lock(mutex_);
    if (closed_) {
        return false;  // `callback` is destroyed as this returns, after the lock is released
    }
    posted_.push_back(std::move(callback));
    if (!wake_pending_) {
        // Under the lock, so that close() cannot close the fd meanwhile. Eight bytes, the size an
        // eventfd takes; in a pipe there is never more than one such write unread.
        const std::uint64_t one = 1;
        const int fd = wake_write_ ? wake_write_.get() : wake_read_.get();
        std::error_code ec;
        detail::retry_on_eintr(ec, [&] { return ::write(fd, &one, sizeof(one)); });
        wake_pending_ = !ec;
    }
    return true;
}

bool Mailbox::closed() const {
    const std::lock_guard lock(mutex_);
    return closed_;
}

std::vector<Callback> Mailbox::take() {
    const std::lock_guard lock(mutex_);
    // Read until empty (the eventfd gives its whole count at once, a pipe what was written), so that
    // the fd polls readable again only after the next post.
    std::uint64_t count = 0;
    std::error_code ec;
    while (detail::retry_on_eintr(ec, [&] { return ::read(wake_read_.get(), &count, sizeof(count)); }) > 0) {
    }
    wake_pending_ = false;
    return std::exchange(posted_, {});
}

std::vector<Callback> Mailbox::close() {
    const std::lock_guard lock(mutex_);
    closed_ = true;
    wake_read_.reset();
    wake_write_.reset();
    return std::exchange(posted_, {});
}

}  // namespace poetry
