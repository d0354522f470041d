// metrics::resource_usage: CPU time and peak memory, of this process and of waited-for children.
#include "poetry/metrics/resource_usage.hpp"

#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
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

/// The CPU time this process has used, all its threads, from the kernel's own clock for it.
double process_cpu_seconds() {
    timespec now{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

/// Spins until this process has used `seconds` more CPU time: the same work on a loaded machine as on
/// an idle one, where spinning for a wall time would get only a share of a core. Nearly all of it user
/// time: the clock (a system call) is read only every 100,000 turns.
void spin_on_the_cpu_for(double seconds) {
    const double until = process_cpu_seconds() + seconds;
    volatile unsigned spin = 0;
    while (process_cpu_seconds() < until) {
        for (int i = 0; i < 100'000; ++i) {
            spin = spin + 1;
        }
    }
}

/// getrusage reports microseconds, the sum of user and system exactly the kernel's total: allow one
/// microsecond per value read.
constexpr double microseconds = 4e-6;

}  // namespace

BOOST_AUTO_TEST_SUITE(resource_usage)

BOOST_AUTO_TEST_CASE(cpu_times_count_exactly_the_cpu_time_spent_in_between) {
    const double clock_before = process_cpu_seconds();
    const auto before = metrics::cpu_times();
    const double clock_started = process_cpu_seconds();
    spin_on_the_cpu_for(0.05);
    const double clock_ended = process_cpu_seconds();
    const auto used = metrics::cpu_times() - before;
    const double clock_after = process_cpu_seconds();
    // Between two readings of the kernel's CPU clock for this process: no load can move these bounds.
    BOOST_TEST(used.total().count() >= clock_ended - clock_started - microseconds);
    BOOST_TEST(used.total().count() <= clock_after - clock_before + microseconds);
    BOOST_TEST(used.total().count() >= 0.05 - microseconds);
}

BOOST_AUTO_TEST_CASE(cpu_times_subtract_user_and_system_apart) {
    const metrics::CpuTimes later{metrics::Seconds(3.5), metrics::Seconds(1.25)};
    const metrics::CpuTimes earlier{metrics::Seconds(1.0), metrics::Seconds(0.25)};
    const auto used = later - earlier;
    BOOST_TEST(used.user.count() == 2.5);
    BOOST_TEST(used.system.count() == 1.0);
    BOOST_TEST(used.total().count() == 3.5);
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
    int pipe_fds[2];
    BOOST_TEST_REQUIRE(::pipe(pipe_fds) == 0);
    const auto before = metrics::cpu_times();
    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        const TouchedMemory block(48 * mebibyte);
        spin_on_the_cpu_for(0.05);
        // What the child has used so far (touching the memory is system time, spinning user time);
        // exiting adds a little more.
        const double used = process_cpu_seconds();
        const bool told = ::write(pipe_fds[1], &used, sizeof(used)) == sizeof(used);
        ::_exit(told ? 0 : 1);
    }
    ::close(pipe_fds[1]);
    double child_used = 0;
    const bool heard = ::read(pipe_fds[0], &child_used, sizeof(child_used)) == sizeof(child_used);
    ::close(pipe_fds[0]);
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_TEST_REQUIRE(heard);
    BOOST_TEST(metrics::children_peak_rss_bytes() >= 48 * mebibyte);
    // The child's CPU time, all of it, now counted with this process's: exact, whatever the load.
    BOOST_TEST((metrics::cpu_times() - before).total().count() >= child_used - microseconds);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace poetry::test
