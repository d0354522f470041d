// The processes strategy's wire format. The parent sends a worker the index of its next download on the
// command pipe; the worker sends back frames (connected, chunk, finished) on the event pipe, which the
// parent rebuilds from a non-blocking read however the bytes were split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "download.hpp"

namespace poetry::client {

enum class FrameKind : std::uint8_t { connected = 1, chunk = 2, finished = 3 };

/// The fixed part of every frame; `payload_size` bytes follow it. Both ends are the same program on the
/// same machine (fork without exec), so integers travel in native byte order.
///   connected: no payload
///   chunk:     the chunk's size (uint64)
///   finished:  the error's length (uint32), the error, then the whole poem
struct FrameHeader {
    FrameKind kind = FrameKind::connected;
    std::uint8_t status = 0;  // finished: the DownloadStatus
    std::uint16_t reserved = 0;
    std::uint32_t download = 0;  // the index in the strategy's downloads
    std::int64_t time = 0;       // Clock nanoseconds: CLOCK_MONOTONIC is the same in every process
    std::uint64_t payload_size = 0;
};

inline constexpr std::size_t frame_header_size = 24;
/// Anything longer is a corrupt length, not a poem: it must not make the parent allocate gigabytes.
inline constexpr std::uint64_t max_frame_payload = std::uint64_t{1} << 30;

/// A frame with its payload decoded, as the parent dispatches it.
struct Frame {
    FrameKind kind = FrameKind::connected;
    std::uint32_t download = 0;
    TimePoint at{};
    std::size_t chunk_bytes = 0;                     // chunk
    DownloadStatus status = DownloadStatus::failed;  // finished
    std::string error;                               // finished
    std::string poem;                                // finished
};

/// Writes `header` (its payload_size replaced by the parts' total) and the payload parts to a blocking
/// fd, retrying partial writes and EINTR. A payload over max_frame_payload is refused with
/// errc::message_size before anything is written; other errors (EPIPE: the reader is gone) set `ec`.
void write_frame(int fd, const FrameHeader& header, std::span<const std::span<const std::byte>> payload,
                 std::error_code& ec);
void write_frame(int fd, const FrameHeader& header, std::span<const std::byte> payload, std::error_code& ec);

void write_connected(int fd, std::uint32_t download, TimePoint at, std::error_code& ec);
void write_chunk(int fd, std::uint32_t download, std::size_t bytes, TimePoint at, std::error_code& ec);
/// The result's status, error, finish time and poem (errc::message_size if the poem is too big to send).
void write_finished(int fd, std::uint32_t download, const DownloadResult& result, std::error_code& ec);

/// The command pipe: one download index. Blocking; EINTR is retried.
void write_command(int fd, std::uint32_t download, std::error_code& ec);
/// @returns true with `download` set, or false: at end of file (ec clear: no more work) or on an error
///          (ec set; errc::protocol_error for an index cut short).
bool read_command(int fd, std::uint32_t& download, std::error_code& ec);

/// Rebuilds frames from the bytes of an event pipe, however they arrive.
class FrameReader {
public:
    /// Appends bytes that came from the pipe.
    void feed(std::span<const std::byte> bytes);
    /// Reads what `fd` has now, up to 64 KiB. @returns the bytes read: 0 at end of file (ec clear) or on an
    /// error (ec set; "would block" on a non-blocking fd with nothing to read, see detail::is_would_block).
    std::size_t read_some(int fd, std::error_code& ec);

    /// The next complete frame, or nullopt: more bytes are needed, or the stream is corrupt (then error()
    /// says why, and every later call returns nullopt).
    std::optional<Frame> next();

    [[nodiscard]] bool corrupt() const noexcept { return !error_.empty(); }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }
    /// Bytes received that are not part of a complete frame yet (at end of file: a frame cut short).
    [[nodiscard]] std::size_t pending() const noexcept { return buffer_.size() - start_; }

private:
    std::nullopt_t fail(std::string reason);
    void discard_consumed();

    std::vector<std::byte> buffer_;
    std::size_t start_ = 0;  // the first byte not returned in a frame yet
    std::string error_;
};

}  // namespace poetry::client
