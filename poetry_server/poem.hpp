// A poem file, read once at start and shared read-only by every connection that streams it.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace poetry::server {

/// A poem that cannot be served: what() is one line naming the file and the reason.
class PoemError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Poem {
public:
    /// Reads the whole file. It is read, not mapped: a file truncated while the server runs would make
    /// a mapping raise SIGBUS, and a copy in memory cannot change under the connections.
    /// @throws PoemError for a missing, unreadable or empty file, or a directory.
    static std::shared_ptr<const Poem> load(const std::string& path);

    Poem(std::string path, std::vector<std::byte> bytes) : path_(std::move(path)), bytes_(std::move(bytes)) {}

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return bytes_; }
    [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }

private:
    std::string path_;
    std::vector<std::byte> bytes_;
};

}  // namespace poetry::server
