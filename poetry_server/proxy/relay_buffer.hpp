// Bytes on their way from one socket to another through a proxy: a fixed capacity, so that a fast
// side is read only as fast as the slow side drains (TCP's flow control does the rest). In memory, or
// in a pipe: splice(2) moves the bytes from socket to pipe to socket inside the kernel, never copying
// them through the process, which is what lets an unpaced proxy keep up with a direct connection.
#pragma once

#include <cstddef>
#include <memory>
#include <system_error>

#include "poetry/detail/unique_fd.hpp"
#include "poetry/net/socket.hpp"

namespace poetry::server {

class RelayBuffer {
public:
    enum class Kind { memory, pipe };

    /// Holds at most `capacity` bytes. Kind::pipe asks for a pipe of that size and falls back to memory
    /// if none can be had (out of fds); memory is allocated at the first byte, as most connections of a
    /// proxy wait most of the time.
    explicit RelayBuffer(std::size_t capacity, Kind kind = Kind::memory) noexcept;

    /// Reads what `from` has, up to the room left. Returns the bytes read; 0 with no error is the end of
    /// its stream. "Would block" when it has nothing, or when a pipe took all it can (then full()).
    std::size_t fill_from(net::Socket& from, std::error_code& ec) noexcept;
    /// Sends up to `max` of the oldest bytes to `to`; "would block" when its buffer is full.
    std::size_t drain_to(net::Socket& to, std::size_t max, std::error_code& ec) noexcept;
    /// Throws away what is held.
    void clear() noexcept;

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
    [[nodiscard]] bool full() const noexcept { return full_ || size_ == capacity_; }

private:
    std::size_t capacity_;
    std::size_t size_ = 0;
    bool full_ = false;  // a pipe refused more before reaching capacity_ (pages partly filled)
    // In memory: held bytes are [begin_, begin_ + size_) of bytes_.
    std::unique_ptr<std::byte[]> bytes_;
    std::size_t begin_ = 0;
    // In a pipe:
    detail::UniqueFd pipe_read_;
    detail::UniqueFd pipe_write_;
};

}  // namespace poetry::server
