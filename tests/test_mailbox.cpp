// The loop's way in from other threads: call_soon_threadsafe and the Mailbox behind it. Posted
// callbacks wake a loop that waits with nothing else to do, run on the loop's thread in the order they
// were posted, and are dropped safely once the loop has gone; the wake-up fd exists only once used.
#include "poetry/loop/mailbox.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/select.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "poetry/detail/unique_fd.hpp"
#include "poetry/loop/event_loop.hpp"
#include "poetry/net/socket.hpp"
#include "support/fd_count.hpp"
#include "support/fd_limit.hpp"
#include "support/thread_flag.hpp"

using namespace std::chrono_literals;
using poetry::EventLoop;
namespace data = boost::unit_test::data;

namespace {

const std::vector<std::string> backends{"select", "poll", "epoll"};

/// Stops `loop` from another thread after `limit` by writing to a socket the loop reads, so that a
/// loop that is never woken fails its test instead of hanging it, without adding a timer to it.
class Watchdog {
public:
    Watchdog(EventLoop& loop, std::chrono::seconds limit) : loop_(loop), pair_(poetry::net::socket_pair()) {
        loop.add_reader(pair_.first.fd(), [this] {
            fired_ = true;
            loop_.stop();
        });
        thread_ = std::thread([this, limit] {
            if (!done_.wait_for(limit)) {
                pair_.second.send_all(poetry::net::as_bytes("!"));
            }
        });
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
    ~Watchdog() {
        done_.raise();
        thread_.join();
        loop_.remove_reader(pair_.first.fd());
    }
    [[nodiscard]] bool fired() const noexcept { return fired_; }

private:
    EventLoop& loop_;
    std::pair<poetry::net::Socket, poetry::net::Socket> pair_;
    poetry::test::ThreadFlag done_;
    std::thread thread_;
    bool fired_ = false;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(mailbox, poetry::test::FdLeakCheck)

BOOST_DATA_TEST_CASE(callbacks_posted_from_another_thread_wake_a_loop_waiting_with_no_timers_and_run_in_order,
                     data::make(backends), backend) {
    EventLoop loop(poetry::make_selector(backend));
    loop.mailbox();  // opened on the loop's thread, as another thread cannot
    std::vector<int> order;  // touched by the loop's thread only
    std::vector<std::thread::id> ran_on;
    {
        const Watchdog watchdog(loop, 10s);
        std::thread poster([&loop, &order, &ran_on] {
            // Give the loop time to block in select with nothing to wake it but the mailbox; had it not
            // blocked yet, the callbacks must still run.
            std::this_thread::sleep_for(50ms);
            for (int i = 0; i < 100; ++i) {
                loop.call_soon_threadsafe([&order, &ran_on, i] {
                    order.push_back(i);
                    ran_on.push_back(std::this_thread::get_id());
                });
            }
            loop.call_soon_threadsafe([&loop] { loop.stop(); });
        });
        loop.run_forever();
        poster.join();
        BOOST_TEST(!watchdog.fired(), "the posted callbacks never woke the loop");
    }
    BOOST_REQUIRE_EQUAL(order.size(), 100U);
    for (int i = 0; i < 100; ++i) {
        BOOST_TEST(order[static_cast<std::size_t>(i)] == i);
        BOOST_TEST((ran_on[static_cast<std::size_t>(i)] == std::this_thread::get_id()));
    }
}

BOOST_AUTO_TEST_CASE(a_loop_that_never_hears_from_another_thread_has_no_fd_for_it) {
    EventLoop loop;
    const std::size_t fds = poetry::test::count_open_fds();
    loop.call_soon([&] { loop.stop(); });
    loop.run_forever();
    BOOST_TEST(loop.selector().size() == 0U);
    BOOST_TEST(poetry::test::count_open_fds() == fds);
    // The first call on the loop's thread opens the mailbox: one fd, watched by the selector.
    bool ran = false;
    loop.call_soon_threadsafe([&] {
        ran = true;
        loop.stop();
    });
    BOOST_TEST(loop.selector().size() == 1U);
    BOOST_TEST(poetry::test::count_open_fds() == fds + 1);
    loop.run_forever();
    BOOST_TEST(ran);
}

BOOST_AUTO_TEST_CASE(another_thread_cannot_make_the_first_call_while_the_loop_runs) {
    EventLoop loop;
    poetry::test::ThreadFlag refused;
    std::thread other;
    loop.call_soon([&] {
        other = std::thread([&] {
            try {
                loop.call_soon_threadsafe([] {});
            } catch (const std::logic_error&) {
                refused.raise();
            }
        });
        other.join();
        loop.stop();
    });
    loop.run_forever();
    BOOST_TEST(refused.raised());
    BOOST_TEST(loop.selector().size() == 0U, "the other thread registered an fd under the loop's feet");
}

BOOST_AUTO_TEST_CASE(a_post_after_the_loop_has_gone_is_refused_and_its_callback_destroyed_at_once) {
    auto loop = std::make_unique<EventLoop>();
    const std::shared_ptr<poetry::Mailbox> mailbox = loop->mailbox();
    auto owned = std::make_shared<int>(1);
    loop.reset();
    BOOST_TEST(mailbox->closed());
    BOOST_TEST(!mailbox->post([owned] {}));
    BOOST_TEST(owned.use_count() == 1L, "the refused callback is still alive");
}

BOOST_AUTO_TEST_CASE(callbacks_posted_but_never_run_are_destroyed_with_the_loop) {
    auto loop = std::make_unique<EventLoop>();
    const std::shared_ptr<poetry::Mailbox> mailbox = loop->mailbox();
    auto owned = std::make_shared<int>(1);
    std::thread([&mailbox, owned] { BOOST_TEST(mailbox->post([owned] {})); }).join();
    BOOST_TEST(owned.use_count() == 2L);
    loop.reset();
    BOOST_TEST(owned.use_count() == 1L);
}

BOOST_AUTO_TEST_CASE(a_select_loop_whose_mailbox_fd_would_be_too_high_refuses_it_and_can_try_again) {
    BOOST_REQUIRE(poetry::test::raise_fd_limit(FD_SETSIZE + 64));
    EventLoop loop(poetry::make_selector("select"));
    // Every fd below FD_SETSIZE taken, so that the mailbox's would be above it.
    const auto [a, b] = poetry::net::socket_pair();
    std::vector<poetry::detail::UniqueFd> filler;
    for (;;) {
        poetry::detail::UniqueFd fd(::fcntl(a.fd(), F_DUPFD_CLOEXEC, 0));
        BOOST_REQUIRE(fd.valid());
        if (fd.get() >= FD_SETSIZE) {
            break;
        }
        filler.push_back(std::move(fd));
    }
    const std::size_t fds = poetry::test::count_open_fds();
    BOOST_CHECK_THROW(loop.mailbox(), std::invalid_argument);
    BOOST_TEST(loop.selector().size() == 0U);
    BOOST_TEST(poetry::test::count_open_fds() == fds, "the refused fd was not closed");
    filler.pop_back();
    BOOST_TEST(loop.mailbox() != nullptr);
    BOOST_TEST(loop.selector().size() == 1U);
}

BOOST_AUTO_TEST_SUITE_END()
