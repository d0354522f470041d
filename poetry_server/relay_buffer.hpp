// Bytes on their way from one socket to another through a proxy: a fixed capacity, so that a fast
// side is read only as fast as the slow side drains (TCP's flow control does the rest).
#pragma once

#include <cstddef>
#include <memory>
#include <span>

namespace poetry::server {

class RelayBuffer {
public:
    /// Allocates nothing until the first byte comes: most connections of a proxy wait most of the time.
    explicit RelayBuffer(std::size_t capacity) noexcept : capacity_(capacity) {}

    /// Where the next bytes can go (empty when full). Moves what is held to the front first, if that
    /// makes more room: the copies are of what is left over, which pacing keeps small.
    [[nodiscard]] std::span<std::byte> space();
    /// `n` bytes were written into space().
    void filled(std::size_t n) noexcept { end_ += n; }
    /// What is held, oldest first.
    [[nodiscard]] std::span<const std::byte> data() const noexcept {
        return {bytes_.get() + begin_, end_ - begin_};
    }
    /// The first `n` bytes of data() have left.
    void drained(std::size_t n) noexcept;
    void clear() noexcept { begin_ = end_ = 0; }

    [[nodiscard]] std::size_t size() const noexcept { return end_ - begin_; }
    [[nodiscard]] bool empty() const noexcept { return begin_ == end_; }
    [[nodiscard]] bool full() const noexcept { return size() == capacity_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

private:
    std::unique_ptr<std::byte[]> bytes_;
    std::size_t capacity_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

}  // namespace poetry::server
