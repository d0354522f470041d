#include "proxy/relay_buffer.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "poetry/detail/syscall.hpp"

namespace poetry::server {

RelayBuffer::RelayBuffer(std::size_t capacity, Kind kind) noexcept : capacity_(capacity) {
    if (kind != Kind::pipe) {
        return;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        return;  // memory it is
    }
    pipe_read_ = detail::UniqueFd(fds[0]);
    pipe_write_ = detail::UniqueFd(fds[1]);
    // The kernel rounds up to pages; a smaller pipe than asked for (over the user's limit) is still a pipe.
    const int got = ::fcntl(pipe_write_.get(), F_SETPIPE_SZ, static_cast<int>(capacity));
    if (got > 0) {
        capacity_ = static_cast<std::size_t>(got);
    } else if (const int size = ::fcntl(pipe_write_.get(), F_GETPIPE_SZ); size > 0) {
        capacity_ = static_cast<std::size_t>(size);
    }
}

std::size_t RelayBuffer::fill_from(net::Socket& from, std::error_code& ec) noexcept {
    ec.clear();
    const std::size_t room = capacity_ - size_;
    if (pipe_read_) {
        const auto n = detail::retry_on_eintr(ec, [&] {
            return ::splice(from.fd(), nullptr, pipe_write_.get(), nullptr, room, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        });
        if (ec) {
            // The socket had nothing, or the pipe's pages are taken (each splice may leave one part full):
            // only a non-empty pipe can be the reason.
            if (detail::is_would_block(ec) && size_ > 0) {
                full_ = true;
            }
            return 0;
        }
        size_ += static_cast<std::size_t>(n);
        return static_cast<std::size_t>(n);
    }
    if (!bytes_) {
        bytes_ = std::make_unique_for_overwrite<std::byte[]>(capacity_);
    }
    if (begin_ + size_ == capacity_ && begin_ > 0) {
        std::memmove(bytes_.get(), bytes_.get() + begin_, size_);  // what pacing leaves over: little
        begin_ = 0;
    }
    const std::size_t n =
        from.recv(std::span<std::byte>(bytes_.get() + begin_ + size_, capacity_ - begin_ - size_), ec, MSG_DONTWAIT);
    size_ += n;
    return n;
}

std::size_t RelayBuffer::drain_to(net::Socket& to, std::size_t max, std::error_code& ec) noexcept {
    ec.clear();
    const std::size_t wanted = std::min(max, size_);
    std::size_t n = 0;
    if (pipe_read_) {
        const auto sent = detail::retry_on_eintr(ec, [&] {
            return ::splice(pipe_read_.get(), nullptr, to.fd(), nullptr, wanted, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        });
        n = ec ? 0 : static_cast<std::size_t>(sent);
    } else {
        n = to.send(std::span<const std::byte>(bytes_.get() + begin_, wanted), ec, MSG_DONTWAIT);
        begin_ += n;
    }
    size_ -= n;
    if (n > 0) {
        full_ = false;
    }
    if (size_ == 0) {
        begin_ = 0;  // the next bytes go to the front, with nothing to move
    }
    return n;
}

void RelayBuffer::clear() noexcept {
    if (pipe_read_) {
        std::array<std::byte, 4096> discarded;
        while (::read(pipe_read_.get(), discarded.data(), discarded.size()) > 0) {
        }
    }
    size_ = begin_ = 0;
    full_ = false;
}

}  // namespace poetry::server
