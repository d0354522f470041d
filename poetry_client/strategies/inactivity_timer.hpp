// --timeout for the strategies on the library's event loop: a download that receives nothing for the
// timeout fails. Re-arming a timer on every chunk would cost a heap operation per chunk; instead each
// chunk only moves a deadline, and the one timer, when it fires early, sleeps again until it.
#pragma once

#include <functional>
#include <optional>
#include <utility>

#include "download.hpp"
#include "poetry/loop/event_loop.hpp"

namespace poetry::client {

class InactivityTimer {
public:
    /// Calls `on_expiry` once nothing has happened for `timeout`; without a timeout, never.
    InactivityTimer(EventLoop& loop, std::optional<Seconds> timeout, std::function<void()> on_expiry)
        : loop_(loop), timeout_(timeout), on_expiry_(std::move(on_expiry)) {}
    InactivityTimer(const InactivityTimer&) = delete;
    InactivityTimer& operator=(const InactivityTimer&) = delete;
    ~InactivityTimer() { stop(); }

    void start() {
        if (timeout_) {
            touch();
            arm();
        }
    }
    /// Something happened: the deadline moves to now + timeout.
    void touch() noexcept {
        if (timeout_) {
            deadline_ = deadline_after(loop_.time(), saturating_duration(*timeout_));
        }
    }
    void stop() noexcept { timer_.cancel(); }

private:
    void arm() {
        timer_ = loop_.call_at(deadline_, [this] {
            if (loop_.time() < deadline_) {
                arm();
            } else {
                on_expiry_();  // last: it may destroy this timer's owner
            }
        });
    }

    EventLoop& loop_;
    std::optional<Seconds> timeout_;
    std::function<void()> on_expiry_;
    TimePoint deadline_{};
    TimerHandle timer_;
};

}  // namespace poetry::client
