// threads: a thread per download (or a pool of --workers), each running the blocking download. The
// operating system interleaves them; the observer is shared, so its calls are serialised here.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <system_error>
#include <thread>

#include "strategies/blocking_download.hpp"
#include "strategy.hpp"

namespace poetry::client {
namespace {

/// Passes every event on under one lock: observers are written for one caller at a time.
class SerializedObserver final : public DownloadObserver {
public:
    explicit SerializedObserver(DownloadObserver& inner) : inner_(inner) {}
    void started(const Download& download, TimePoint at) override {
        const std::lock_guard lock(mutex_);
        inner_.started(download, at);
    }
    void connected(const Download& download, TimePoint at) override {
        const std::lock_guard lock(mutex_);
        inner_.connected(download, at);
    }
    void chunk(const Download& download, std::size_t bytes, TimePoint at) override {
        const std::lock_guard lock(mutex_);
        inner_.chunk(download, bytes, at);
    }
    void finished(const Download& download, const DownloadResult& result) override {
        const std::lock_guard lock(mutex_);
        inner_.finished(download, result);
    }

private:
    DownloadObserver& inner_;
    std::mutex mutex_;
};

}  // namespace

std::vector<DownloadResult> download_threads(std::span<const Download> downloads,
                                             const StrategySettings& settings, DownloadObserver& observer) {
    SerializedObserver serialized(observer);
    std::vector<DownloadResult> results(downloads.size());
    std::atomic<std::size_t> next{0};
    // Each worker takes the next download until none is left: one download per thread when there are
    // as many threads as downloads, a shared queue for a pool.
    auto work = [&] {
        for (std::size_t i = next++; i < downloads.size(); i = next++) {
            results[i] = fetch_blocking(downloads[i], settings.limits(), settings.interruption, serialized);
        }
    };
    const std::size_t wanted =
        settings.workers == 0 ? downloads.size() : std::min(settings.workers, downloads.size());
    std::vector<std::jthread> workers;
    workers.reserve(wanted);
    std::string refusal;
    for (std::size_t i = 0; i < wanted; ++i) {
        try {
            workers.emplace_back(work);
        } catch (const std::system_error& e) {
            refusal = e.code().message();  // out of threads: the ones running share the work
            break;
        }
    }
    if (workers.empty() && !downloads.empty()) {
        // Not one thread: the downloads are failed here, one by one, so that each is still reported.
        for (std::size_t i = next++; i < downloads.size(); i = next++) {
            DownloadRecorder recorder(downloads[i], serialized);
            recorder.fail("cannot start a thread: " + refusal);
            results[i] = recorder.take_result();
        }
    }
    workers.clear();  // joins
    return results;
}

}  // namespace poetry::client
