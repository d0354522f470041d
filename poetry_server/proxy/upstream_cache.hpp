// --cache: a proxied listener's upstream, fetched once (read to its end, as the lessons' caching poetry
// proxy does) and from then on served to every client like a poem. The fetch runs on a thread of its
// own, started by the first client that finds no content; clients that arrive meanwhile wait for it.
// A failed fetch is reported to the clients that waited for it, and the next client starts another.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace poetry::server {

struct Listener;
class ServerLog;

/// The most a cache holds: an upstream that sends more fails the fetch rather than the machine.
inline constexpr std::size_t max_cache_bytes = std::size_t{1} << 30;

class UpstreamCache {
public:
    /// Where a client stands: served_as once fetched (a listener like the proxy's, with the content as
    /// its poem, valid as long as the cache), or the failure of the fetch it waited for; neither while
    /// that fetch runs.
    struct Outcome {
        const Listener* served_as = nullptr;
        std::optional<std::string> failure;
    };

    /// For `proxy`'s listener; `stop_fd` becomes readable when the server stops, which ends a fetch.
    UpstreamCache(const Listener& proxy, ServerLog& log, int stop_fd) noexcept
        : proxy_(proxy), log_(log), stop_fd_(stop_fd) {}
    UpstreamCache(const UpstreamCache&) = delete;
    UpstreamCache& operator=(const UpstreamCache&) = delete;
    /// Waits for a fetch under way, which the stop has ended.
    ~UpstreamCache();

    /// A client has come: starts a fetch unless there is content or a fetch runs, and returns the
    /// ticket to ask outcome() with. Thread-safe.
    std::uint64_t request();
    /// How the fetch that `ticket` waits for stands. Thread-safe; cheap enough to ask every few ms.
    [[nodiscard]] Outcome outcome(std::uint64_t ticket) const;

private:
    void fetch();
    /// Connects and reads the upstream to its end into a sealed poem. @throws std::runtime_error (why).
    std::unique_ptr<const Listener> fetch_content() const;

    const Listener& proxy_;
    ServerLog& log_;
    int stop_fd_;
    mutable std::mutex mutex_;
    std::unique_ptr<const Listener> cached_;  // set once, never changed after
    std::uint64_t attempt_ = 0;               // the fetch that new clients wait for
    bool fetching_ = false;
    std::string last_failure_;                // why attempt_ - 1 failed
    std::thread fetcher_;
};

}  // namespace poetry::server
