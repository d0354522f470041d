// coroutines: the library's C++20 Tasks on its own event loop, one coroutine per download, written top
// to bottom like the blocking code; every co_await hands the thread back to the loop.
#include <exception>
#include <memory>
#include <system_error>
#include <vector>

#include "poetry/coro/awaitables.hpp"
#include "poetry/coro/create_task.hpp"
#include "poetry/net/errors.hpp"
#include "strategies/limit_timer.hpp"
#include "strategies/loop_errors.hpp"
#include "strategy.hpp"

namespace poetry::client {
namespace {

/// One download as the reader sees it: connect, then read until the server closes.
/// `stage` says which step a failure came from.
Task<void> fetch_poem(EventLoop& loop, DownloadRecorder& recorder, LimitTimer& timer,
                      std::span<std::byte> buffer, const char*& stage) {
    stage = "connect";
    net::Socket socket = co_await connect(loop, recorder.download().address);
    recorder.connected();
    if (recorder.done()) {  // its observer failed
        co_return;
    }
    timer.touch();
    stage = "recv";
    for (;;) {
        // The buffer is shared by every download: the coroutine resumes inside the loop's callback
        // and copies the chunk out before any other download runs.
        const std::size_t n = co_await recv(loop, socket, buffer);
        if (n == 0) {
            break;
        }
        timer.touch();
        recorder.received(buffer.first(n));
        if (recorder.done()) {
            co_return;
        }
    }
    recorder.end_of_stream();
}

/// Why a download failed, as one line in the same words as the other strategies.
std::string reason(const std::exception_ptr& error, const char* stage) {
    try {
        std::rethrow_exception(error);
    } catch (const std::system_error& e) {
        return failure_reason(e.code().category() == net::resolver_category() ? "resolve" : stage, e.code());
    } catch (...) {
        return std::string(stage) + ": " + describe_exception(std::current_exception());
    }
}

/// A download's coroutine and what it needs while it runs; stays put (the task points into it).
struct PoemTask {
    PoemTask(EventLoop& loop, const Download& download, DownloadObserver& observer, DownloadLimits limits)
        : recorder(download, observer), timer(loop, limits, [this](const std::string& reason) { give_up(reason); }) {}

    void give_up(const std::string& reason) {
        recorder.fail(reason);
        task->cancel();  // destroys the coroutine where it waits: its socket closes, its reader goes
    }

    DownloadRecorder recorder;
    LimitTimer timer;
    std::optional<Future<void>> task;
    const char* stage = "connect";
};

}  // namespace

std::vector<DownloadResult> download_coroutines(std::span<const Download> downloads,
                                                const StrategySettings& settings,
                                                DownloadObserver& observer) {
    EventLoop loop(make_selector(settings.selector));
    const LoopErrors errors(loop);
    if (settings.resolve_function) {
        loop.resolver().set_resolve_function(settings.resolve_function);
    }
    std::vector<std::byte> buffer(receive_buffer_size);
    std::size_t remaining = downloads.size();
    std::vector<std::unique_ptr<PoemTask>> tasks;
    tasks.reserve(downloads.size());
    for (const auto& download : downloads) {
        auto& poem =
            *tasks.emplace_back(std::make_unique<PoemTask>(loop, download, observer, settings.limits()));
        poem.task = create_task(loop, fetch_poem(loop, poem.recorder, poem.timer, buffer, poem.stage));
        poem.timer.start();
        poem.task->add_done_callback([&](Future<void>& done) {
            poem.timer.stop();
            if (auto error = done.exception(); error && !done.cancelled()) {
                poem.recorder.fail(reason(error, poem.stage));
            }
            if (--remaining == 0) {
                loop.stop();
            }
        });
    }
    if (settings.interruption != nullptr) {
        loop.add_reader(settings.interruption->fd(), [&] {
            loop.remove_reader(settings.interruption->fd());  // it stays readable
            for (auto& poem : tasks) {
                if (!poem->recorder.done()) {
                    poem->recorder.interrupt();
                    poem->task->cancel();  // its done callback counts it
                }
            }
        });
    }
    if (remaining > 0) {
        loop.run_forever();
        errors.rethrow_if_any();
    }
    if (settings.interruption != nullptr) {
        loop.remove_reader(settings.interruption->fd());
    }
    std::vector<DownloadResult> results;
    results.reserve(tasks.size());
    for (auto& poem : tasks) {
        results.push_back(poem->recorder.take_result());
    }
    return results;
}

}  // namespace poetry::client
