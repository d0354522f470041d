// metrics::resource_usage: CPU time and peak memory, of this process and of waited-for children.
#include "poetry/metrics/resource_usage.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include <boost/test/unit_test.hpp>

namespace poetry::test {
namespace {

constexpr std::size_t mebibyte = 1024 * 1024;

/// Allocates `size` bytes and writes to every page, so that they are resident. The writes go through
/// a volatile pointer: the optimiser removes a memset into memory that is freed unread.
std::unique_ptr<char[]> touched(std::size_t size) {
    auto block = std::make_unique_for_overwrite<char[]>(size);
    volatile char* bytes = block.get();
    for (std::size_t i = 0; i < size; i += 4096) {
        bytes[i] = 1;
    }
    return block;
}

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
        const auto block = touched(64 * mebibyte);
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
        const auto block = touched(48 * mebibyte);
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
        volatile unsigned spin = block[0];
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
