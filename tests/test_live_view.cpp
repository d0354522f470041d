// The live view as an observer: events from several threads at once (as the threads strategy sends
// them, one at a time under a lock) while its own thread redraws; every event passed on to the next
// observer; the last frame with every outcome. Under the tsan preset, this is the view's race check.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "reporters/live_view.hpp"
#include "support/pipe.hpp"

namespace client = poetry::client;
using namespace std::chrono_literals;

namespace {

/// Counts what reaches it, to show the view passes every event on.
class CountingObserver final : public client::DownloadObserver {
public:
    void started(const client::Download& /*download*/, poetry::TimePoint /*at*/) override { ++started_; }
    void connected(const client::Download& /*download*/, poetry::TimePoint /*at*/) override { ++connected_; }
    void chunk(const client::Download& /*download*/, std::size_t bytes, poetry::TimePoint /*at*/) override {
        bytes_ += bytes;
    }
    void finished(const client::Download& /*download*/, const client::DownloadResult& /*result*/) override {
        ++finished_;
    }

    std::size_t started_ = 0;
    std::size_t connected_ = 0;
    std::size_t bytes_ = 0;
    std::size_t finished_ = 0;
};

/// Everything written to the pipe so far (the view writes at most a few kB a frame, 10 frames a
/// second: well inside a pipe's buffer for the test's half second).
std::string drain(int fd) {
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof(buffer));
        if (n <= 0) {
            return text;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(live_view)

BOOST_AUTO_TEST_CASE(events_from_many_threads_are_counted_passed_on_and_drawn_to_the_last_frame) {
    poetry::test::Pipe pipe = poetry::test::open_pipe();
    std::vector<client::Download> downloads;
    for (int task = 1; task <= 8; ++task) {
        downloads.push_back({task, poetry::net::Address("127.0.0.1", 9000), 1000, "ecstasy"});
    }
    CountingObserver next;
    client::LiveView view(next, pipe.write.get(), {});
    view.start_run("threads", downloads);

    std::mutex one_at_a_time;  // as the threads strategy serialises its workers' events
    std::vector<std::thread> workers;
    for (std::size_t w = 0; w < 4; ++w) {
        workers.emplace_back([&, w] {
            for (std::size_t d = w; d < downloads.size(); d += 4) {
                const auto& download = downloads[d];
                client::DownloadResult result;
                result.task = download.task;
                result.status = d == 7 ? client::DownloadStatus::partial : client::DownloadStatus::complete;
                result.poem.assign(d == 7 ? 400 : 1000, 'x');
                {
                    const std::lock_guard lock(one_at_a_time);
                    view.started(download, poetry::Clock::now());
                    view.connected(download, poetry::Clock::now());
                }
                for (int chunk = 0; chunk < (d == 7 ? 4 : 10); ++chunk) {
                    std::this_thread::sleep_for(10ms);
                    const std::lock_guard lock(one_at_a_time);
                    view.chunk(download, 100, poetry::Clock::now());
                }
                const std::lock_guard lock(one_at_a_time);
                view.finished(download, result);
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    view.finish_run();
    pipe.write.reset();
    const std::string screen = drain(pipe.read.get());

    BOOST_TEST(next.started_ == 8U);
    BOOST_TEST(next.connected_ == 8U);
    BOOST_TEST(next.bytes_ == 7 * 1000U + 400U);
    BOOST_TEST(next.finished_ == 8U);
    // The last frame: after the last cursor move up (the pipe has no size: 24 x 80 is assumed).
    const auto last_redraw = screen.rfind('\r');
    const std::string last = last_redraw == std::string::npos ? screen : screen.substr(last_redraw);
    BOOST_TEST(last.find("threads  ") != std::string::npos, last);
    BOOST_TEST(last.find("8/8 done") != std::string::npos, last);
    BOOST_TEST(last.find("1 partial") != std::string::npos, last);
    BOOST_TEST(last.find("1,000/1,000 B") != std::string::npos, last);
    BOOST_TEST(last.find("400/1,000 B") != std::string::npos, last);
    BOOST_TEST(screen.find("receiving") != std::string::npos, "no frame while the downloads ran");
}

BOOST_AUTO_TEST_CASE(events_outside_the_run_are_passed_on_and_a_view_without_a_run_ends_quietly) {
    poetry::test::Pipe pipe = poetry::test::open_pipe();
    CountingObserver next;
    {
        client::LiveView view(next, pipe.write.get(), {});
        const client::Download stranger{99, poetry::net::Address("127.0.0.1", 9000), std::nullopt,
                                        std::nullopt};
        view.chunk(stranger, 5, poetry::Clock::now());  // no run started: only passed on
        view.finish_run();                              // nothing to finish
    }
    pipe.write.reset();
    BOOST_TEST(next.bytes_ == 5U);
    BOOST_TEST(drain(pipe.read.get()).empty());
}

BOOST_AUTO_TEST_SUITE_END()
