// metrics::resource_usage: CPU time and peak memory, of this process and of waited-for children.
#include "poetry/metrics/resource_usage.hpp"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <boost/test/unit_test.hpp>

namespace poetry::test {
namespace {

constexpr std::size_t mebibyte = 1024 * 1024;

/// `size` bytes written page by page, so that they are resident; mapped directly, so that unmapping
/// returns them at once (a sanitizer's allocator would keep freed memory in quarantine).
class TouchedMemory {
public:
    explicit TouchedMemory(std::size_t size) : size_(size) {
        void* block = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        BOOST_TEST_REQUIRE(block != MAP_FAILED);
        bytes_ = static_cast<volatile char*>(block);
        for (std::size_t i = 0; i < size; i += 4096) {
            bytes_[i] = 1;
        }
    }
    TouchedMemory(const TouchedMemory&) = delete;
    TouchedMemory& operator=(const TouchedMemory&) = delete;
    ~TouchedMemory() { ::munmap(const_cast<char*>(bytes_), size_); }

private:
    std::size_t size_;
    volatile char* bytes_ = nullptr;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(resource_usage)

BOOST_AUTO_TEST_CASE(cpu_times_grow_with_busy_work_and_subtract) {
    const auto before = metrics::cpu_times();
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
    volatile unsigned spin = 0;
    while (std::chrono::steady_clock::now() < until) {
        spin = spin + 1;
    }
    const auto used = metrics::cpu_times() - before;
    BOOST_TEST(used.total().count() >= 0.02);
    BOOST_TEST(used.user.count() >= 0.0);
    BOOST_TEST(used.system.count() >= 0.0);
}

BOOST_AUTO_TEST_CASE(peak_rss_sees_touched_memory_and_reset_starts_a_new_peak) {
    {
        const TouchedMemory block(64 * mebibyte);
        BOOST_TEST(metrics::peak_rss_bytes() >= 64 * mebibyte);
    }
    const std::size_t old_peak = metrics::peak_rss_bytes();
    if (!metrics::reset_peak_rss()) {
        BOOST_TEST_MESSAGE("this kernel does not allow resetting the peak; skipped");
        return;
    }
    BOOST_TEST(metrics::peak_rss_bytes() < old_peak);
}

BOOST_AUTO_TEST_CASE(cpu_and_peak_of_a_waited_for_child_count) {
    const auto before = metrics::cpu_times();
    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        const TouchedMemory block(48 * mebibyte);
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
        volatile unsigned spin = 0;
        while (std::chrono::steady_clock::now() < until) {
            spin = spin + 1;
        }
        ::_exit(0);
    }
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_TEST(metrics::children_peak_rss_bytes() >= 48 * mebibyte);
    BOOST_TEST((metrics::cpu_times() - before).total().count() >= 0.02);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace poetry::test
