// The pacing of one direction of a proxied connection: which of the bytes waiting may leave now. A
// chunk is what is waiting when it comes due, up to its size; when nothing was waiting, the schedule
// moves on to when bytes come (ChunkSchedule::not_before), so an idle stream earns no burst later.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>

#include "faults.hpp"

namespace poetry::server {

class StreamPacer {
public:
    explicit StreamPacer(const ChunkSchedule& chunks) noexcept : chunks_(chunks) {}

    /// How many more bytes may leave at `now`, with `waiting` bytes waiting: the rest of the current
    /// chunk, or 0 if none may leave yet (wake_at() says when).
    [[nodiscard]] std::size_t may_send(TimePoint now, std::size_t waiting) noexcept {
        if (chunk_ == 0) {
            if (waiting == 0 || chunks_.done()) {
                idle_ = true;
                return 0;
            }
            if (idle_) {
                chunks_.not_before(now);  // the source was slower than the schedule: no catching up
                idle_ = false;
            }
            if (now < chunks_.due()) {
                return 0;
            }
            chunk_ = std::min(chunks_.size(), waiting);
        }
        return chunk_ - written_;
    }
    /// `n` bytes of the current chunk have left. Returns true if that completed it: chunk() and
    /// schedule() still describe it until next().
    bool sent(std::size_t n) noexcept {
        written_ += n;
        return written_ == chunk_;
    }
    /// On to the next chunk.
    void next() noexcept {
        chunks_.next(chunk_);
        chunk_ = written_ = 0;
    }

    /// True while a chunk has begun and not all of it has left.
    [[nodiscard]] bool in_chunk() const noexcept { return chunk_ > 0; }
    [[nodiscard]] std::size_t chunk() const noexcept { return chunk_; }
    /// Every byte taken from the source so far: the chunks sent and the part of this one.
    [[nodiscard]] std::size_t taken() const noexcept { return chunks_.offset() + written_; }
    /// When the next chunk comes due, if bytes are waiting for it (`waiting`) and none is under way.
    [[nodiscard]] std::optional<TimePoint> wake_at(std::size_t waiting) const noexcept {
        if (chunk_ == 0 && waiting > 0 && !chunks_.done()) {
            return chunks_.due();
        }
        return std::nullopt;
    }
    [[nodiscard]] ChunkSchedule& schedule() noexcept { return chunks_; }
    [[nodiscard]] const ChunkSchedule& schedule() const noexcept { return chunks_; }

private:
    ChunkSchedule chunks_;
    std::size_t chunk_ = 0;    // the bytes of the chunk under way (0: none)
    std::size_t written_ = 0;  // ... of which this many have left
    bool idle_ = false;        // a chunk came due, or was coming due, with nothing to send
};

}  // namespace poetry::server
