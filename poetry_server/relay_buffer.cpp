#include "relay_buffer.hpp"

#include <cstring>

namespace poetry::server {

std::span<std::byte> RelayBuffer::space() {
    if (!bytes_) {
        bytes_ = std::make_unique_for_overwrite<std::byte[]>(capacity_);
    }
    if (end_ == capacity_ && begin_ > 0) {
        std::memmove(bytes_.get(), bytes_.get() + begin_, size());
        end_ -= begin_;
        begin_ = 0;
    }
    return {bytes_.get() + end_, capacity_ - end_};
}

void RelayBuffer::drained(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) {
        begin_ = end_ = 0;  // empty: the next bytes go to the front, with nothing to move
    }
}

}  // namespace poetry::server
