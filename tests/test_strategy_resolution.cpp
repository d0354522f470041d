// The loop strategies look host names up off their loop: while one download's lookup is slow, a
// download from a numeric address (no lookup) on the same loop connects, reads its poem and finishes.
// A strategy that looked the name up on the loop's thread would hold that download until the lookup
// ended, and the lookup here ends only once the other download has finished (or after a limit, so
// that such a strategy fails the test instead of hanging it). The lookup is the test's
// (StrategySettings::resolve_function), so that nothing depends on DNS.
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "strategy.hpp"
#include "support/fake_server.hpp"
#include "support/thread_flag.hpp"

using namespace std::chrono_literals;
using namespace poetry::test;
namespace client = poetry::client;
namespace data = boost::unit_test::data;
namespace net = poetry::net;

namespace {

const std::vector<std::string> loop_strategies{"callbacks", "futures", "coroutines"};

/// What the slow lookup and the observer share; the lookup's thread may outlive the test case.
struct Shared {
    ThreadFlag numeric_finished;  // raised by the observer when the numeric download has finished
    std::atomic<bool> finished_during_lookup{false};
    std::atomic<int> lookups{0};
};

/// Raises the flag when the download of `task` finishes (on the loop's thread).
class FinishedFlag final : public client::DownloadObserver {
public:
    FinishedFlag(int task, std::shared_ptr<Shared> shared) : task_(task), shared_(std::move(shared)) {}
    void finished(const client::Download& download, const client::DownloadResult&) override {
        if (download.task == task_) {
            shared_->numeric_finished.raise();
        }
    }

private:
    int task_;
    std::shared_ptr<Shared> shared_;
};

/// A lookup that ends when the numeric download has finished: at once on a loop that is free, after
/// the limit on one that waits here (which then fails the test rather than hang it).
poetry::ResolveFunction slow_lookup(std::shared_ptr<Shared> shared) {
    return [shared = std::move(shared)](const net::Address& address, std::error_code&) {
        ++shared->lookups;
        shared->finished_during_lookup = shared->numeric_finished.wait_for(5s);
        return std::vector<net::Endpoint>{net::Endpoint::numeric("127.0.0.1", address.port())};
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(strategy_resolution)

BOOST_DATA_TEST_CASE(a_slow_lookup_holds_up_only_its_own_download, data::make(loop_strategies), name) {
    const std::string poem = "a poem that needs no lookup\n";
    const FakeServer server({poem, 0, 0ms, Ending::close});
    auto shared = std::make_shared<Shared>();
    client::StrategySettings settings;
    settings.resolve_function = slow_lookup(shared);
    FinishedFlag observer(2, shared);
    const client::StrategyInfo* strategy = client::find_strategy(name);
    BOOST_REQUIRE(strategy != nullptr);
    // The name's download comes first, so its lookup starts before the other download does.
    const std::vector<client::Download> downloads{
        client::Download{1, net::Address("slow-to-resolve.test", server.port()), std::nullopt, std::nullopt},
        client::Download{2, server.address(), std::nullopt, std::nullopt}};
    const std::vector<client::DownloadResult> results = strategy->run(downloads, settings, observer);
    BOOST_REQUIRE_EQUAL(results.size(), 2U);
    BOOST_TEST(shared->lookups == 1, "the strategy did not use the loop's resolver");
    BOOST_TEST(shared->finished_during_lookup, "the numeric download waited for the other one's lookup");
    for (const auto& result : results) {
        BOOST_TEST(result.complete(), "task " << result.task << ": " << result.error);
        BOOST_TEST(result.poem == poem);
    }
    BOOST_TEST((results[1].finished < results[0].connected.value_or(poetry::TimePoint::max())),
               "the numeric download finished after the name's had connected");
}

BOOST_AUTO_TEST_SUITE_END()
