#include "server_log.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace poetry::server {

std::string format_seconds(Clock::duration duration) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.2f", std::chrono::duration<double>(duration).count());
    return text;
}

std::string describe_pace(std::size_t num_bytes, double delay, std::optional<double> rate) {
    std::string text = delay > 0 ? std::to_string(num_bytes) + " bytes every " + format_number(delay) + " s"
                                 : std::to_string(num_bytes) + " bytes at a time, no delay";
    if (!rate) {
        return text;
    }
    // Whole rates, as people give them, in full: 1000000, not 1e+06.
    const std::string bytes = *rate == std::floor(*rate) ? std::to_string(std::llround(*rate)) : format_number(*rate);
    return bytes + " bytes/s (" + text + ")";
}

void ServerLog::line(std::ostream& stream, const std::string& text) {
    const std::lock_guard lock(mutex_);
    if (&stream == &out_ && out_failed_) {
        return;
    }
    errno = 0;
    stream << text << std::endl;  // flushed: scripts read the log while the server runs
    if (!stream && &stream == &out_) {
        // A closed pipe (SIGPIPE is ignored), a full disk: the server goes on serving without its log,
        // and says so once rather than on every line.
        out_failed_ = true;
        const std::string cause = errno != 0 ? std::strerror(errno) : "write error";
        err_ << "poetry_server: cannot write the log to stdout (" << cause << "); serving on without it"
             << std::endl;
    }
}

void ServerLog::ready(const std::vector<Listener>& listeners) {
    std::string text = "Ready:";
    for (const auto& listener : listeners) {
        text += ' ' + listener.endpoint.to_string();
    }
    line(out_, text);
}

void ServerLog::listening(const Listener& listener) {
    if (verbosity_ == Verbosity::quiet) {
        return;
    }
    std::string pace = describe_pace(listener.num_bytes, listener.delay_seconds, listener.rate);
    if (listener.upstream && listener.upstream->pace()) {
        const UpstreamPace& toward = *listener.upstream->pace();
        pace += "; toward the upstream " + describe_pace(toward.num_bytes, toward.delay, toward.rate);
    }
    const std::string what = listener.poem ? "Serving " + listener.poem->path() + " on " +
                                                 listener.endpoint.to_string() + ": " +
                                                 std::to_string(listener.poem->size()) + " bytes, "
                                           : "Proxying " + listener.endpoint.to_string() + " to " +
                                                 listener.upstream->address().to_string() +
                                                 (listener.cache ? " (cached: fetched once, then served as a poem)"
                                                                 : "") +
                                                 ": ";
    line(out_, what + pace + (listener.faults.any() ? "; faults: " + listener.faults.describe() : ""));
}

void ServerLog::connected(const ClientInfo& client) {
    if (verbosity_ == Verbosity::quiet) {
        return;
    }
    line(out_, "Client " + client.peer + " connected to " + client.listener->endpoint.to_string() + " (" +
                   client.listener->source() + ")" + (client.faults.active() ? " with faults" : ""));
}

void ServerLog::chunk_sent(const ClientInfo& client, std::size_t bytes, std::size_t index,
                           TimePoint due) {
    if (verbosity_ != Verbosity::verbose) {
        return;
    }
    std::string text =
        "Sent " + std::to_string(bytes) + " bytes (chunk " + std::to_string(index) + ") to " + client.peer;
    if (client.faults.active()) {
        char when[48];
        std::snprintf(when, sizeof(when), " (due +%.6f s)",
                      std::chrono::duration<double>(due - client.start).count());
        text += when;
    }
    line(out_, text);
}

void ServerLog::ended(const ClientInfo& client, SessionEnd end, std::uint64_t sent, std::string_view reason,
                      FaultKind cut_by) {
    if (verbosity_ == Verbosity::quiet) {
        return;
    }
    const std::string elapsed = format_seconds(Clock::now() - client.start);
    std::string text = "Client " + client.peer + " on " + client.listener->endpoint.to_string();
    if (end == SessionEnd::finished) {
        text += ": sent " + std::to_string(sent) + " bytes in " + elapsed + " s";
    } else {
        if (end == SessionEnd::cut) {
            text += cut_by == FaultKind::reset_after  ? " reset by --reset-after after "
                    : cut_by == FaultKind::hang_after ? " hung by --hang-after after "
                                                      : " closed early by --close-after after ";
        } else {
            text += end == SessionEnd::interrupted       ? " interrupted after "
                    : end == SessionEnd::upstream_failed ? " failed by its upstream after "
                                                         : " dropped after ";
        }
        text += std::to_string(sent);
        if (client.listener->poem) {
            text += " of " + std::to_string(client.listener->poem->size());
        }
        text += " bytes in " + elapsed + " s";
        if (!reason.empty()) {
            text += ": ";
            text += reason;
        }
    }
    line(out_, text);
}

void ServerLog::refused(std::string_view peer, const Listener& listener, std::uint64_t active) {
    if (verbosity_ == Verbosity::quiet) {
        return;
    }
    line(out_, "Refused " + std::string(peer) + " on " + listener.endpoint.to_string() + ": " +
                   std::to_string(active) + " clients connected (--max-clients)");
}

void ServerLog::accept_paused(const Listener& listener, const std::error_code& ec, bool out_of_fds,
                              const std::string& why) {
    error((out_of_fds ? "out of file descriptors (" : "accept failed (") + ec.message() + ") on " +
          listener.endpoint.to_string() + (why.empty() ? "" : "; " + why) + "; accepting again in 0.1 s steps");
}

void ServerLog::note(std::string_view message) {
    if (verbosity_ != Verbosity::quiet) {
        line(out_, std::string(message));
    }
}

void ServerLog::always(std::string_view message) {
    line(out_, std::string(message));
}

void ServerLog::error(std::string_view message) {
    line(err_, "poetry_server: " + std::string(message));
}

void ServerLog::summary(const ServerStats& stats, Clock::duration uptime, bool faults_configured,
                        bool proxying) {
    std::string text = "Stopped after " + format_seconds(uptime) + " s: served " +
                       std::to_string(stats.served) + " clients, dropped " + std::to_string(stats.dropped) +
                       ", interrupted " + std::to_string(stats.interrupted) + ", refused " +
                       std::to_string(stats.refused);
    if (proxying) {
        text += ", upstream failed " + std::to_string(stats.upstream_failed);
    }
    text += "; sent " + std::to_string(stats.bytes_sent) + " bytes";
    if (stats.lateness.count() > 0) {
        char lateness[160];
        std::snprintf(
            lateness, sizeof(lateness), "; %llu chunks left late by p50 %.1f ms, p99 %.1f ms, max %.1f ms",
            static_cast<unsigned long long>(stats.lateness.count()), stats.lateness.percentile_ms(0.5),
            stats.lateness.percentile_ms(0.99), stats.lateness.max_ms());
        text += lateness;
    }
    if (const std::uint64_t bytes = stats.unpaced_bytes; bytes > 0 && stats.unpaced_time.busy().count() > 0) {
        const double seconds = std::chrono::duration<double>(stats.unpaced_time.busy()).count();
        char throughput[128];
        std::snprintf(throughput, sizeof(throughput), "; with no delay, %.1f MB/s over %.2f s",
                      static_cast<double>(bytes) / seconds / 1e6, seconds);
        text += throughput;
    }
    if (faults_configured) {
        text += "; faults on " + std::to_string(stats.faulty) + " of " + std::to_string(stats.connections) +
                " connections";
        const char* separator = ": ";
        for (std::size_t kind = 0; kind < fault_kinds; ++kind) {
            if (stats.faults[kind] > 0) {
                text += separator;
                text += to_string(static_cast<FaultKind>(kind));
                text += " " + std::to_string(stats.faults[kind]);
                separator = ", ";
            }
        }
    }
    line(out_, text);
}

void UnpacedTime::begin(TimePoint at) {
    const std::lock_guard lock(mutex_);
    if (open_++ == 0) {
        since_ = at;
    }
}

void UnpacedTime::end(TimePoint at) {
    const std::lock_guard lock(mutex_);
    if (open_ > 0 && --open_ == 0) {
        busy_ += at - since_;
    }
}

Clock::duration UnpacedTime::busy() const {
    const std::lock_guard lock(mutex_);
    return busy_;
}

void LatenessHistogram::record(Clock::duration late) noexcept {
    const auto us =
        std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(late).count());
    const auto bucket = std::min<std::size_t>(buckets - 1, static_cast<std::size_t>(us / 100));
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    auto seen = max_us_.load(std::memory_order_relaxed);
    while (static_cast<std::uint64_t>(us) > seen &&
           !max_us_.compare_exchange_weak(seen, static_cast<std::uint64_t>(us), std::memory_order_relaxed)) {
    }
}

LatenessHistogram::Counts LatenessHistogram::counts() const noexcept {
    Counts counts{};
    for (std::size_t bucket = 0; bucket < buckets; ++bucket) {
        counts[bucket] = counts_[bucket].load(std::memory_order_relaxed);
    }
    return counts;
}

double LatenessHistogram::percentile_ms(const Counts& counts, double p) const noexcept {
    std::uint64_t total = 0;
    for (const std::uint64_t n : counts) {
        total += n;
    }
    const auto wanted = static_cast<std::uint64_t>(p * static_cast<double>(total));
    std::uint64_t seen = 0;
    for (std::size_t bucket = 0; bucket < buckets; ++bucket) {
        seen += counts[bucket];
        if (seen > wanted || bucket == buckets - 1) {
            // A bucket's upper bound may lie above every chunk in it: never report more than the max.
            return bucket == buckets - 1 ? max_ms()
                                         : std::min(static_cast<double>(bucket + 1) / 10.0, max_ms());
        }
    }
    return max_ms();
}

SessionRecord::SessionRecord(ClientInfo client, ClientSlot slot, ServerStats& stats, ServerLog& log)
    : slot_(std::move(slot)), client_(std::move(client)), stats_(stats), log_(log) {
    ++stats_.connections;
    if (unpaced()) {
        stats_.unpaced_time.begin(client_.start);
    }
    if (const FaultPlan* plan = client_.faults.plan()) {
        ++stats_.faulty;
        // These act on the whole session (the limits and the slow close count when they act).
        for (const auto& [on, kind] : {std::pair{plan->first_byte_delay > 0, FaultKind::first_byte_delay},
                                       std::pair{plan->jitter > 0, FaultKind::jitter},
                                       std::pair{plan->size_jitter > 0, FaultKind::size_jitter}}) {
            if (on) {
                fault_acted(kind);
            }
        }
    }
    log_.connected(client_);
}

SessionRecord::~SessionRecord() {
    if (unpaced()) {
        try {
            stats_.unpaced_time.end(Clock::now());
        } catch (...) {
            // std::mutex::lock only throws on a system error; a throughput a little off is the lesser harm.
        }
    }
    switch (end_) {
        case SessionEnd::finished:
            ++stats_.served;
            break;
        case SessionEnd::dropped:
            ++stats_.dropped;
            break;
        case SessionEnd::interrupted:
            ++stats_.interrupted;
            break;
        case SessionEnd::upstream_failed:
            ++stats_.upstream_failed;
            break;
        case SessionEnd::cut:
            fault_acted(cut_by_);
            break;
    }
    try {
        log_.ended(client_, end_, sent_, reason_, cut_by_);
    } catch (...) {
        // Logging must not throw out of a destructor; a lost log line is the lesser harm.
    }
}

void SessionRecord::add_sent(std::size_t bytes) noexcept {
    sent_ += bytes;
    stats_.bytes_sent += bytes;
    if (unpaced()) {
        stats_.unpaced_bytes += bytes;
    }
}

void SessionRecord::chunk_left(TimePoint due) noexcept {
    stats_.chunks.fetch_add(1, std::memory_order_relaxed);
    if (!unpaced()) {
        stats_.lateness.record(Clock::now() - due);
    }
}

bool SessionRecord::unpaced() const noexcept {
    return client_.listener->delay == std::chrono::nanoseconds::zero();
}

void SessionRecord::end(SessionEnd how, std::string reason) noexcept {
    end_ = how;
    reason_ = std::move(reason);
}

void SessionRecord::cut(FaultKind limit, std::string reason) noexcept {
    end(SessionEnd::cut, std::move(reason));
    cut_by_ = limit;
}

void SessionRecord::fault_acted(FaultKind kind) noexcept {
    ++stats_.faults[static_cast<std::size_t>(kind)];
}

}  // namespace poetry::server
