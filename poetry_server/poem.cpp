#include "poem.hpp"

#include <fcntl.h>
#include <sys/mman.h>  // memfd_create
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "poetry/detail/syscall.hpp"
#include "poetry/net/socket.hpp"

namespace poetry::server {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
    throw PoemError("poem file " + path + ": " + reason);
}

/// Copies `file` into `sealed` to the end; returns the bytes copied.
std::size_t copy_all(int file, int sealed, const std::string& path) {
    std::vector<char> buffer(1 << 20);
    std::size_t total = 0;
    std::error_code ec;
    for (;;) {
        const auto n = detail::retry_on_eintr(ec, [&] { return ::read(file, buffer.data(), buffer.size()); });
        if (ec) {
            fail(path, ec.message());
        }
        if (n == 0) {
            return total;
        }
        for (ssize_t done = 0; done < n;) {
            const auto w =
                detail::retry_on_eintr(ec, [&] { return ::write(sealed, buffer.data() + done, n - done); });
            if (ec) {
                fail(path, "cannot hold it in memory: " + ec.message());
            }
            done += w;
        }
        total += static_cast<std::size_t>(n);
    }
}

}  // namespace

std::shared_ptr<const Poem> Poem::load(const std::string& path) {
    std::error_code ec;
    detail::UniqueFd file(
        detail::retry_on_eintr(ec, [&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); }));
    if (ec) {
        fail(path, ec.message());
    }
    struct stat info {};
    if (::fstat(file.get(), &info) != 0) {
        fail(path, detail::last_error().message());
    }
    if (S_ISDIR(info.st_mode)) {
        fail(path, "is a directory, not a file");
    }
    if (!S_ISREG(info.st_mode)) {
        fail(path, "is not a regular file");
    }
    detail::UniqueFd memory = new_memory(path);
    const std::size_t size = copy_all(file.get(), memory.get(), path);
    if (size == 0) {
        fail(path, "is empty: there is no poem to serve");
    }
    return seal(path, std::move(memory), size);
}

detail::UniqueFd Poem::new_memory(const std::string& name) {
    detail::UniqueFd memory(::memfd_create("poem", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!memory) {
        fail(name, "cannot hold it in memory: " + detail::last_error().message());
    }
    return memory;
}

std::shared_ptr<const Poem> Poem::seal(std::string name, detail::UniqueFd memory, std::size_t size) {
    if (::fcntl(memory.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
        fail(name, "cannot seal it in memory: " + detail::last_error().message());
    }
    void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, memory.get(), 0);
    if (mapped == MAP_FAILED) {
        fail(name, "cannot map it: " + detail::last_error().message());
    }
    return std::make_shared<const Poem>(std::move(name), std::move(memory), static_cast<const std::byte*>(mapped),
                                        size);
}

Poem::~Poem() {
    ::munmap(const_cast<std::byte*>(mapped_), size_);
}

std::size_t Poem::send(int socket_fd, std::size_t offset, std::size_t size,
                       std::error_code& ec) const noexcept {
    if (size >= sendfile_from) {
        return net::send_file(socket_fd, sealed_.get(), offset, size, ec);
    }
    const auto n = detail::retry_on_eintr(
        ec, [&] { return ::send(socket_fd, mapped_ + offset, size, MSG_NOSIGNAL); });
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

}  // namespace poetry::server
