#include "strategies/pipe_frames.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cstring>
#include <limits>
#include <utility>

#include "poetry/detail/syscall.hpp"

namespace poetry::client {
namespace {

// Field offsets in the encoded header (see FrameHeader): no padding, whatever the compiler would do.
constexpr std::size_t kind_offset = 0;
constexpr std::size_t status_offset = 1;
constexpr std::size_t reserved_offset = 2;
constexpr std::size_t download_offset = 4;
constexpr std::size_t time_offset = 8;
constexpr std::size_t payload_size_offset = 16;
static_assert(payload_size_offset + sizeof(std::uint64_t) == frame_header_size);

constexpr std::size_t read_size = 64 * 1024;  // a pipe's default capacity on Linux (pipe(7))
constexpr std::size_t retained_capacity = 1024 * 1024;

using EncodedHeader = std::array<std::byte, frame_header_size>;

template <class T>
void put(EncodedHeader& out, std::size_t offset, T value) noexcept {
    std::memcpy(out.data() + offset, &value, sizeof(value));
}

template <class T>
T get(std::span<const std::byte> in, std::size_t offset) noexcept {
    T value{};
    std::memcpy(&value, in.data() + offset, sizeof(value));
    return value;
}

EncodedHeader encode(const FrameHeader& header) noexcept {
    EncodedHeader out{};
    put(out, kind_offset, static_cast<std::uint8_t>(header.kind));
    put(out, status_offset, header.status);
    put(out, reserved_offset, header.reserved);
    put(out, download_offset, header.download);
    put(out, time_offset, header.time);
    put(out, payload_size_offset, header.payload_size);
    return out;
}

FrameHeader decode(std::span<const std::byte> in) noexcept {
    FrameHeader header;
    header.kind = static_cast<FrameKind>(get<std::uint8_t>(in, kind_offset));
    header.status = get<std::uint8_t>(in, status_offset);
    header.reserved = get<std::uint16_t>(in, reserved_offset);
    header.download = get<std::uint32_t>(in, download_offset);
    header.time = get<std::int64_t>(in, time_offset);
    header.payload_size = get<std::uint64_t>(in, payload_size_offset);
    return header;
}

std::int64_t to_wire(TimePoint at) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
}

TimePoint from_wire(std::int64_t time) noexcept {
    return TimePoint(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(time)));
}

// Two names, not overloads: a std::string must never be taken for a value whose object bytes are sent.
template <class T>
std::span<const std::byte> value_bytes(const T& value) noexcept {
    return std::as_bytes(std::span(&value, 1));
}

std::span<const std::byte> text_bytes(std::string_view text) noexcept {
    return std::as_bytes(std::span(text.data(), text.size()));
}

// Blocking: everything in `parts`, or an error.
void write_all(int fd, std::span<iovec> parts, std::error_code& ec) {
    while (!parts.empty()) {
        const auto count = static_cast<int>(std::min<std::size_t>(parts.size(), IOV_MAX));
        const ssize_t written = detail::retry_on_eintr(ec, [&] { return ::writev(fd, parts.data(), count); });
        if (ec) {
            return;
        }
        auto left = static_cast<std::size_t>(written);
        while (!parts.empty() && left >= parts.front().iov_len) {
            left -= parts.front().iov_len;
            parts = parts.subspan(1);
        }
        if (left > 0) {
            parts.front().iov_base = static_cast<char*>(parts.front().iov_base) + left;
            parts.front().iov_len -= left;
        }
    }
}

}  // namespace

void write_frame(int fd, const FrameHeader& header, std::span<const std::span<const std::byte>> payload,
                 std::error_code& ec) {
    std::uint64_t total = 0;
    for (const auto part : payload) {
        total += part.size();
    }
    if (total > max_frame_payload) {
        ec = std::make_error_code(std::errc::message_size);
        return;
    }
    FrameHeader sized = header;
    sized.payload_size = total;
    EncodedHeader encoded = encode(sized);
    std::vector<iovec> parts;
    parts.reserve(1 + payload.size());
    parts.push_back({encoded.data(), encoded.size()});
    for (const auto part : payload) {
        if (!part.empty()) {
            // iovec is shared with readv, hence non-const; writev only reads it.
            parts.push_back({const_cast<std::byte*>(part.data()), part.size()});
        }
    }
    write_all(fd, parts, ec);
}

void write_frame(int fd, const FrameHeader& header, std::span<const std::byte> payload, std::error_code& ec) {
    write_frame(fd, header, std::span(&payload, 1), ec);
}

void write_connected(int fd, std::uint32_t download, TimePoint at, std::error_code& ec) {
    write_frame(fd, {.kind = FrameKind::connected, .download = download, .time = to_wire(at)},
                std::span<const std::byte>(), ec);
}

void write_chunk(int fd, std::uint32_t download, std::size_t bytes, TimePoint at, std::error_code& ec) {
    const auto size = static_cast<std::uint64_t>(bytes);
    write_frame(fd, {.kind = FrameKind::chunk, .download = download, .time = to_wire(at)}, value_bytes(size),
                ec);
}

void write_finished(int fd, std::uint32_t download, const DownloadResult& result, std::error_code& ec) {
    if (result.error.size() > max_frame_payload) {
        ec = std::make_error_code(std::errc::message_size);
        return;
    }
    const auto error_size = static_cast<std::uint32_t>(result.error.size());
    const std::array<std::span<const std::byte>, 3> payload{value_bytes(error_size), text_bytes(result.error),
                                                            text_bytes(result.poem)};
    const FrameHeader header{.kind = FrameKind::finished,
                             .status = static_cast<std::uint8_t>(result.status),
                             .download = download,
                             .time = to_wire(result.finished)};
    write_frame(fd, header, payload, ec);
}

void write_command(int fd, std::uint32_t download, std::error_code& ec) {
    iovec part{const_cast<std::uint32_t*>(&download), sizeof(download)};
    write_all(fd, std::span(&part, 1), ec);
}

bool read_command(int fd, std::uint32_t& download, std::error_code& ec) {
    std::array<std::byte, sizeof(download)> bytes{};
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t n =
            detail::retry_on_eintr(ec, [&] { return ::read(fd, bytes.data() + got, bytes.size() - got); });
        if (ec) {
            return false;
        }
        if (n == 0) {
            if (got > 0) {
                ec = std::make_error_code(std::errc::protocol_error);
            }
            return false;
        }
        got += static_cast<std::size_t>(n);
    }
    std::memcpy(&download, bytes.data(), sizeof(download));
    return true;
}

void FrameReader::feed(std::span<const std::byte> bytes) {
    discard_consumed();
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::size_t FrameReader::read_some(int fd, std::error_code& ec) {
    discard_consumed();
    const std::size_t old_size = buffer_.size();
    buffer_.resize(old_size + read_size);
    const ssize_t n =
        detail::retry_on_eintr(ec, [&] { return ::read(fd, buffer_.data() + old_size, read_size); });
    const std::size_t got = ec ? 0 : static_cast<std::size_t>(n);
    buffer_.resize(old_size + got);
    return got;
}

std::optional<Frame> FrameReader::next() {
    if (corrupt()) {
        return std::nullopt;
    }
    const auto available = std::span<const std::byte>(buffer_).subspan(start_);
    if (available.size() < frame_header_size) {
        return std::nullopt;
    }
    const FrameHeader header = decode(available);
    const auto kind = static_cast<unsigned>(header.kind);
    if (kind < static_cast<unsigned>(FrameKind::connected) ||
        kind > static_cast<unsigned>(FrameKind::finished)) {
        return fail("unknown frame kind " + std::to_string(kind));
    }
    if (header.payload_size > max_frame_payload) {
        return fail("frame payload of " + std::to_string(header.payload_size) + " bytes is over the limit");
    }
    const auto payload_size = static_cast<std::size_t>(header.payload_size);
    if (available.size() - frame_header_size < payload_size) {
        return std::nullopt;
    }
    const auto payload = available.subspan(frame_header_size, payload_size);

    Frame frame;
    frame.kind = header.kind;
    frame.download = header.download;
    frame.at = from_wire(header.time);
    switch (header.kind) {
        case FrameKind::connected:
            if (!payload.empty()) {
                return fail("connected frame with a payload");
            }
            break;
        case FrameKind::chunk: {
            if (payload.size() != sizeof(std::uint64_t)) {
                return fail("chunk frame with a " + std::to_string(payload.size()) + "-byte payload");
            }
            const auto bytes = get<std::uint64_t>(payload, 0);
            if (bytes > std::numeric_limits<std::size_t>::max()) {
                return fail("chunk of " + std::to_string(bytes) + " bytes");
            }
            frame.chunk_bytes = static_cast<std::size_t>(bytes);
            break;
        }
        case FrameKind::finished: {
            if (header.status > static_cast<std::uint8_t>(DownloadStatus::interrupted)) {
                return fail("finished frame with status " + std::to_string(header.status));
            }
            if (payload.size() < sizeof(std::uint32_t)) {
                return fail("finished frame without an error length");
            }
            const auto error_size = get<std::uint32_t>(payload, 0);
            const auto rest = payload.subspan(sizeof(std::uint32_t));
            if (error_size > rest.size()) {
                return fail("finished frame's error is longer than its payload");
            }
            const auto error = rest.first(error_size);
            const auto poem = rest.subspan(error_size);
            frame.status = static_cast<DownloadStatus>(header.status);
            frame.error.assign(reinterpret_cast<const char*>(error.data()), error.size());
            frame.poem.assign(reinterpret_cast<const char*>(poem.data()), poem.size());
            break;
        }
    }
    start_ += frame_header_size + payload_size;
    return frame;
}

std::nullopt_t FrameReader::fail(std::string reason) {
    error_ = std::move(reason);
    return std::nullopt;
}

void FrameReader::discard_consumed() {
    if (start_ == buffer_.size() && buffer_.capacity() > retained_capacity) {
        // A big poem went through: give the memory back instead of keeping it for small frames.
        buffer_ = {};
        start_ = 0;
        return;
    }
    // Moves only the bytes after the last complete frame, and only after frames were taken: linear overall.
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
}

}  // namespace poetry::client
