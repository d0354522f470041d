// libFuzzer target: poetry_client's reader of the server's --ports-file (read_ports_file in
// targets.cpp, compiled into this target). read_ports_file takes a path, so each input is written to a
// memfd and read back through /proc/self/fd/N: no disk, no temp files left behind. cli::InputError is the
// documented refusal; anything else that escapes, a sanitizer report, or an accepted file without
// targets is a bug.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "targets.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_ports_file: %s\n", what);
    std::abort();
}

/// The one memfd every input goes through, and its path.
struct InputFile {
    int fd = ::memfd_create("ports.json", MFD_CLOEXEC);
    std::string path = "/proc/self/fd/" + std::to_string(fd);

    void write(const std::uint8_t* data, std::size_t size) const {
        if (fd < 0 || ::ftruncate(fd, 0) != 0) {
            fail("memfd_create or ftruncate failed");
        }
        std::size_t done = 0;
        while (done < size) {
            const auto n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
            if (n <= 0) {
                fail("pwrite to the memfd failed");
            }
            done += static_cast<std::size_t>(n);
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const InputFile file;
    file.write(data, size);
    try {
        const auto targets = poetry::client::read_ports_file(file.path);
        if (targets.empty()) {
            fail("an accepted ports file gave no target");
        }
    } catch (const poetry::cli::InputError&) {
    }
    return 0;
}
