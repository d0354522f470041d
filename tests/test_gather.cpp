// gather: many tasks at once on one loop, values in order, failures after everyone has finished.
#include "poetry/coro/gather.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include "poetry/coro/awaitables.hpp"
#include "poetry/net/socket.hpp"
#include "support/fd_count.hpp"
#include "support/fd_limit.hpp"

using namespace std::chrono_literals;
using poetry::EventLoop;
using poetry::Task;
namespace net = poetry::net;

namespace {

constexpr std::size_t echo_tasks = 10'000;

/// Echoes everything it receives until end of stream.
Task<void> echo(EventLoop& loop, net::Socket socket) {
    std::byte buffer[256];
    while (const std::size_t n = co_await poetry::recv(loop, socket, buffer)) {
        co_await poetry::send_all(loop, socket, std::span(buffer, n));
    }
}

/// At most `capacity` holders at once; the others wait, in order, for a release. Lets 10,000 tasks
/// run at once where the fd limit cannot hold 10,000 socketpairs at once (a hard limit of 20,000
/// is common, and raising it needs CAP_SYS_RESOURCE).
class Slots {
public:
    Slots(EventLoop& loop, std::size_t capacity) : loop_(loop), free_(capacity) {}

    Task<void> acquire() {
        if (free_ > 0) {
            --free_;
            co_return;
        }
        poetry::Future<void> turn(loop_);
        waiting_.push_back(turn);
        co_await turn;
    }
    void release() {
        if (waiting_.empty()) {
            ++free_;
            return;
        }
        waiting_.front().set_result();  // the slot passes straight to the longest waiter
        waiting_.pop_front();
    }

private:
    EventLoop& loop_;
    std::size_t free_;
    std::deque<poetry::Future<void>> waiting_;
};

/// Sends a message through an echo task on its own socketpair; returns what came back.
Task<std::string> echo_round_trip(EventLoop& loop, Slots& slots, std::size_t i) {
    co_await slots.acquire();
    auto [ours, theirs] = net::socket_pair();
    auto echoing = poetry::create_task(loop, echo(loop, std::move(theirs)));
    const std::string message = "poem " + std::to_string(i);
    co_await poetry::send_all(loop, ours, net::as_bytes(message));
    std::string reply;
    std::byte buffer[256];
    while (reply.size() < message.size()) {
        const std::size_t n = co_await poetry::recv(loop, ours, buffer);
        if (n == 0) {
            break;
        }
        reply.append(reinterpret_cast<const char*>(buffer), n);
    }
    ours.close();
    co_await echoing;  // the echo task sees end of stream and ends, closing its end
    slots.release();
    co_return reply;
}

Task<int> value_after(EventLoop& loop, int value, std::chrono::milliseconds delay) {
    co_await poetry::sleep(loop, delay);
    co_return value;
}

Task<int> failure_after(EventLoop& loop, std::string message, std::chrono::milliseconds delay) {
    co_await poetry::sleep(loop, delay);
    throw std::runtime_error(message);
}

/// Socketpairs that may be open at once: every echo task's, or as many as the fd limit allows.
std::size_t socketpairs_at_once() {
    const std::size_t limit = poetry::test::raise_fd_limit_towards(2 * echo_tasks + 64);
    const std::size_t spare = limit - std::min(limit, poetry::test::count_open_fds() + 64);
    return std::min(echo_tasks, spare / 2);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(gather, poetry::test::FdLeakCheck)

BOOST_AUTO_TEST_CASE(gather_returns_values_in_the_order_of_the_tasks) {
    EventLoop loop;
    std::vector<Task<int>> tasks;
    tasks.push_back(value_after(loop, 1, 30ms));
    tasks.push_back(value_after(loop, 2, 10ms));
    tasks.push_back(value_after(loop, 3, 20ms));
    const auto values = poetry::run(loop, poetry::gather(loop, std::move(tasks)));
    BOOST_TEST(values == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(gather_of_nothing_is_empty) {
    EventLoop loop;
    BOOST_TEST(poetry::run(loop, poetry::gather(loop, std::vector<Task<int>>{})).empty());
}

BOOST_AUTO_TEST_CASE(gather_lets_every_task_finish_then_rethrows_the_first_failure) {
    EventLoop loop;
    int finished = 0;
    auto counted = [&](Task<int> inner) -> Task<int> {
        struct Count {
            int& n;
            ~Count() { ++n; }
        } count{finished};
        co_return co_await std::move(inner);
    };
    std::vector<Task<int>> tasks;
    tasks.push_back(counted(value_after(loop, 1, 5ms)));
    tasks.push_back(counted(failure_after(loop, "second fails", 20ms)));
    tasks.push_back(counted(failure_after(loop, "third fails first", 10ms)));
    tasks.push_back(counted(value_after(loop, 4, 30ms)));
    BOOST_CHECK_EXCEPTION(
        poetry::run(loop, poetry::gather(loop, std::move(tasks))), std::runtime_error,
        [](const std::runtime_error& e) { return std::string(e.what()) == "second fails"; });
    BOOST_TEST(finished == 4);
}

BOOST_AUTO_TEST_CASE(gather_of_10000_tasks_each_echoing_over_its_own_socketpair) {
    const std::size_t at_once = socketpairs_at_once();
    BOOST_TEST_MESSAGE("echo socketpairs open at once: " << at_once);
    BOOST_REQUIRE_MESSAGE(at_once >= echo_tasks / 2, "the fd limit is too low for this test");
    EventLoop loop;
    Slots slots(loop, at_once);
    std::vector<Task<std::string>> tasks;
    tasks.reserve(echo_tasks);
    for (std::size_t i = 0; i < echo_tasks; ++i) {
        tasks.push_back(echo_round_trip(loop, slots, i));
    }
    const auto replies = poetry::run(loop, poetry::gather(loop, std::move(tasks)));
    BOOST_REQUIRE_EQUAL(replies.size(), echo_tasks);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < echo_tasks; ++i) {
        wrong += replies[i] != "poem " + std::to_string(i) ? 1 : 0;
    }
    BOOST_TEST(wrong == 0U);
    BOOST_TEST(loop.selector().size() == 0U);
}

BOOST_AUTO_TEST_SUITE_END()
