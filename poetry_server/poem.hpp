// A poem file, read once at start into sealed memory and shared read-only by every connection.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <system_error>

#include "poetry/detail/unique_fd.hpp"
#include "program_errors.hpp"

namespace poetry::server {

/// A poem that cannot be served: what() is one line naming the file and the reason (exit status 2).
class PoemError : public cli::InputError {
public:
    using cli::InputError::InputError;
};

class Poem {
public:
    /// Reads the whole file once into a memfd sealed against every change (write, grow, shrink), so
    /// that what is served can never change under a connection, whatever happens to the file, and
    /// chunks can leave with sendfile(2), without copying through the server's own memory.
    /// @throws PoemError for a missing, unreadable or empty file, or a directory.
    static std::shared_ptr<const Poem> load(const std::string& path);
    /// Memory to write a poem into (a memfd that can be sealed), then seal(). @throws PoemError.
    static detail::UniqueFd new_memory(const std::string& name);
    /// Seals `memory`, which holds the poem's `size` (> 0) bytes, against every change, and maps it.
    /// @throws PoemError.
    static std::shared_ptr<const Poem> seal(std::string name, detail::UniqueFd memory, std::size_t size);

    Poem(std::string path, detail::UniqueFd sealed, const std::byte* mapped, std::size_t size) noexcept
        : path_(std::move(path)), sealed_(std::move(sealed)), mapped_(mapped), size_(size) {}
    Poem(const Poem&) = delete;
    Poem& operator=(const Poem&) = delete;
    ~Poem();

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

    /// Sends up to `size` bytes from `offset` to `socket_fd` in one call: send(2) from the sealed memory's
    /// read-only mapping for small chunks (cheaper than sendfile's page-cache path for a few bytes),
    /// sendfile(2) from `sendfile_from` bytes up (no copy through the process). EINTR is retried.
    /// Returns the bytes sent; on a full non-blocking socket, 0 with a "would block" error. sendfile has
    /// no MSG_NOSIGNAL: the process must ignore SIGPIPE.
    std::size_t send(int socket_fd, std::size_t offset, std::size_t size, std::error_code& ec) const noexcept;

    /// Chunks of at least this many bytes leave with sendfile.
    static constexpr std::size_t sendfile_from = 16 * 1024;

private:
    std::string path_;
    detail::UniqueFd sealed_;
    const std::byte* mapped_;  // the sealed memory, read-only: it can never change
    std::size_t size_;
};

}  // namespace poetry::server
