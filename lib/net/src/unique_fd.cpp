#include "poetry/detail/unique_fd.hpp"

#include <unistd.h>

namespace poetry::detail {

void UniqueFd::reset(int fd) noexcept {
    const int old = std::exchange(fd_, fd);
    if (old >= 0) {
        ::close(old);
    }
}

}  // namespace poetry::detail
