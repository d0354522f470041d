#include "poem.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

#include "poetry/detail/syscall.hpp"
#include "poetry/detail/unique_fd.hpp"

namespace poetry::server {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
    throw PoemError("poem file " + path + ": " + reason);
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
    std::vector<std::byte> bytes(static_cast<std::size_t>(info.st_size));
    std::size_t filled = 0;
    while (filled < bytes.size()) {
        const auto n = detail::retry_on_eintr(
            ec, [&] { return ::read(file.get(), bytes.data() + filled, bytes.size() - filled); });
        if (ec) {
            fail(path, ec.message());
        }
        if (n == 0) {
            break;  // shorter than fstat said: it shrank as we read; serve what is there
        }
        filled += static_cast<std::size_t>(n);
    }
    bytes.resize(filled);
    if (bytes.empty()) {
        fail(path, "is empty: there is no poem to serve");
    }
    return std::make_shared<const Poem>(path, std::move(bytes));
}

}  // namespace poetry::server
