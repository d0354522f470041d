// A move-only owner of a file descriptor: the one place where an fd is closed.
#pragma once

#include <utility>

namespace poetry::detail {

class UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(other.release());
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }

    /// Gives up ownership without closing.
    int release() noexcept { return std::exchange(fd_, -1); }

    /// Closes the owned fd (if any) and takes `fd`. close() errors are ignored: after close() the fd is
    /// released whatever it returns (close(2), "Dealing with error returns"), so retrying would be wrong.
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

}  // namespace poetry::detail
