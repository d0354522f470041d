// One download (a task number and an address), what it ended with, and the events a strategy
// reports while it runs. Every strategy fills results through a DownloadRecorder, so that "complete",
// "partial" and "failed" mean the same thing whichever concurrency model produced them.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "describe_exception.hpp"  // what the strategies make of an exception that ends a download
#include "poetry/loop/clock.hpp"
#include "poetry/net/address.hpp"

namespace poetry::client {

// Clock and TimePoint are the library's (poetry/loop/clock.hpp): CLOCK_MONOTONIC, one clock for every
// process on the machine, so the processes strategy's children's times compare with the parent's.
using Seconds = std::chrono::duration<double>;

struct Download {
    int task = 0;  // 1-based, as in "Task 2: got 50 bytes of poetry from ..."
    net::Address address;
    /// The poem's size when the addresses came from the server's ports file: the only way to tell a
    /// clean close mid-poem from the end of a poem.
    std::optional<std::size_t> expected_size;
    /// The poem's name ("ecstasy"), when the ports file says which poem the address serves.
    std::optional<std::string> name;
};

/// interrupted: the run was stopped (Ctrl-C, SIGTERM) before the download ended, with what it had.
enum class DownloadStatus { complete, partial, failed, interrupted };

std::string_view to_string(DownloadStatus status) noexcept;

struct DownloadResult {
    int task = 0;
    net::Address address{"", 0};
    DownloadStatus status = DownloadStatus::failed;
    std::string poem;  // the bytes as received; never decoded
    std::size_t chunks = 0;
    TimePoint started{};
    std::optional<TimePoint> connected;
    std::optional<TimePoint> first_byte;
    std::optional<TimePoint> last_byte;
    TimePoint finished{};
    std::string error;  // why it is not complete (empty when it is)

    [[nodiscard]] bool complete() const noexcept { return status == DownloadStatus::complete; }
};

/// What strategies report while they run. Called on one thread at a time (the threads strategy
/// serialises its workers' calls), in order for each download: started, connected, chunk..., finished.
class DownloadObserver {
public:
    virtual ~DownloadObserver() = default;
    /// The strategy has begun the download: a download can wait its turn before this (blocking, a pool).
    virtual void started(const Download& /*download*/, TimePoint /*at*/) {}
    virtual void connected(const Download& /*download*/, TimePoint /*at*/) {}
    virtual void chunk(const Download& /*download*/, std::size_t /*bytes*/, TimePoint /*at*/) {}
    virtual void finished(const Download& /*download*/, const DownloadResult& /*result*/) {}
};

/// Collects one download's bytes and times, tells the observer, and decides how it ended. An observer
/// that throws fails the download ("observer: <what>"): done() turns true, later bytes are ignored,
/// and the strategy ends the download when it next looks at done(). What finished() throws is
/// dropped, as the outcome is decided by then. So nothing an observer does escapes into a strategy's
/// event loop, thread or process.
class DownloadRecorder {
public:
    /// Tells the observer the download has started (at `started`).
    DownloadRecorder(const Download& download, DownloadObserver& observer, TimePoint started = Clock::now());

    [[nodiscard]] const Download& download() const noexcept { return download_; }
    [[nodiscard]] std::size_t bytes() const noexcept { return result_.poem.size(); }
    [[nodiscard]] bool done() const noexcept { return done_; }
    [[nodiscard]] TimePoint started() const noexcept { return result_.started; }

    void connected(TimePoint at = Clock::now());
    void received(std::span<const std::byte> chunk, TimePoint at = Clock::now());
    /// The server closed the connection: complete, unless the known size says the poem is short
    /// (partial), too long, or nothing came at all (failed).
    void end_of_stream(TimePoint at = Clock::now());
    /// The download failed: partial if some bytes came, failed if none. `reason` is one line.
    void fail(std::string_view reason, TimePoint at = Clock::now());
    /// The run was stopped before this download ended: interrupted, with the bytes it has.
    void interrupt(TimePoint at = Clock::now());

    /// The result, once done() (moved out: call once).
    DownloadResult take_result() noexcept { return std::move(result_); }

private:
    void finish(DownloadStatus status, std::string error, TimePoint at);
    template <class Call>
    void notify(Call&& call, TimePoint at);

    Download download_;
    DownloadObserver& observer_;
    DownloadResult result_;
    bool done_ = false;
};

/// "no data for 2.50 s": the reason a download fails on --timeout.
std::string inactivity_message(Seconds timeout);

/// "observer: <what()>": why a download failed when its observer threw (DownloadRecorder, and the
/// processes strategy's parent, which reports its workers' downloads without a recorder).
std::string observer_failure(const std::exception_ptr& error);

/// "connect: Connection refused": a failed operation as one line.
std::string failure_reason(std::string_view operation, const std::error_code& error);

}  // namespace poetry::client
