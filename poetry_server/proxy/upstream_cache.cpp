#include "proxy/upstream_cache.hpp"

#include <poll.h>
#include <unistd.h>

#include <array>
#include <stdexcept>

#include "listener.hpp"
#include "poetry/detail/syscall.hpp"
#include "poetry/net/connect_attempts.hpp"
#include "server_log.hpp"

namespace poetry::server {
namespace {

/// Waits until `fd` has `events` or the stop comes. @returns false on the stop or after `timeout`.
/// @throws std::runtime_error on a timeout, naming `what` was awaited.
bool wait_for(int fd, short events, int stop_fd, std::chrono::nanoseconds timeout, const std::string& what) {
    std::array<pollfd, 2> fds{{{stop_fd, POLLIN, 0}, {fd, events, 0}}};
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
    std::error_code ec;
    const int n = detail::retry_on_eintr(ec, [&] { return ::poll(fds.data(), fds.size(), static_cast<int>(ms)); });
    if (fds[0].revents != 0) {
        return false;
    }
    if (n == 0) {
        throw std::runtime_error(what + " in " + format_number(std::chrono::duration<double>(timeout).count()) +
                                 " s (--upstream-timeout)");
    }
    return true;
}

}  // namespace

UpstreamCache::~UpstreamCache() {
    if (fetcher_.joinable()) {
        fetcher_.join();
    }
}

std::uint64_t UpstreamCache::request() {
    const std::lock_guard lock(mutex_);
    if (!cached_ && !fetching_) {
        if (fetcher_.joinable()) {
            fetcher_.join();  // the last fetch, which failed, has ended
        }
        fetching_ = true;
        fetcher_ = std::thread([this] { fetch(); });
    }
    return attempt_;
}

UpstreamCache::Outcome UpstreamCache::outcome(std::uint64_t ticket) const {
    const std::lock_guard lock(mutex_);
    if (cached_) {
        return {cached_.get(), std::nullopt};
    }
    if (ticket < attempt_) {
        return {nullptr, last_failure_};
    }
    return {};
}

void UpstreamCache::fetch() {
    std::unique_ptr<const Listener> content;
    std::string failure;
    try {
        content = fetch_content();
        if (!content) {
            failure = "server stopping";
        }
    } catch (const std::exception& e) {
        failure = e.what();
    }
    if (content) {
        proxy_.upstream->reached();
        log_.note("Cached " + std::to_string(content->poem->size()) + " bytes from " +
                  proxy_.upstream->address().to_string() + " for " + proxy_.endpoint.to_string());
    } else if (failure != "server stopping" && proxy_.upstream->failure_is_news(failure)) {
        log_.error("cannot fill the cache of " + proxy_.endpoint.to_string() + ": " + failure +
                   "; its waiting clients are closed, and the next one tries again");
    }
    const std::lock_guard lock(mutex_);
    fetching_ = false;
    if (content) {
        cached_ = std::move(content);
    } else {
        last_failure_ = failure;
        ++attempt_;
    }
}

std::unique_ptr<const Listener> UpstreamCache::fetch_content() const {
    const Upstream& upstream = *proxy_.upstream;
    const auto timeout = upstream.connect_timeout();
    const auto deadline = Clock::now() + timeout;
    net::ConnectAttempts attempts(upstream.address(), upstream.endpoints());
    net::Socket socket;
    while (const net::Endpoint* endpoint = attempts.next()) {
        std::error_code ec;
        socket = net::start_connect(*endpoint, ec);
        if (ec == std::errc::operation_in_progress) {
            const auto left = std::max(deadline - Clock::now(), Clock::duration::zero());
            if (!wait_for(socket.fd(), POLLOUT, stop_fd_, left,
                          upstream.address().to_string() + ": no answer to connect")) {
                return nullptr;
            }
            ec = socket.connect_error();
        }
        if (!ec) {
            break;
        }
        attempts.failed(ec);
        socket.close();
    }
    if (!socket.is_open()) {
        throw attempts.exception();
    }

    const std::string name = "upstream " + upstream.address().to_string() + " (cached)";
    detail::UniqueFd memory = Poem::new_memory(name);
    std::size_t size = 0;
    std::array<std::byte, 65536> buffer;
    for (;;) {
        // The timeout also bounds the silence: an upstream that never ends its stream fails the fetch.
        if (!wait_for(socket.fd(), POLLIN, stop_fd_, timeout, upstream.address().to_string() + ": nothing more")) {
            return nullptr;
        }
        std::error_code ec;
        const std::size_t n = socket.recv(buffer, ec, MSG_DONTWAIT);
        if (detail::is_would_block(ec)) {
            continue;
        }
        if (ec) {
            throw std::runtime_error(upstream.address().to_string() + ": " + ec.message());
        }
        if (n == 0) {
            break;
        }
        if (size + n > max_cache_bytes) {
            throw std::runtime_error(upstream.address().to_string() + ": more than " +
                                     std::to_string(max_cache_bytes) + " bytes, the most a cache holds");
        }
        for (std::size_t done = 0; done < n;) {
            const auto written = detail::retry_on_eintr(
                ec, [&] { return ::write(memory.get(), buffer.data() + done, n - done); });
            if (ec) {
                throw std::runtime_error("cannot hold the content in memory: " + ec.message());
            }
            done += static_cast<std::size_t>(written);
        }
        size += n;
    }
    if (size == 0) {
        throw std::runtime_error(upstream.address().to_string() + ": sent nothing before closing");
    }
    return std::make_unique<const Listener>(proxy_.cached_as(Poem::seal(name, std::move(memory), size)));
}

}  // namespace poetry::server
