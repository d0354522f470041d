// Faulty peers on demand: what the fault options make of one listener (FaultPlan), what they make of
// one connection (ConnectionFaults: chosen or not, its chunk sizes and pauses), and the chunk schedule
// that every mode walks, so that the rules are written once for async, threaded and blocking.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "poetry/loop/clock.hpp"

namespace poetry::server {

/// A number as people write it (printf's %g: 0.7, 2, 0.05), for the start-up line and the summary.
std::string format_number(double value);

/// Seconds as the schedule counts them (at most max_delay_seconds, so it cannot overflow).
std::chrono::nanoseconds to_nanoseconds(double seconds) noexcept;

/// Every fault, in the order the summary lists them.
enum class FaultKind {
    first_byte_delay,
    jitter,
    size_jitter,
    close_after,
    reset_after,
    hang_after,
    slow_close
};
inline constexpr std::size_t fault_kinds = 7;

/// The option's name without dashes, as the summary says it: "close-after".
const char* to_string(FaultKind kind) noexcept;

/// A byte limit and what happens when it is reached (close_after, reset_after or hang_after).
struct FaultLimit {
    std::uint64_t bytes = 0;
    FaultKind kind = FaultKind::close_after;
};

/// The fault options of one listener, as given. A time or size fault of 0 is off; a byte limit is off
/// only when absent (--close-after 0 closes at once, before any byte: a fault of its own).
struct FaultPlan {
    double jitter = 0;              // seconds: each pause is delay ± uniform(0, jitter), never negative
    std::uint64_t size_jitter = 0;  // bytes: each chunk is num_bytes ± uniform(0, size_jitter), at least 1
    double first_byte_delay = 0;    // seconds after accept before the first chunk
    std::optional<std::uint64_t> close_after;  // bytes, then FIN
    std::optional<std::uint64_t> reset_after;  // bytes, then RST
    std::optional<std::uint64_t> hang_after;   // bytes, then silence until the client or the server goes
    double slow_close = 0;                     // seconds between the last byte and the FIN
    double rate = 1;                           // share of connections that get the faults
    std::uint64_t seed = 0;

    /// True if any fault is on; without one, connections are served exactly as without the options.
    [[nodiscard]] bool any() const noexcept;
    /// The byte limit that comes first if several are given (at equal counts: reset, close, hang).
    [[nodiscard]] std::optional<FaultLimit> limit() const noexcept;
    /// "close after 100 bytes, jitter ±0.1 s, rate 0.5, seed 7": the faults that are on, rate and seed.
    [[nodiscard]] std::string describe() const;
};

/// One connection's faults: whether it got them and, if so, its chunk sizes and pauses. Decided by a
/// counter-based generator keyed by (seed, listener index, connection number): chunk k's values depend
/// on nothing else, so the same seed gives the same faults in every mode, whatever order concurrent
/// connections draw in. 16 bytes, where a std::mt19937_64 would cost 2.5 KB per connection.
class ConnectionFaults {
public:
    /// No faults: the normal path.
    ConnectionFaults() noexcept = default;
    /// Decides for connection `number` (from 0, in accept order) of listener `listener_index`; the
    /// plan must outlive this object.
    ConnectionFaults(const FaultPlan& plan, std::size_t listener_index, std::uint64_t number);

    /// True if this connection got the faults.
    [[nodiscard]] bool active() const noexcept { return plan_ != nullptr; }
    [[nodiscard]] const FaultPlan* plan() const noexcept { return plan_; }
    [[nodiscard]] std::chrono::nanoseconds first_byte_delay() const noexcept;
    /// The size of chunk `index` for a listener of `num_bytes` per chunk.
    [[nodiscard]] std::size_t chunk_size(std::size_t index, std::size_t num_bytes) const noexcept;
    /// The pause before chunk `index` (>= 1) for a listener of `delay` between chunks.
    [[nodiscard]] std::chrono::nanoseconds pause(std::size_t index,
                                                 std::chrono::nanoseconds delay) const noexcept;
    [[nodiscard]] std::optional<FaultLimit> limit() const noexcept;
    [[nodiscard]] std::chrono::nanoseconds slow_close() const noexcept;

private:
    /// Uniform in [0, 1) from draw number `n` of this connection.
    [[nodiscard]] double uniform(std::uint64_t n) const noexcept;

    const FaultPlan* plan_ = nullptr;
    std::uint64_t key_ = 0;
};

/// The size of a stream whose end is not known yet (a proxied upstream's): ChunkSchedule::source_ended
/// says it once it is.
inline constexpr std::size_t unknown_size = static_cast<std::size_t>(-1);

/// Walks one connection's chunks: when each is due and how many bytes it carries, up to the end of the
/// poem or the fault's byte limit. The schedule is absolute: chunk k is due at start + first-byte delay
/// + the sum of the pauses before it, so lateness in sending never accumulates.
///
/// A proxied stream (poem_size unknown_size) differs in two ways: a chunk carries what has come from
/// the upstream by its time, up to its size (next(sent)), and when nothing had come by then, the
/// schedule moves on to when it does (not_before): an upstream that was idle, as a service between
/// requests is, earns no burst of overdue chunks afterwards.
class ChunkSchedule {
public:
    ChunkSchedule(std::size_t poem_size, std::size_t num_bytes, std::chrono::nanoseconds delay,
                  const ConnectionFaults& faults, TimePoint start) noexcept;

    /// True once every chunk up to the end (or the limit) has been sent.
    [[nodiscard]] bool done() const noexcept { return offset_ >= end_; }
    [[nodiscard]] std::size_t index() const noexcept { return index_; }
    [[nodiscard]] std::size_t offset() const noexcept { return offset_; }
    /// The current chunk's size (the last before the end or the limit may be shorter).
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] TimePoint due() const noexcept { return due_; }
    /// True if the current chunk must wait for its time (it is due after the connection's start).
    [[nodiscard]] bool must_wait() const noexcept { return due_ > start_; }
    /// The current chunk has been sent: on to the next one.
    void next() noexcept { next(size_); }
    /// The current chunk has been sent with `sent` (<= size()) bytes, all the stream had: on to the next.
    void next(std::size_t sent) noexcept;
    /// The current chunk is not due before `when` (the data for it came then).
    void not_before(TimePoint when) noexcept { due_ = std::max(due_, when); }
    /// The stream has ended after `total` bytes (from the start of the connection).
    void source_ended(std::size_t total) noexcept;
    /// The limit that ends this connection before the end of the poem, if any (valid once done()).
    [[nodiscard]] std::optional<FaultLimit> cut() const noexcept;

private:
    const ConnectionFaults& faults_;
    std::size_t poem_size_;
    std::size_t num_bytes_;
    std::chrono::nanoseconds delay_;
    TimePoint start_;
    std::size_t end_;
    std::size_t index_ = 0;
    std::size_t offset_ = 0;
    std::size_t size_ = 0;
    TimePoint due_;
};

}  // namespace poetry::server
