// The loop's resolver: numeric hosts at once with no thread, names on a few worker threads while the
// loop goes on, failures that name the host, cancellation, and a loop destroyed under a lookup that
// hangs. The lookup is the test's (set_resolve_function), so that nothing here depends on DNS.
#include "poetry/loop/resolver.hpp"

#include <boost/test/unit_test.hpp>

#include <netdb.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "poetry/loop/mailbox.hpp"
#include "poetry/net/errors.hpp"
#include "support/fd_count.hpp"
#include "support/thread_flag.hpp"
#include "support/timing.hpp"

using namespace std::chrono_literals;
using poetry::Clock;
using poetry::EventLoop;
using poetry::Future;
using poetry::TimePoint;
using poetry::test::ThreadFlag;
namespace net = poetry::net;
using Endpoints = std::vector<net::Endpoint>;

namespace {

/// What a test's lookup gives for every name: 127.0.0.1 with the address's port.
Endpoints loopback(const net::Address& address) {
    return {net::Endpoint::numeric("127.0.0.1", address.port())};
}

/// run_until_complete, but a resolution that never completes fails the test after 10 s, not hangs it.
template <class T>
T run_until_complete(EventLoop& loop, Future<T>& future) {
    struct Watchdog {
        poetry::TimerHandle timer;
        ~Watchdog() { timer.cancel(); }  // also when the future's exception leaves
    } watchdog{loop.call_later(10s, [&loop] { loop.stop(); })};
    return loop.run_until_complete(future);
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(resolver, poetry::test::FdLeakCheck)

BOOST_AUTO_TEST_CASE(a_numeric_host_resolves_at_once_with_no_thread_and_no_lookup) {
    EventLoop loop;
    auto lookups = std::make_shared<std::atomic<int>>(0);
    loop.resolver().set_resolve_function([lookups](const net::Address& address, std::error_code&) {
        ++*lookups;
        return loopback(address);
    });
    const std::size_t fds = poetry::test::count_open_fds();
    auto v4 = poetry::resolve(loop, net::Address("127.0.0.1", 8000));
    auto v6 = poetry::resolve(loop, net::Address("::1", 8001));
    BOOST_REQUIRE(v4.done());
    BOOST_REQUIRE(v6.done());
    BOOST_REQUIRE_EQUAL(v4.result().size(), 1U);
    BOOST_TEST(v4.result()[0].to_string() == "127.0.0.1:8000");
    BOOST_REQUIRE_EQUAL(v6.result().size(), 1U);
    BOOST_TEST(v6.result()[0].to_string() == "[::1]:8001");
    BOOST_TEST(*lookups == 0);
    BOOST_TEST(loop.resolver().threads() == 0U);
    BOOST_TEST(loop.selector().size() == 0U, "the loop opened its mailbox for nothing");
    BOOST_TEST(poetry::test::count_open_fds() == fds);
}

BOOST_AUTO_TEST_CASE(a_slow_lookup_leaves_the_loop_free_to_fire_a_timer_due_long_before_it_ends) {
    EventLoop loop;
    struct Shared {
        ThreadFlag timer_fired;
        TimePoint ended{};  // written by the lookup, read once its result has come through the mailbox
    };
    auto shared = std::make_shared<Shared>();
    loop.resolver().set_resolve_function([shared](const net::Address& address, std::error_code&) {
        std::this_thread::sleep_for(300ms);
        // A loop that is free fired its timer long ago; a blocked one cannot, and the order checked
        // below fails (after 2 s, rather than never).
        shared->timer_fired.wait_for(2s);
        shared->ended = Clock::now();
        return loopback(address);
    });
    const TimePoint start = Clock::now();
    TimePoint fired{};
    loop.call_later(50ms, [&] {
        fired = Clock::now();
        shared->timer_fired.raise();
    });
    auto endpoints = poetry::resolve(loop, net::Address("poetry.test", 8000));
    const Endpoints resolved = run_until_complete(loop, endpoints);
    BOOST_REQUIRE_EQUAL(resolved.size(), 1U);
    BOOST_TEST(resolved[0].to_string() == "127.0.0.1:8000");
    BOOST_TEST((fired - start >= 50ms), "the timer fired early");
    BOOST_TEST((shared->ended - start >= 300ms));
    BOOST_TEST((fired < shared->ended), "the timer waited for the lookup: it blocked the loop");
    POETRY_TEST_TIMING((fired - start < 250ms));
}

BOOST_AUTO_TEST_CASE(a_failed_lookup_fails_the_future_with_a_message_naming_the_host) {
    EventLoop loop;
    loop.resolver().set_resolve_function([](const net::Address& address, std::error_code& ec) -> Endpoints {
        if (address.host() == "throws.test") {
            throw std::runtime_error("the lookup threw");
        }
        if (address.host() == "no-such-host.invalid") {
            ec = std::error_code(EAI_NONAME, net::resolver_category());
        }
        return {};  // and for "empty.test", no endpoint and no error
    });
    const std::string unknown = ::gai_strerror(EAI_NONAME);
    for (const std::string host : {"no-such-host.invalid", "empty.test"}) {
        auto endpoints = poetry::resolve(loop, net::Address(host, 8000));
        BOOST_CHECK_EXCEPTION(run_until_complete(loop, endpoints), std::system_error,
                              [&](const std::system_error& e) {
                                  BOOST_TEST(e.what() == "resolve " + host + ":8000: " + unknown);
                                  return e.code() == std::error_code(EAI_NONAME, net::resolver_category());
                              });
    }
    auto throws = poetry::resolve(loop, net::Address("throws.test", 8000));
    BOOST_CHECK_EXCEPTION(
        run_until_complete(loop, throws), std::runtime_error,
        [](const std::runtime_error& e) { return e.what() == std::string("the lookup threw"); });
}

BOOST_AUTO_TEST_CASE(a_cancelled_resolution_drops_its_result_and_one_not_started_never_runs) {
    EventLoop loop;
    poetry::Resolver resolver(loop, 1);  // one thread: the later lookups queue behind the first
    struct Shared {
        ThreadFlag first_started;
        ThreadFlag first_may_end;
        std::mutex mutex;
        std::vector<std::string> looked_up;
    };
    auto shared = std::make_shared<Shared>();
    resolver.set_resolve_function([shared](const net::Address& address, std::error_code&) {
        {
            const std::lock_guard lock(shared->mutex);
            shared->looked_up.push_back(address.host());
        }
        if (address.host() == "first") {
            shared->first_started.raise();
            shared->first_may_end.wait_for(10s);
        }
        return loopback(address);
    });
    auto first = resolver.resolve(net::Address("first", 1));
    BOOST_REQUIRE(shared->first_started.wait_for(10s));
    auto second = resolver.resolve(net::Address("second", 2));
    auto third = resolver.resolve(net::Address("third", 3));
    BOOST_TEST(first.cancel());   // under way: its thread goes on, its result will be dropped
    BOOST_TEST(second.cancel());  // queued: never looked up
    shared->first_may_end.raise();
    // The one thread takes them in order, so the third's result comes after the first's was dropped.
    BOOST_TEST(run_until_complete(loop, third)[0].port() == 3);
    BOOST_TEST(first.cancelled());
    BOOST_TEST(second.cancelled());
    const std::lock_guard lock(shared->mutex);
    BOOST_TEST(shared->looked_up == (std::vector<std::string>{"first", "third"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(destroying_a_resolver_cancels_what_has_not_started_and_lets_the_rest_complete) {
    EventLoop loop;
    auto resolver = std::make_unique<poetry::Resolver>(loop, 1);
    auto started = std::make_shared<ThreadFlag>();
    auto may_end = std::make_shared<ThreadFlag>();
    resolver->set_resolve_function([started, may_end](const net::Address& address, std::error_code&) {
        started->raise();
        may_end->wait_for(10s);
        return loopback(address);
    });
    auto under_way = resolver->resolve(net::Address("under-way.test", 1));
    BOOST_REQUIRE(started->wait_for(10s));
    auto queued = resolver->resolve(net::Address("queued.test", 2));
    resolver.reset();  // does not wait for the lookup under way
    BOOST_TEST(queued.cancelled());
    BOOST_TEST(!under_way.done());
    may_end->raise();
    BOOST_TEST(run_until_complete(loop, under_way)[0].port() == 1);
}

BOOST_AUTO_TEST_CASE(destroying_the_loop_while_a_lookup_hangs_neither_waits_for_it_nor_crashes) {
    struct Shared {
        ThreadFlag started;
        ThreadFlag may_end;
        ThreadFlag ended;
    };
    auto shared = std::make_shared<Shared>();
    auto loop = std::make_unique<EventLoop>();
    loop->resolver().set_resolve_function([shared](const net::Address& address, std::error_code&) {
        shared->started.raise();
        shared->may_end.wait_for(10s);
        shared->ended.raise();
        return loopback(address);
    });
    // Kept by the loop, as a task awaiting it would be: the late result has a future to look for.
    loop->keep_alive(
        std::make_shared<Future<Endpoints>>(poetry::resolve(*loop, net::Address("hangs.test", 80))));
    BOOST_REQUIRE(shared->started.wait_for(10s));
    const std::weak_ptr<poetry::Mailbox> mailbox = loop->mailbox();
    loop.reset();
    BOOST_TEST(!shared->ended.raised(), "the loop's destructor waited for the lookup");
    // The lookup ends after the loop: its result meets a closed mailbox, and its thread exits, letting
    // go of the mailbox (which the loop has closed already: no fd stays open).
    shared->may_end.raise();
    const auto limit = Clock::now() + 10s;
    while (!mailbox.expired() && Clock::now() < limit) {
        std::this_thread::sleep_for(1ms);
    }
    BOOST_TEST(mailbox.expired(), "the lookup's thread never finished");
}

BOOST_AUTO_TEST_CASE(a_lookup_future_that_outlives_its_loop_stays_pending_and_is_safe_to_destroy) {
    struct Shared {
        ThreadFlag started;
        ThreadFlag may_end;
    };
    auto shared = std::make_shared<Shared>();
    auto loop = std::make_unique<EventLoop>();
    loop->resolver().set_resolve_function([shared](const net::Address& address, std::error_code&) {
        shared->started.raise();
        shared->may_end.wait_for(10s);
        return loopback(address);
    });
    std::optional<Future<Endpoints>> held(poetry::resolve(*loop, net::Address("hangs.test", 80)));
    BOOST_REQUIRE(shared->started.wait_for(10s));
    const std::weak_ptr<poetry::Mailbox> mailbox = loop->mailbox();
    loop.reset();  // first, and on the heap: a later use of it is a use after free under ASan
    BOOST_TEST(!held->done());
    held.reset();  // while its lookup still runs on the resolver's thread
    // The lookup ends after both: its result meets the closed mailbox, and its thread exits.
    shared->may_end.raise();
    const auto limit = Clock::now() + 10s;
    while (!mailbox.expired() && Clock::now() < limit) {
        std::this_thread::sleep_for(1ms);
    }
    BOOST_TEST(mailbox.expired(), "the lookup's thread never finished");
}

BOOST_AUTO_TEST_CASE(however_many_names_are_pending_at_most_four_lookups_run_at_once) {
    EventLoop loop;
    struct Shared {
        std::atomic<int> running{0};
        std::atomic<int> most{0};
        std::mutex mutex;
        std::set<std::thread::id> threads;
    };
    auto shared = std::make_shared<Shared>();
    loop.resolver().set_resolve_function([shared](const net::Address& address, std::error_code&) {
        const int now = ++shared->running;
        int most = shared->most.load();
        while (now > most && !shared->most.compare_exchange_weak(most, now)) {
        }
        {
            const std::lock_guard lock(shared->mutex);
            shared->threads.insert(std::this_thread::get_id());
        }
        std::this_thread::sleep_for(2ms);
        --shared->running;
        return loopback(address);
    });
    constexpr int names = 200;  // downloads from "localhost:PORT", each resolving the name again
    std::vector<Future<Endpoints>> futures;
    int pending = names;
    for (int i = 0; i < names; ++i) {
        futures.push_back(poetry::resolve(loop, net::Address("localhost", static_cast<std::uint16_t>(i))));
        futures.back().add_done_callback([&](Future<Endpoints>&) {
            if (--pending == 0) {
                loop.stop();
            }
        });
    }
    poetry::TimerHandle watchdog = loop.call_later(20s, [&loop] { loop.stop(); });
    loop.run_forever();
    watchdog.cancel();
    BOOST_REQUIRE_EQUAL(pending, 0);
    for (int i = 0; i < names; ++i) {
        BOOST_TEST(futures[static_cast<std::size_t>(i)].result()[0].port() == i);
    }
    BOOST_TEST(shared->most <= 4);
    BOOST_TEST(loop.resolver().max_threads() == 4U);
    BOOST_TEST(loop.resolver().threads() <= 4U);
    const std::lock_guard lock(shared->mutex);
    BOOST_TEST(shared->threads.size() <= 4U);
}

BOOST_AUTO_TEST_SUITE_END()
