// What the server says (listeners at start, clients coming and going, the summary at the end) and
// the counters behind the summary. Shared by every mode; safe to call from many threads.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "faults.hpp"
#include "listener.hpp"
#include "options.hpp"
#include "poetry/loop/clock.hpp"

namespace poetry::server {

/// How late chunks left against their schedule, in 0.1 ms buckets up to 100 ms (and one for later):
/// enough for p50/p99 to 0.1 ms without keeping every sample. Safe from many threads.
class LatenessHistogram {
public:
    static constexpr std::size_t buckets = 1001;  // 0.1 ms each; the last holds everything from 100 ms
    using Counts = std::array<std::uint64_t, buckets>;

    void record(Clock::duration late) noexcept;
    [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
    /// The bucket's upper bound, in ms, under which a share `p` of the chunks left.
    [[nodiscard]] double percentile_ms(double p) const noexcept { return percentile_ms(counts(), p); }
    /// The same for the chunks in `counts`: counts() now less counts() earlier, for an interval.
    [[nodiscard]] double percentile_ms(const Counts& counts, double p) const noexcept;
    [[nodiscard]] double max_ms() const noexcept { return static_cast<double>(max_us_) / 1000.0; }
    /// Every bucket's count so far (each read atomically; the whole is not one instant).
    [[nodiscard]] Counts counts() const noexcept;

private:
    std::array<std::atomic<std::uint64_t>, buckets> counts_{};
    std::atomic<std::uint64_t> count_{0};
    std::atomic<std::uint64_t> max_us_{0};
};

/// How long at least one --delay 0 session was open: the time the unpaced bytes took, all sessions
/// together, without the gaps between them. Touched when such a session begins and ends, never per chunk.
class UnpacedTime {
public:
    void begin(TimePoint at);
    void end(TimePoint at);
    [[nodiscard]] Clock::duration busy() const;

private:
    mutable std::mutex mutex_;
    std::size_t open_ = 0;
    TimePoint since_{};
    Clock::duration busy_{};
};

struct ServerStats {
    std::atomic<std::uint64_t> served{0};       // got the whole poem
    std::atomic<std::uint64_t> dropped{0};      // left (or failed) before the end
    std::atomic<std::uint64_t> interrupted{0};  // still connected when the server stopped
    std::atomic<std::uint64_t> refused{0};      // over --max-clients
    std::atomic<std::uint64_t> upstream_failed{0};  // proxied: the upstream refused, timed out or failed
    std::atomic<std::uint64_t> bytes_sent{0};
    std::atomic<std::uint64_t> active{0};       // connected now
    LatenessHistogram lateness;                 // how late each chunk left against its schedule (delay > 0)
    // --delay 0 sends as fast as the client reads: no schedule, so no lateness; its figure is the
    // throughput, its bytes over the time when at least one such session was open.
    std::atomic<std::uint64_t> unpaced_bytes{0};
    UnpacedTime unpaced_time;
    std::atomic<std::uint64_t> connections{0};  // every session, however it ended
    std::atomic<std::uint64_t> chunks{0};       // chunks sent, paced or not
    std::atomic<std::uint64_t> faulty{0};       // sessions chosen for faults (--fault-rate)
    // Per FaultKind, the sessions where it acted: jitter and the like on every faulty session that has
    // them, the byte limits where they cut the poem short (those sessions count nowhere else), the slow
    // close where it held the FIN.
    std::array<std::atomic<std::uint64_t>, fault_kinds> faults{};
};

/// One of the places that --max-clients allows, counted in ServerStats::active from the moment the
/// connection is accepted until its session has ended and been logged. Taken with
/// ServeContext::admit, where the connection is accepted, so that a burst of connections cannot get
/// past the limit before their sessions (threads, coroutines) have started.
class ClientSlot {
public:
    /// Counts one more client as active.
    explicit ClientSlot(ServerStats& stats) noexcept : stats_(&stats) { ++stats.active; }
    /// Takes a place already counted (by admit's compare-and-swap).
    static ClientSlot counted(ServerStats& stats) noexcept { return ClientSlot(&stats); }
    ClientSlot(ClientSlot&& other) noexcept : stats_(std::exchange(other.stats_, nullptr)) {}
    ClientSlot& operator=(ClientSlot&&) = delete;
    ClientSlot(const ClientSlot&) = delete;
    ~ClientSlot() {
        if (stats_ != nullptr) {
            --stats_->active;
        }
    }

private:
    explicit ClientSlot(ServerStats* stats) noexcept : stats_(stats) {}
    ServerStats* stats_;
};

/// How one client's session ended: cut means by --close-after, --reset-after or --hang-after;
/// upstream_failed, that a proxied listener's upstream could not be reached or failed mid-stream.
enum class SessionEnd { finished, dropped, interrupted, cut, upstream_failed };

/// One client of one listener, from accept to the end of its session.
struct ClientInfo {
    std::string peer;  // "127.0.0.1:51234"
    const Listener* listener = nullptr;
    TimePoint start;
    ConnectionFaults faults;  // active() if this session was chosen for faults
};

class ServerLog {
public:
    ServerLog(std::ostream& out, std::ostream& err, Verbosity verbosity) noexcept
        : out_(out), err_(err), verbosity_(verbosity) {}

    /// "Serving poems/ecstasy.txt on 127.0.0.1:8000: 2667 bytes, 200 bytes every 0.7 s", then, if it
    /// has faults, "; faults: close after 100 bytes, jitter ±0.1 s, rate 0.5, seed 7".
    void listening(const Listener& listener);
    /// "Ready: 127.0.0.1:8000 127.0.0.1:8001", every listener's address, once all are bound and the
    /// ports file is written; printed even with -q, so that a script can wait for it on a pipe.
    void ready(const std::vector<Listener>& listeners);
    /// "Client 127.0.0.1:51234 connected to 127.0.0.1:8000 (poems/ecstasy.txt)", and " with faults".
    void connected(const ClientInfo& client);
    /// -v only: "Sent 200 bytes (chunk 3) to 127.0.0.1:51234"; for a session with faults, also when
    /// the chunk was due: " (due +2.104113 s)" after the session's start.
    void chunk_sent(const ClientInfo& client, std::size_t bytes, std::size_t index,
                    TimePoint due);
    /// finished: "Client 127.0.0.1:51234 on 127.0.0.1:8000: sent 2667 bytes in 10.52 s";
    /// dropped/interrupted: "... dropped after 1200 of 2667 bytes in 4.21 s: Connection reset by peer";
    /// cut: "... closed early by --close-after after 100 of 2667 bytes in 0.71 s" (or "reset by
    /// --reset-after", "hung by --hang-after ...: until the client left").
    void ended(const ClientInfo& client, SessionEnd end, std::uint64_t sent, std::string_view reason,
               FaultKind cut_by = FaultKind::close_after);
    /// "Refused 127.0.0.1:51240 on 127.0.0.1:8000: 100 clients connected (--max-clients)"
    void refused(std::string_view peer, const Listener& listener, std::uint64_t active);
    /// One line on stderr, always.
    void error(std::string_view message);
    /// One line on stdout, but with -q: something worth knowing that is not an error.
    void note(std::string_view message);
    /// One line on stdout, even with -q: what was asked for (--stats).
    void always(std::string_view message);
    /// stderr: "out of file descriptors (Too many open files) on 127.0.0.1:8000; accepting again in
    /// 0.1 s steps" (or "accept failed (...)" for another error that retrying at once would not cure).
    /// `why`, if given, follows: "; select watches fds below FD_SETSIZE (1024) only".
    void accept_paused(const Listener& listener, const std::error_code& ec, bool out_of_fds,
                       const std::string& why = {});
    /// "Stopped after 12.34 s: served 12 clients, dropped 2, interrupted 1, refused 0; sent 36036 bytes;
    /// 3604 chunks left late by p50 0.1 ms, p99 0.4 ms, max 2.1 ms" (chunks with a delay), "; with no
    /// delay, 499.3 MB/s over 0.21 s" (--delay 0: MB are 10^6 bytes), and if `faults_configured`,
    /// "; faults on 12 of 40 connections: close-after 5, reset-after 7" (each fault that acted).
    /// With `proxying` (any --upstream), ", upstream failed 2" follows the refused count.
    void summary(const ServerStats& stats, Clock::duration uptime, bool faults_configured, bool proxying);

private:
    void line(std::ostream& stream, const std::string& text);

    std::mutex mutex_;
    bool out_failed_ = false;  // stdout could not be written (closed, full): said once, then skipped
    std::ostream& out_;
    std::ostream& err_;
    Verbosity verbosity_;
};

/// "200 bytes every 0.7 s", "65536 bytes at a time, no delay", or with a rate "1000000 bytes/s (10000
/// bytes every 0.01 s)".
std::string describe_pace(std::size_t num_bytes, double delay, std::optional<double> rate);

/// Seconds with two decimals, as every duration the toolkit prints.
std::string format_seconds(Clock::duration duration);

/// Records a session in the stats and the log when it ends (RAII, so no path forgets it).
class SessionRecord {
public:
    SessionRecord(ClientInfo client, ClientSlot slot, ServerStats& stats, ServerLog& log);
    SessionRecord(const SessionRecord&) = delete;
    SessionRecord& operator=(const SessionRecord&) = delete;
    ~SessionRecord();

    void add_sent(std::size_t bytes) noexcept;
    /// A chunk due at `due` has just left.
    void chunk_left(TimePoint due) noexcept;
    /// How it ended; the default, if nothing is said, is dropped with an unknown reason.
    void end(SessionEnd how, std::string reason = {}) noexcept;
    /// It ended at the byte limit of `limit` (close_after, reset_after or hang_after).
    void cut(FaultKind limit, std::string reason = {}) noexcept;
    /// A fault that acts at one moment (the slow close) has acted.
    void fault_acted(FaultKind kind) noexcept;
    [[nodiscard]] const ClientInfo& client() const noexcept { return client_; }
    [[nodiscard]] std::uint64_t sent() const noexcept { return sent_; }

private:
    /// --delay 0: no schedule, so no lateness; its bytes count towards the throughput instead.
    [[nodiscard]] bool unpaced() const noexcept;

    ClientSlot slot_;  // first: given back after the destructor has logged the session
    ClientInfo client_;
    ServerStats& stats_;
    ServerLog& log_;
    std::uint64_t sent_ = 0;
    SessionEnd end_ = SessionEnd::dropped;
    FaultKind cut_by_ = FaultKind::close_after;
    std::string reason_ = "session ended early";
};

}  // namespace poetry::server
