// The client's strategies run in this process (poetry_client_core) against scripted servers on
// loopback: byte-exact poems, each download's events in order, the idle timeout, a reset, a clean close
// before the poem's known size, a refused connect, a host name; and no strategy ever writes to stdout
// or stderr.
// The command line, exit statuses and output formats are the integration tests' (test_client.cpp).
#include "strategy.hpp"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "run.hpp"
#include "support/fake_server.hpp"
#include "support/temp_dir.hpp"
#include "support/timing.hpp"

using namespace std::chrono_literals;
using namespace poetry::test;
namespace client = poetry::client;
namespace data = boost::unit_test::data;

namespace {

const std::vector<std::string> all_strategies{"blocking",  "processes", "threads",    "nonblocking",
                                              "callbacks", "futures",   "coroutines", "asio"};

/// Text whose every 1,000-byte chunk differs from the others, so that a lost, doubled or reordered
/// chunk shows in a byte comparison.
std::string numbered_text(std::size_t size, char salt) {
    std::string text;
    for (std::size_t line = 0; text.size() < size; ++line) {
        text += salt + std::string(" line ") + std::to_string(line) + " of a slow poem\n";
    }
    text.resize(size);
    return text;
}

//---------------------------------------------------------------------------------------------------------
// What a strategy reported

struct Event {
    enum class Kind { started, connected, chunk, finished } kind;
    std::size_t bytes = 0;
    poetry::TimePoint at;
};

/// Every event, by task; thread-safe (DownloadObserver promises one call at a time, but a test's
/// observer should not be what breaks if a strategy broke that promise).
class RecordingObserver final : public client::DownloadObserver {
public:
    void started(const client::Download& download, poetry::TimePoint at) override {
        add(download.task, {Event::Kind::started, 0, at});
    }
    void connected(const client::Download& download, poetry::TimePoint at) override {
        add(download.task, {Event::Kind::connected, 0, at});
    }
    void chunk(const client::Download& download, std::size_t bytes, poetry::TimePoint at) override {
        add(download.task, {Event::Kind::chunk, bytes, at});
        if (++chunks_seen_ == after_chunks_ && then_) {
            then_();
        }
    }
    /// Calls `then` from the chunk event that makes `chunks` in all.
    void after_chunks(std::size_t chunks, std::function<void()> then) {
        after_chunks_ = chunks;
        then_ = std::move(then);
    }
    void finished(const client::Download& download, const client::DownloadResult& result) override {
        add(download.task, {Event::Kind::finished, result.poem.size(), result.finished});
    }

    [[nodiscard]] std::vector<Event> events(int task) const {
        const std::scoped_lock lock(mutex_);
        const auto found = events_.find(task);
        return found == events_.end() ? std::vector<Event>{} : found->second;
    }
    /// How many chunk events have come, all downloads together.
    [[nodiscard]] const std::atomic<std::size_t>& chunks_seen() const noexcept { return chunks_seen_; }

private:
    void add(int task, Event event) {
        const std::scoped_lock lock(mutex_);
        events_[task].push_back(event);
    }

    mutable std::mutex mutex_;
    std::map<int, std::vector<Event>> events_;
    std::atomic<std::size_t> chunks_seen_{0};
    std::size_t after_chunks_ = 0;
    std::function<void()> then_;
};

/// Sends this process's stdout and stderr (fds 1 and 2, which the processes strategy's children
/// inherit) to files for its lifetime, so that a strategy that prints is caught.
class CapturedOutput {
public:
    CapturedOutput() : saved_out_(::dup(STDOUT_FILENO)), saved_err_(::dup(STDERR_FILENO)) {
        flush();
        redirect(dir_ / "stdout", STDOUT_FILENO);
        redirect(dir_ / "stderr", STDERR_FILENO);
    }
    CapturedOutput(const CapturedOutput&) = delete;
    CapturedOutput& operator=(const CapturedOutput&) = delete;
    ~CapturedOutput() { restore(); }

    /// Puts fds 1 and 2 back; returns what was written to them meanwhile.
    std::string restore() {
        if (saved_out_ >= 0) {
            flush();
            ::dup2(saved_out_, STDOUT_FILENO);
            ::dup2(saved_err_, STDERR_FILENO);
            ::close(saved_out_);
            ::close(saved_err_);
            saved_out_ = saved_err_ = -1;
        }
        return read(dir_ / "stdout") + read(dir_ / "stderr");
    }

private:
    static void flush() {
        std::cout.flush();
        std::cerr.flush();
        std::fflush(nullptr);
    }
    static void redirect(const std::filesystem::path& path, int fd) {
        const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        BOOST_REQUIRE(file >= 0);
        ::dup2(file, fd);
        ::close(file);
    }
    static std::string read(const std::filesystem::path& path) {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        return text.str();
    }

    TempDir dir_;
    int saved_out_;
    int saved_err_;
};

/// Runs the strategy called `name` in this process, and checks that it printed nothing.
client::RunReport run(const std::string& name, const std::vector<client::Download>& downloads,
                      client::DownloadObserver& observer, client::StrategySettings settings = {}) {
    const client::StrategyInfo* strategy = client::find_strategy(name);
    BOOST_REQUIRE(strategy != nullptr);
    CapturedOutput output;
    client::RunReport report = client::run_strategy(*strategy, downloads, settings, observer);
    const std::string printed = output.restore();
    BOOST_TEST(printed.empty(), name << " printed: " << printed);
    BOOST_REQUIRE_EQUAL(report.results.size(), downloads.size());
    for (std::size_t i = 0; i < downloads.size(); ++i) {
        BOOST_TEST(report.results[i].task == downloads[i].task, "results out of the downloads' order");
    }
    return report;
}

/// A download's events: connected (when it connected), chunks adding up to what it received, then one
/// finished, with times that never go back; and the result's times agree with them.
void check_events(const client::DownloadResult& result, const std::vector<Event>& events) {
    BOOST_TEST_CONTEXT("task " << result.task) {
        BOOST_REQUIRE(!events.empty());
        BOOST_TEST((events.front().kind == Event::Kind::started), "the first event is not started");
        BOOST_TEST((events.back().kind == Event::Kind::finished), "the last event is not finished");
        std::size_t finished = 0;
        std::size_t chunks = 0;
        std::size_t bytes = 0;
        for (std::size_t i = 0; i < events.size(); ++i) {
            const Event& event = events[i];
            if (i > 0) {
                BOOST_TEST((event.at >= events[i - 1].at), "event " << i << " is earlier than the one before");
            }
            switch (event.kind) {
                case Event::Kind::started:
                    BOOST_TEST(i == 0U, "started is not the first event");
                    BOOST_TEST((result.started == event.at));
                    break;
                case Event::Kind::connected:
                    BOOST_TEST(i == 1U, "connected does not follow started");
                    BOOST_TEST((result.connected && *result.connected == event.at));
                    break;
                case Event::Kind::chunk:
                    BOOST_TEST(event.bytes > 0U);
                    BOOST_TEST((result.connected && *result.connected <= event.at), "a chunk before the connect");
                    ++chunks;
                    bytes += event.bytes;
                    break;
                case Event::Kind::finished:
                    ++finished;
                    BOOST_TEST(event.bytes == result.poem.size());
                    break;
            }
        }
        BOOST_TEST(finished == 1U);
        BOOST_TEST(chunks == result.chunks);
        BOOST_TEST(bytes == result.poem.size());
        if (chunks > 0) {
            BOOST_TEST((result.first_byte && result.last_byte && *result.first_byte <= *result.last_byte));
            BOOST_TEST((*result.last_byte <= result.finished));
        }
        BOOST_TEST((result.started <= result.finished));
    }
}

client::Download download_from(const FakeServer& server, int task,
                               std::optional<std::size_t> expected_size = std::nullopt) {
    return client::Download{task, server.address(), expected_size, std::nullopt};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(strategies)

BOOST_AUTO_TEST_CASE(every_strategy_is_registered_once_in_the_order_all_runs_them) {
    std::vector<std::string> names;
    for (const auto& strategy : client::strategies()) {
        names.emplace_back(strategy.name);
        BOOST_TEST(client::find_strategy(strategy.name) == &strategy);
    }
    BOOST_TEST(names == all_strategies, boost::test_tools::per_element());
    BOOST_TEST(client::find_strategy("fibers") == nullptr);
}

BOOST_DATA_TEST_CASE(poems_arrive_byte_exact_with_their_events_in_order, data::make(all_strategies), name) {
    const std::string first = numbered_text(5'000, 'a');
    const std::string second = numbered_text(1'700, 'b');
    const FakeServer one({first, 1'000, 10ms, Ending::close});
    const FakeServer two({second, 300, 5ms, Ending::close});
    // Two downloads from each, at once in the concurrent strategies; the known size on two of them.
    const std::vector<client::Download> downloads{download_from(one, 1, first.size()), download_from(one, 2),
                                                  download_from(two, 3, second.size()), download_from(two, 4)};
    RecordingObserver observer;
    const client::RunReport report = run(name, downloads, observer);
    BOOST_TEST(report.strategy == name);
    BOOST_TEST(report.all_complete());
    BOOST_TEST(report.bytes() == 2 * (first.size() + second.size()));
    for (const auto& result : report.results) {
        BOOST_TEST(result.complete(), "task " << result.task << ": " << result.error);
        BOOST_TEST(result.error.empty());
        BOOST_TEST((result.poem == (result.task <= 2 ? first : second)), "task " << result.task << " differs");
        BOOST_TEST(result.address.port() == (result.task <= 2 ? one.port() : two.port()));
        check_events(result, observer.events(result.task));
    }
    BOOST_TEST(one.accepted() == 2U);
    BOOST_TEST(two.accepted() == 2U);
}

/// An observer that throws on task 1's first chunk, and again when task 1 finishes.
class ThrowingObserver final : public client::DownloadObserver {
public:
    void chunk(const client::Download& download, std::size_t /*bytes*/, poetry::TimePoint /*at*/) override {
        if (download.task == 1 && !thrown_) {
            thrown_ = true;
            throw std::runtime_error("the observer broke");
        }
    }
    void finished(const client::Download& download, const client::DownloadResult& /*result*/) override {
        if (download.task == 1) {
            throw std::runtime_error("the observer broke again");
        }
    }

private:
    std::atomic<bool> thrown_{false};
};

BOOST_DATA_TEST_CASE(a_throwing_observer_fails_its_download_and_no_other, data::make(all_strategies), name) {
    const std::string poem = numbered_text(2'000, 'c');
    const FakeServer server({poem, 400, 20ms, Ending::close});
    const std::vector<client::Download> downloads{download_from(server, 1), download_from(server, 2)};
    ThrowingObserver observer;
    const client::RunReport report = run(name, downloads, observer);  // and nothing printed
    const client::DownloadResult& broken = report.results[0];
    BOOST_TEST((broken.status == client::DownloadStatus::partial), client::to_string(broken.status));
    BOOST_TEST(broken.error == "observer: the observer broke");
    BOOST_TEST(poem.starts_with(broken.poem));
    BOOST_TEST(broken.poem.size() < poem.size(), "the download went on after its observer failed");
    const client::DownloadResult& other = report.results[1];
    BOOST_TEST(other.complete(), other.error);
    BOOST_TEST(other.poem == poem);
}

BOOST_DATA_TEST_CASE(a_silent_server_fails_the_download_on_the_idle_timeout, data::make(all_strategies), name) {
    const FakeServer silent({"", 0, 0ms, Ending::silence});
    const FakeServer stalls({"the first lines, then nothing", 0, 0ms, Ending::silence});
    RecordingObserver observer;
    client::StrategySettings settings;
    settings.timeout = client::Seconds(0.2);
    const client::RunReport report =
        run(name, {download_from(silent, 1), download_from(stalls, 2)}, observer, settings);

    const auto& nothing = report.results[0];
    BOOST_TEST((nothing.status == client::DownloadStatus::failed));
    BOOST_TEST(nothing.error == "no data for 0.20 s");
    BOOST_TEST(nothing.poem.empty());
    BOOST_TEST(nothing.connected.has_value(), "the connect itself succeeded");
    const auto& some = report.results[1];
    BOOST_TEST((some.status == client::DownloadStatus::partial));
    BOOST_TEST(some.error == "no data for 0.20 s");
    BOOST_TEST(some.poem == "the first lines, then nothing");
    for (const auto& result : report.results) {
        check_events(result, observer.events(result.task));
        const auto quiet_since = result.last_byte.value_or(result.connected.value_or(result.started));
        const client::Seconds quiet = result.finished - quiet_since;
        BOOST_TEST(quiet.count() >= 0.2, "timed out after " << quiet.count() << " s of silence, not 0.2 s");
        POETRY_TEST_TIMING((result.finished - quiet_since < 3s));
    }
}

BOOST_DATA_TEST_CASE(a_server_that_trickles_fails_the_download_on_its_deadline, data::make(all_strategies), name) {
    // 10 bytes every 20 ms for 2 s: never silent for the 0.5 s timeout, but past the 0.3 s deadline.
    const std::string poem = numbered_text(1'000, 'e');
    const FakeServer trickles({poem, 10, 20ms, Ending::close});
    RecordingObserver observer;
    client::StrategySettings settings;
    settings.timeout = client::Seconds(0.5);
    settings.deadline = client::Seconds(0.3);
    const client::RunReport report = run(name, {download_from(trickles, 1)}, observer, settings);
    const auto& result = report.results[0];
    BOOST_TEST((result.status == client::DownloadStatus::partial));
    BOOST_TEST(result.error == "not finished within 0.30 s");
    BOOST_TEST(!result.poem.empty());
    BOOST_TEST(poem.starts_with(result.poem));
    check_events(result, observer.events(1));
    const client::Seconds took = result.finished - result.started;
    BOOST_TEST(took.count() >= 0.3, "gave up after " << took.count() << " s, before the 0.3 s deadline");
    POETRY_TEST_TIMING(took.count() < 1.5);
}

BOOST_DATA_TEST_CASE(an_interrupted_run_stops_promptly_and_keeps_what_it_has, data::make(all_strategies), name) {
    // 10 bytes every 20 ms: each poem would take 4 s. The stop comes with the fourth chunk.
    const std::string poem = numbered_text(2'000, 'f');
    const FakeServer slow({poem, 10, 20ms, Ending::close});
    client::Interruption interruption;
    const client::InterruptOnSignals handlers(interruption);  // the processes strategy's workers need them
    RecordingObserver observer;
    poetry::TimePoint asked{};
    observer.after_chunks(4, [&interruption, &asked] {
        asked = poetry::Clock::now();
        interruption.request(SIGINT);
    });
    client::StrategySettings settings;
    settings.interruption = &interruption;
    const client::RunReport report =
        run(name, {download_from(slow, 1), download_from(slow, 2), download_from(slow, 3)}, observer, settings);
    const client::Seconds stopping = poetry::Clock::now() - asked;
    BOOST_TEST(interruption.signal() == SIGINT);
    std::size_t received = 0;
    for (const auto& result : report.results) {
        BOOST_TEST((result.status == client::DownloadStatus::interrupted), "task " << result.task << ": "
                                                                                    << result.error);
        BOOST_TEST(result.error == "interrupted");
        BOOST_TEST(poem.starts_with(result.poem), "task " << result.task << " received other bytes");
        received += result.poem.size();
        check_events(result, observer.events(result.task));
    }
    BOOST_TEST(report.interrupted() == 3U);
    BOOST_TEST(received >= 40U, "the chunks before the stop were lost");
    POETRY_TEST_TIMING(stopping.count() < 1.0);
}

BOOST_DATA_TEST_CASE(a_reset_mid_poem_keeps_the_bytes_received_and_says_why, data::make(all_strategies), name) {
    RecordingObserver observer;
    // The reset comes once the strategy has reported the bytes as a chunk: it must keep them.
    Script script{"half a poem", 0, 0ms, Ending::reset, [&seen = observer.chunks_seen()](const std::stop_token& stop) {
                      const auto deadline = poetry::Clock::now() + 10s;
                      while (seen == 0 && !stop.stop_requested() &&
                             poetry::Clock::now() < deadline) {
                          std::this_thread::sleep_for(1ms);
                      }
                  }};
    const FakeServer resets(std::move(script));
    const client::RunReport report = run(name, {download_from(resets, 1)}, observer);
    const auto& result = report.results[0];
    BOOST_TEST((result.status == client::DownloadStatus::partial));
    BOOST_TEST(result.poem == "half a poem");
    BOOST_TEST(result.error == "recv: Connection reset by peer");
    check_events(result, observer.events(1));
}

BOOST_DATA_TEST_CASE(a_clean_close_short_of_the_known_size_is_partial_and_beyond_it_failed,
                     data::make(all_strategies), name) {
    const std::string poem = numbered_text(900, 'c');
    const FakeServer server({poem, 400, 5ms, Ending::close});
    RecordingObserver observer;
    const client::RunReport report = run(
        name, {download_from(server, 1, poem.size() + 5), download_from(server, 2, poem.size() - 1)}, observer);
    const auto& short_one = report.results[0];
    BOOST_TEST((short_one.status == client::DownloadStatus::partial));
    BOOST_TEST(short_one.poem == poem);
    BOOST_TEST(short_one.error == "connection closed after 900 of 905 bytes");
    const auto& long_one = report.results[1];
    BOOST_TEST((long_one.status == client::DownloadStatus::failed));
    BOOST_TEST(long_one.poem == poem);
    BOOST_TEST(long_one.error == "got 900 bytes, more than the poem's 899");
    for (const auto& result : report.results) {
        check_events(result, observer.events(result.task));
    }
}

BOOST_DATA_TEST_CASE(a_refused_connect_fails_only_its_own_download, data::make(all_strategies), name) {
    const std::uint16_t closed_port = [] {
        auto probe = poetry::net::listen(poetry::net::Endpoint::numeric("127.0.0.1", 0));
        return probe.local_endpoint().port();  // closed again when the probe goes
    }();
    const std::string poem = numbered_text(600, 'd');
    const FakeServer server({poem, 0, 0ms, Ending::close});
    RecordingObserver observer;
    const client::RunReport report =
        run(name, {client::Download{1, poetry::net::Address("127.0.0.1", closed_port), std::nullopt, std::nullopt},
                   download_from(server, 2)},
            observer);
    const auto& refused = report.results[0];
    BOOST_TEST((refused.status == client::DownloadStatus::failed));
    BOOST_TEST(refused.error == "connect: Connection refused");
    BOOST_TEST(!refused.connected.has_value());
    BOOST_TEST(report.results[1].complete());
    BOOST_TEST(report.results[1].poem == poem);
    const auto events = observer.events(1);
    BOOST_REQUIRE_EQUAL(events.size(), 2U);  // started, then finished: no connected in between
    BOOST_TEST((events[0].kind == Event::Kind::started));
    BOOST_TEST((events[1].kind == Event::Kind::finished));
    check_events(report.results[1], observer.events(2));
}

BOOST_DATA_TEST_CASE(a_host_name_is_resolved_and_its_poem_arrives, data::make(all_strategies), name) {
    // "localhost" comes from /etc/hosts, never from the network; on the loop strategies it is looked up
    // on the loop's resolver threads, and each of its endpoints tried in turn (::1 may refuse).
    const std::string poem = numbered_text(700, 'g');
    const FakeServer server({poem, 0, 0ms, Ending::close});
    RecordingObserver observer;
    const poetry::net::Address localhost("localhost", server.port());
    const client::RunReport report =
        run(name, {client::Download{1, localhost, std::nullopt, std::nullopt},
                   client::Download{2, localhost, std::nullopt, std::nullopt}},
            observer);
    for (const auto& result : report.results) {
        BOOST_TEST(result.complete(), "task " << result.task << ": " << result.error);
        BOOST_TEST(result.poem == poem);
        check_events(result, observer.events(result.task));
    }
}

BOOST_AUTO_TEST_SUITE_END()
