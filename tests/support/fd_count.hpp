// Counting this process's open fds, and a fixture that fails a test case that leaks one.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstddef>
#include <filesystem>

namespace poetry::test {

/// Open fds of this process, from /proc/self/fd (the directory's own fd excluded).
inline std::size_t count_open_fds() {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        ++count;
    }
    return count - 1;
}

/// Use with BOOST_FIXTURE_TEST_SUITE: every test case must close every fd it opened.
struct FdLeakCheck {
    FdLeakCheck() : before(count_open_fds()) {}
    ~FdLeakCheck() {
        BOOST_CHECK_MESSAGE(count_open_fds() == before, "the test case leaked file descriptors");
    }
    FdLeakCheck(const FdLeakCheck&) = delete;
    FdLeakCheck& operator=(const FdLeakCheck&) = delete;

    std::size_t before;
};

}  // namespace poetry::test
