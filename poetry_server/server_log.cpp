#include "server_log.hpp"

#include <cstdio>

namespace poetry::server {
namespace {

std::string format_delay(double seconds) {
    char text[32];
    std::snprintf(text, sizeof(text), "%g", seconds);
    return text;
}

}  // namespace

std::string format_seconds(std::chrono::steady_clock::duration duration) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.2f", std::chrono::duration<double>(duration).count());
    return text;
}

void ServerLog::line(std::ostream& stream, const std::string& text) {
    const std::lock_guard lock(mutex_);
    stream << text << std::endl;  // flushed: scripts read the log while the server runs
}

void ServerLog::listening(const Listener& listener) {
    if (verbosity_ == Verbosity::quiet) {
        return;
    }
    const std::string pace = listener.delay_seconds > 0
                                 ? std::to_string(listener.num_bytes) + " bytes every " +
                                       format_delay(listener.delay_seconds) + " s"
                                 : std::to_string(listener.num_bytes) + " bytes at a time, no delay";
    line(out_, "Serving " + listener.poem->path() + " on " + listener.endpoint.to_string() + ": " +
                   std::to_string(listener.poem->size()) + " bytes, " + pace);
}

void ServerLog::connected(const ClientInfo& client) {
    if (verbosity_ == Verbosity::quiet) {
        return;
    }
    line(out_, "Client " + client.peer + " connected to " + client.listener->endpoint.to_string() + " (" +
                   client.listener->poem->path() + ")");
}

void ServerLog::chunk_sent(const ClientInfo& client, std::size_t bytes, std::size_t index) {
    if (verbosity_ != Verbosity::verbose) {
        return;
    }
    line(out_,
         "Sent " + std::to_string(bytes) + " bytes (chunk " + std::to_string(index) + ") to " + client.peer);
}

void ServerLog::ended(const ClientInfo& client, SessionEnd end, std::uint64_t sent, std::string_view reason) {
    if (verbosity_ == Verbosity::quiet) {
        return;
    }
    const std::string elapsed = format_seconds(std::chrono::steady_clock::now() - client.start);
    std::string text = "Client " + client.peer + " on " + client.listener->endpoint.to_string();
    if (end == SessionEnd::finished) {
        text += ": sent " + std::to_string(sent) + " bytes in " + elapsed + " s";
    } else {
        text += end == SessionEnd::dropped ? " dropped after " : " interrupted after ";
        text += std::to_string(sent) + " of " + std::to_string(client.listener->poem->size()) + " bytes in " +
                elapsed + " s";
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

void ServerLog::error(std::string_view message) {
    line(err_, "poetry_server: " + std::string(message));
}

void ServerLog::summary(const ServerStats& stats, std::chrono::steady_clock::duration uptime) {
    line(out_, "Stopped after " + format_seconds(uptime) + " s: served " + std::to_string(stats.served) +
                   " clients, dropped " + std::to_string(stats.dropped) + ", interrupted " +
                   std::to_string(stats.interrupted) + ", refused " + std::to_string(stats.refused) +
                   "; sent " + std::to_string(stats.bytes_sent) + " bytes");
}

SessionRecord::SessionRecord(ClientInfo client, ServerStats& stats, ServerLog& log)
    : client_(std::move(client)), stats_(stats), log_(log) {
    ++stats_.active;
    log_.connected(client_);
}

SessionRecord::~SessionRecord() {
    --stats_.active;
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
    }
    try {
        log_.ended(client_, end_, sent_, reason_);
    } catch (...) {
        // Logging must not throw out of a destructor; a lost log line is the lesser harm.
    }
}

void SessionRecord::add_sent(std::size_t bytes) noexcept {
    sent_ += bytes;
    stats_.bytes_sent += bytes;
}

void SessionRecord::end(SessionEnd how, std::string reason) noexcept {
    end_ = how;
    reason_ = std::move(reason);
}

}  // namespace poetry::server
