// The physical reference for the fast path: accepts one client on 127.0.0.1:0 and sendfile(2)s it a
// file, as fast as the kernel moves bytes over loopback. Prints its port, then serves one client.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "poetry/detail/unique_fd.hpp"
#include "poetry/net/socket.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    poetry::detail::UniqueFd file(::open(argv[1], O_RDONLY | O_CLOEXEC));
    struct stat info {};
    if (!file || ::fstat(file.get(), &info) != 0) {
        std::perror(argv[1]);
        return 2;
    }
    poetry::net::Socket listener = poetry::net::listen(poetry::net::Endpoint::numeric("127.0.0.1", 0));
    std::printf("%u\n", listener.local_endpoint().port());
    std::fflush(stdout);
    std::error_code ec;
    poetry::net::Socket client = poetry::net::accept(listener, ec);
    off_t offset = 0;
    while (!ec && offset < info.st_size) {
        if (::sendfile(client.fd(), file.get(), &offset, static_cast<std::size_t>(info.st_size - offset)) <
            0) {
            return 1;
        }
    }
    return 0;
}
