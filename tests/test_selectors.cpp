// The Selector contract, written once and run on every backend (select, poll, epoll), then the
// backend-only limits, make_selector, the timeout conversions and EventMask. Every case checks fd leaks.
#include "poetry/selectors/selector.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/select.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <map>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "poetry/detail/syscall.hpp"
#include "poetry/detail/unique_fd.hpp"
#include "poetry/net/socket.hpp"
#include "selectors/src/timeout.hpp"  // private to the selectors layer: the tests see lib/
#include "support/clock.hpp"
#include "support/fd_count.hpp"
#include "support/fd_limit.hpp"
#include "support/timing.hpp"

using namespace std::chrono_literals;

namespace poetry {

/// How Boost.Test prints an EventMask in a failed check: "read|write".
std::ostream& boost_test_print_type(std::ostream& out, EventMask mask) {
    switch (mask) {
        case EventMask::none:
            return out << "none";
        case EventMask::read:
            return out << "read";
        case EventMask::write:
            return out << "write";
        case EventMask::read_write:
            return out << "read|write";
    }
    return out << "EventMask(" << static_cast<int>(mask) << ")";
}

}  // namespace poetry

namespace poetry::test {
namespace {

namespace data = boost::unit_test::data;

/// Every backend, spelled out (not selector_names()) so that dropping one from the factory fails.
const std::vector<std::string> backends{"select", "poll", "epoll"};

/// A copy of what select() reported (the span is valid only until the next call).
std::vector<SelectorEvent> select_now(Selector& selector,
                                      Selector::Timeout timeout = Selector::Timeout::zero()) {
    const auto ready = selector.select(timeout);
    return {ready.begin(), ready.end()};
}

/// Fills `socket`'s send buffer (its peer does not read) until it is no longer writable.
void fill_send_buffer(net::Socket& socket) {
    socket.set_nonblocking();
    const std::vector<std::byte> chunk(64 * 1024);
    std::error_code ec;
    for (int i = 0; i < 10'000 && !ec; ++i) {
        socket.send(chunk, ec);
    }
    BOOST_TEST_REQUIRE(detail::is_would_block(ec), ec.message());
}

void send_one_byte(net::Socket& socket) {
    BOOST_TEST_REQUIRE(socket.send(net::as_bytes("!")) == 1U);
}

/// Wakes a select() that wrongly blocks: unless destroyed first, sends a byte to `peer` after `delay`,
/// so that a broken backend fails the test instead of hanging it.
class SafetyNet {
public:
    SafetyNet(net::Socket& peer, std::chrono::milliseconds delay)
        : thread_([this, &peer, delay] {
              std::unique_lock lock(mutex_);
              if (!done_cv_.wait_for(lock, delay, [this] { return done_; })) {
                  std::error_code ec;
                  peer.send(net::as_bytes("!"), ec);
              }
          }) {}
    ~SafetyNet() {
        {
            const std::lock_guard lock(mutex_);
            done_ = true;
        }
        done_cv_.notify_one();
        thread_.join();
    }
    SafetyNet(const SafetyNet&) = delete;
    SafetyNet& operator=(const SafetyNet&) = delete;

private:
    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
    std::thread thread_;  // last: starts once the members it uses exist
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(selectors, FdLeakCheck)

BOOST_DATA_TEST_CASE(fresh_socket_end_registered_for_write_is_reported_writable_with_its_key,
                     data::make(backends), backend) {
    auto selector = make_selector(backend);
    BOOST_TEST(selector->name() == backend);
    auto [a, b] = net::socket_pair();
    send_one_byte(b);  // readable too, but only write was asked for
    int tag = 0;
    selector->register_fd(a.fd(), EventMask::write, &tag);

    BOOST_TEST(selector->size() == 1U);
    const SelectorKey* key = selector->get_key(a.fd());
    BOOST_TEST_REQUIRE(key != nullptr);
    BOOST_TEST(key->fd == a.fd());
    BOOST_TEST(key->events == EventMask::write);
    BOOST_TEST(key->data == &tag);

    const auto ready = select_now(*selector);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].key.fd == a.fd());
    BOOST_TEST(ready[0].key.events == EventMask::write);
    BOOST_TEST(ready[0].key.data == &tag);
    BOOST_TEST(ready[0].events == EventMask::write);
}

BOOST_DATA_TEST_CASE(read_readiness_is_reported_once_the_peer_sends, data::make(backends), backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    int tag = 0;
    selector->register_fd(a.fd(), EventMask::read, &tag);
    BOOST_TEST(select_now(*selector).empty());

    send_one_byte(b);
    const auto ready = select_now(*selector, 1s);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].key.fd == a.fd());
    BOOST_TEST(ready[0].key.data == &tag);
    BOOST_TEST(ready[0].events == EventMask::read);
}

BOOST_DATA_TEST_CASE(modify_fd_changes_the_reported_events_and_the_data, data::make(backends), backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    send_one_byte(b);  // `a` is now readable and writable
    int first = 0;
    int second = 0;
    int third = 0;
    selector->register_fd(a.fd(), EventMask::read, &first);
    auto ready = select_now(*selector);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].events == EventMask::read);
    BOOST_TEST(ready[0].key.data == &first);

    selector->modify_fd(a.fd(), EventMask::write, &second);
    BOOST_TEST(selector->size() == 1U);
    BOOST_TEST_REQUIRE(selector->get_key(a.fd()) != nullptr);
    BOOST_TEST(selector->get_key(a.fd())->events == EventMask::write);
    BOOST_TEST(selector->get_key(a.fd())->data == &second);
    ready = select_now(*selector);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].events == EventMask::write);
    BOOST_TEST(ready[0].key.events == EventMask::write);
    BOOST_TEST(ready[0].key.data == &second);

    // Same events, new data: only the data changes.
    selector->modify_fd(a.fd(), EventMask::write, &third);
    ready = select_now(*selector);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].events == EventMask::write);
    BOOST_TEST(ready[0].key.data == &third);

    // And back to read only.
    selector->modify_fd(a.fd(), EventMask::read, &first);
    ready = select_now(*selector);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].events == EventMask::read);
    BOOST_TEST(ready[0].key.data == &first);
}

BOOST_DATA_TEST_CASE(unregister_fd_stops_its_events_and_forgets_its_key, data::make(backends), backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    auto [c, d] = net::socket_pair();
    selector->register_fd(a.fd(), EventMask::write);
    selector->register_fd(c.fd(), EventMask::write);
    BOOST_TEST(selector->size() == 2U);
    BOOST_TEST(select_now(*selector).size() == 2U);

    selector->unregister_fd(a.fd());
    BOOST_TEST(selector->size() == 1U);
    BOOST_TEST(selector->get_key(a.fd()) == nullptr);
    auto ready = select_now(*selector);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].key.fd == c.fd());

    selector->unregister_fd(c.fd());
    BOOST_TEST(selector->size() == 0U);
    BOOST_TEST(select_now(*selector).empty());

    // The fd can be registered again.
    selector->register_fd(a.fd(), EventMask::write);
    ready = select_now(*selector);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].key.fd == a.fd());
}

BOOST_DATA_TEST_CASE(timeout_with_nothing_ready_waits_at_least_the_timeout, data::make(backends), backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    selector->register_fd(a.fd(), EventMask::read);
    const SafetyNet safety_net(b, 5s);

    // Never early, in every build. How soon after is a measurement (plain build only); a backend that
    // ignored the timeout would wait for the safety net, and report its byte.
    auto start = Clock::now();
    BOOST_TEST(select_now(*selector, 50ms).empty());
    auto elapsed = Clock::now() - start;
    BOOST_TEST((elapsed >= 50ms), "returned after " << (elapsed / 1us) << " us");
    POETRY_TEST_TIMING((elapsed < 2050ms), "returned after " << (elapsed / 1us) << " us");

    // Below the backend's resolution the timeout rounds up, never down.
    start = Clock::now();
    BOOST_TEST(select_now(*selector, 1500us).empty());
    elapsed = Clock::now() - start;
    BOOST_TEST((elapsed >= 1500us), "returned after " << (elapsed / 1us) << " us");
    POETRY_TEST_TIMING((elapsed < 2s), "returned after " << (elapsed / 1us) << " us");
}

BOOST_DATA_TEST_CASE(select_zero_with_nothing_ready_returns_at_once, data::make(backends), backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    selector->register_fd(a.fd(), EventMask::read);
    const SafetyNet safety_net(b, 5s);
    const auto start = Clock::now();
    // A backend that blocked would return the safety net's byte: caught in every build.
    BOOST_TEST(select_now(*selector, Selector::Timeout::zero()).empty());
    POETRY_TEST_TIMING((Clock::now() - start < 1s));
}

BOOST_DATA_TEST_CASE(blocking_select_returns_when_a_peer_writes_later, data::make(backends), backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    selector->register_fd(a.fd(), EventMask::read);

    const auto start = Clock::now();
    std::thread peer([&b = b] {
        std::this_thread::sleep_for(20ms);  // the point of the test: a peer that writes later
        std::error_code ec;
        b.send(net::as_bytes("!"), ec);
    });
    const auto ready = select_now(*selector, Selector::block);
    const auto elapsed = Clock::now() - start;
    peer.join();

    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].key.fd == a.fd());
    BOOST_TEST(ready[0].events == EventMask::read);
    BOOST_TEST((elapsed >= 20ms), "returned after " << (elapsed / 1us) << " us, before the peer wrote");
}

BOOST_DATA_TEST_CASE(peer_hang_up_is_reported_as_read_readiness, data::make(backends), backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    selector->register_fd(a.fd(), EventMask::read);
    BOOST_TEST(select_now(*selector).empty());

    b.close();
    const auto ready = select_now(*selector, 1s);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].key.fd == a.fd());
    BOOST_TEST(ready[0].events == EventMask::read);
}

BOOST_DATA_TEST_CASE(read_write_registration_reports_only_the_ready_subset, data::make(backends), backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    selector->register_fd(a.fd(), EventMask::read_write);

    auto ready = select_now(*selector);  // nothing to read yet
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].events == EventMask::write);
    BOOST_TEST(ready[0].key.events == EventMask::read_write);

    send_one_byte(b);
    ready = select_now(*selector);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].events == EventMask::read_write);

    fill_send_buffer(a);  // b never reads, so `a` stays unwritable
    ready = select_now(*selector);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].events == EventMask::read);

    std::byte byte[1];
    BOOST_TEST_REQUIRE(a.recv(byte) == 1U);
    BOOST_TEST(select_now(*selector).empty());
}

BOOST_DATA_TEST_CASE(each_fd_is_reported_once_even_when_readable_and_writable, data::make(backends),
                     backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    auto [c, d] = net::socket_pair();
    selector->register_fd(a.fd(), EventMask::read_write);
    selector->register_fd(c.fd(), EventMask::read_write);
    send_one_byte(b);
    send_one_byte(d);

    const auto ready = select_now(*selector, 1s);
    BOOST_TEST_REQUIRE(ready.size() == 2U);
    BOOST_TEST(ready[0].key.fd != ready[1].key.fd);
    for (const auto& event : ready) {
        BOOST_TEST((event.key.fd == a.fd() || event.key.fd == c.fd()));
        BOOST_TEST(event.events == EventMask::read_write);
    }
}

BOOST_DATA_TEST_CASE(misuse_throws_and_leaves_the_registrations_unchanged, data::make(backends), backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    int tag = 0;
    selector->register_fd(a.fd(), EventMask::read, &tag);

    const auto unchanged = [&] {
        BOOST_TEST(selector->size() == 1U);
        const SelectorKey* key = selector->get_key(a.fd());
        BOOST_TEST_REQUIRE(key != nullptr);
        BOOST_TEST(key->events == EventMask::read);
        BOOST_TEST(key->data == &tag);
        BOOST_TEST(selector->get_key(b.fd()) == nullptr);
    };
    BOOST_CHECK_THROW(selector->register_fd(a.fd(), EventMask::write), std::logic_error);
    unchanged();
    BOOST_CHECK_THROW(selector->unregister_fd(b.fd()), std::logic_error);
    unchanged();
    BOOST_CHECK_THROW(selector->modify_fd(b.fd(), EventMask::write), std::logic_error);
    unchanged();
    BOOST_CHECK_THROW(selector->register_fd(b.fd(), EventMask::none), std::invalid_argument);
    unchanged();
    BOOST_CHECK_THROW(selector->register_fd(-1, EventMask::read), std::invalid_argument);
    unchanged();
    BOOST_CHECK_THROW(selector->modify_fd(a.fd(), EventMask::none), std::invalid_argument);
    unchanged();
    BOOST_CHECK_THROW(selector->modify_fd(-1, EventMask::read), std::invalid_argument);
    unchanged();
    BOOST_CHECK_THROW(selector->unregister_fd(-1), std::logic_error);
    unchanged();

    // The selector still works.
    BOOST_TEST(select_now(*selector).empty());
    send_one_byte(b);
    const auto ready = select_now(*selector, 1s);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].key.fd == a.fd());
    BOOST_TEST(ready[0].events == EventMask::read);
}

BOOST_DATA_TEST_CASE(event_bits_outside_read_write_are_refused, data::make(backends), backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    selector->register_fd(a.fd(), EventMask::read);
    // 4 carries no read or write event; 7 carries both plus a bit no backend knows.
    for (const int bits : {4, 7, 0xFF}) {
        BOOST_TEST_CONTEXT("events " << bits) {
            const auto events = static_cast<EventMask>(bits);
            BOOST_CHECK_THROW(selector->register_fd(b.fd(), events), std::invalid_argument);
            BOOST_TEST(selector->get_key(b.fd()) == nullptr);
            BOOST_TEST(selector->size() == 1U);
            if (selector->get_key(b.fd()) != nullptr) {
                selector->unregister_fd(b.fd());  // keep the next iteration independent
            }
            BOOST_CHECK_THROW(selector->modify_fd(a.fd(), events), std::invalid_argument);
            BOOST_TEST_REQUIRE(selector->get_key(a.fd()) != nullptr);
            BOOST_TEST(selector->get_key(a.fd())->events == EventMask::read);
            selector->modify_fd(a.fd(), EventMask::read);
        }
    }
}

BOOST_DATA_TEST_CASE(a_wait_interrupted_by_a_signal_returns_no_events, data::make(backends), backend) {
    auto selector = make_selector(backend);
    auto [a, b] = net::socket_pair();
    selector->register_fd(a.fd(), EventMask::read);

    // A handler without SA_RESTART, so the signal interrupts the wait with EINTR.
    struct sigaction action {};
    action.sa_handler = [](int) {};
    sigemptyset(&action.sa_mask);
    struct sigaction previous {};
    BOOST_TEST_REQUIRE(::sigaction(SIGUSR1, &action, &previous) == 0);

    // Signal until the wait returns: one sent just before the wait begins would be missed.
    std::atomic<bool> returned{false};
    const pthread_t waiter = ::pthread_self();
    std::thread interrupter([&returned, waiter] {
        while (!returned) {
            std::this_thread::sleep_for(10ms);
            ::pthread_kill(waiter, SIGUSR1);
        }
    });
    // A wait that the signals did not end (a backend that retried EINTR itself) would end with the
    // safety net's byte instead: no timing to judge, in any build.
    std::vector<SelectorEvent> ready;
    {
        const SafetyNet safety_net(b, 5s);
        try {
            ready = select_now(*selector, Selector::block);
        } catch (const std::exception& error) {
            BOOST_ERROR("select threw: " << error.what());
        }
    }
    returned = true;
    interrupter.join();
    ::sigaction(SIGUSR1, &previous, nullptr);

    BOOST_TEST(ready.empty(), "the signal did not end the wait: the safety net did, after 5 s");
}

BOOST_DATA_TEST_CASE(one_select_reports_all_500_ready_fds_once_each, data::make(backends), backend) {
    constexpr std::size_t count = 500;
    BOOST_REQUIRE(raise_fd_limit(2 * count + 256));  // 1,000 fds leave little room under a default 1,024
    auto selector = make_selector(backend);
    std::vector<std::pair<net::Socket, net::Socket>> pairs;
    pairs.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        pairs.push_back(net::socket_pair());
    }
    // Registers both ends; select's fds must stay below FD_SETSIZE, which 1000 fds (plus a few) do.
    std::map<int, void*> expected;
    for (auto& [first, second] : pairs) {
        for (net::Socket* end : {&first, &second}) {
            BOOST_TEST_REQUIRE(end->fd() < FD_SETSIZE);
            selector->register_fd(end->fd(), EventMask::write, end);
            expected.emplace(end->fd(), end);
        }
    }
    BOOST_TEST(selector->size() == 2 * count);

    const auto ready = select_now(*selector);
    BOOST_TEST(ready.size() == 2 * count);
    std::map<int, int> seen;
    for (const auto& event : ready) {
        ++seen[event.key.fd];
        BOOST_TEST(event.events == EventMask::write);
        const auto it = expected.find(event.key.fd);
        BOOST_TEST_REQUIRE((it != expected.end()), "unexpected fd " << event.key.fd);
        BOOST_TEST(event.key.data == it->second);
    }
    BOOST_TEST(seen.size() == 2 * count);
    BOOST_TEST(std::all_of(seen.begin(), seen.end(), [](const auto& entry) { return entry.second == 1; }));

    for (const auto& [fd, end] : expected) {
        selector->unregister_fd(fd);
    }
    BOOST_TEST(selector->size() == 0U);
}

BOOST_AUTO_TEST_CASE(epoll_selector_rolls_back_when_the_os_refuses) {
    auto selector = make_selector("epoll");
    auto [a, b] = net::socket_pair();
    const int fd = a.fd();
    a.close();  // `fd` is now a number that is not open

    try {
        selector->register_fd(fd, EventMask::read);
        BOOST_ERROR("epoll accepted an fd that is not open");
    } catch (const std::system_error& error) {
        BOOST_TEST((error.code() == std::errc::bad_file_descriptor), error.what());
    }
    BOOST_TEST(selector->get_key(fd) == nullptr);
    BOOST_TEST(selector->size() == 0U);

    // Nothing was left behind: the same number, open again, registers fine.
    net::Socket reopened{detail::UniqueFd(::fcntl(b.fd(), F_DUPFD_CLOEXEC, fd))};
    BOOST_TEST_REQUIRE(reopened.fd() == fd);
    selector->register_fd(fd, EventMask::write);
    BOOST_TEST(selector->size() == 1U);
    BOOST_TEST(select_now(*selector).size() == 1U);

    // Modifying an fd that was closed while registered is quiet, as on select and poll (closing took
    // it out of the epoll set; there is nothing left to watch): the key is still the caller's.
    reopened.close();
    selector->modify_fd(fd, EventMask::read);
    BOOST_TEST_REQUIRE(selector->get_key(fd) != nullptr);
    BOOST_TEST(selector->get_key(fd)->events == EventMask::read);
    selector->unregister_fd(fd);
    BOOST_TEST(selector->size() == 0U);
}

BOOST_AUTO_TEST_CASE(select_selector_refuses_an_fd_at_or_above_fd_setsize) {
    BOOST_REQUIRE_MESSAGE(raise_fd_limit(FD_SETSIZE + 64), "cannot raise the fd limit above FD_SETSIZE");
    auto selector = make_selector("select");
    auto [a, b] = net::socket_pair();

    net::Socket too_high{detail::UniqueFd(::fcntl(a.fd(), F_DUPFD_CLOEXEC, FD_SETSIZE + 10))};
    BOOST_TEST_REQUIRE(too_high.fd() >= FD_SETSIZE);
    try {
        selector->register_fd(too_high.fd(), EventMask::read);
        BOOST_ERROR("the select selector accepted fd " << too_high.fd());
    } catch (const std::invalid_argument& error) {
        BOOST_TEST(std::string(error.what()).find("FD_SETSIZE") != std::string::npos, error.what());
    }
    BOOST_TEST(selector->size() == 0U);
    BOOST_TEST(selector->get_key(too_high.fd()) == nullptr);

    // The highest fd an fd_set can hold is accepted and reported.
    net::Socket highest{detail::UniqueFd(::fcntl(a.fd(), F_DUPFD_CLOEXEC, FD_SETSIZE - 1))};
    BOOST_TEST_REQUIRE(highest.fd() == FD_SETSIZE - 1);
    selector->register_fd(highest.fd(), EventMask::write);
    const auto ready = select_now(*selector);
    BOOST_TEST_REQUIRE(ready.size() == 1U);
    BOOST_TEST(ready[0].key.fd == FD_SETSIZE - 1);
    selector->unregister_fd(highest.fd());
}

BOOST_AUTO_TEST_CASE(make_selector_chooses_backends_by_name) {
    BOOST_TEST(make_selector("auto")->name() == "epoll");
    BOOST_TEST(make_selector()->name() == "epoll");
    for (const std::string& name : backends) {
        BOOST_TEST(make_selector(name)->name() == name);
    }
    try {
        make_selector("kqueue");
        BOOST_ERROR("make_selector accepted \"kqueue\"");
    } catch (const std::invalid_argument& error) {
        const std::string message = error.what();
        for (const char* choice : {"kqueue", "auto", "select", "poll", "epoll"}) {
            BOOST_TEST(message.find(choice) != std::string::npos, "\"" << choice << "\" not in: " << message);
        }
    }
    BOOST_CHECK_THROW(make_selector(""), std::invalid_argument);

    const auto names = selector_names();
    BOOST_TEST_REQUIRE(names.size() == 3U);
    for (const std::string& name : backends) {
        BOOST_TEST((std::find(names.begin(), names.end(), name) != names.end()), name << " missing");
    }
}

BOOST_AUTO_TEST_CASE(timeouts_convert_rounding_up) {
    using std::chrono::nanoseconds;
    BOOST_TEST(detail::timeout_milliseconds(-1ns) == -1);
    BOOST_TEST(detail::timeout_milliseconds(Selector::block) == -1);
    BOOST_TEST(detail::timeout_milliseconds(0ns) == 0);
    BOOST_TEST(detail::timeout_milliseconds(1ns) == 1);
    BOOST_TEST(detail::timeout_milliseconds(1us) == 1);
    BOOST_TEST(detail::timeout_milliseconds(1ms) == 1);
    BOOST_TEST(detail::timeout_milliseconds(1500us) == 2);
    BOOST_TEST(detail::timeout_milliseconds(2s) == 2000);
    BOOST_TEST(detail::timeout_milliseconds(nanoseconds::max()) == INT_MAX);

    const timeval small = detail::timeout_timeval(1500ns);
    BOOST_TEST(small.tv_sec == 0);
    BOOST_TEST(small.tv_usec == 2);
    const timeval large = detail::timeout_timeval(2'500'000us);
    BOOST_TEST(large.tv_sec == 2);
    BOOST_TEST(large.tv_usec == 500'000);
    const timeval zero = detail::timeout_timeval(0ns);
    BOOST_TEST(zero.tv_sec == 0);
    BOOST_TEST(zero.tv_usec == 0);
}

BOOST_AUTO_TEST_CASE(event_mask_operators) {
    static_assert((EventMask::read | EventMask::write) == EventMask::read_write);
    BOOST_TEST((EventMask::read | EventMask::write) == EventMask::read_write);
    BOOST_TEST((EventMask::read_write & EventMask::write) == EventMask::write);
    BOOST_TEST((EventMask::read & EventMask::write) == EventMask::none);
    BOOST_TEST(~EventMask::read == EventMask::write);
    BOOST_TEST(~EventMask::write == EventMask::read);
    BOOST_TEST(~EventMask::read_write == EventMask::none);
    BOOST_TEST(~EventMask::none == EventMask::read_write);
    BOOST_TEST(has(EventMask::read_write, EventMask::read));
    BOOST_TEST(has(EventMask::read_write, EventMask::write));
    BOOST_TEST(has(EventMask::read, EventMask::read_write));
    BOOST_TEST(!has(EventMask::read, EventMask::write));
    BOOST_TEST(!has(EventMask::none, EventMask::read_write));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace poetry::test
