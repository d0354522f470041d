// --timeout and --deadline for the strategies on the library's event loop. Re-arming a timer on every
// chunk would cost a heap operation per chunk; instead a chunk only notes the time (touch), and the
// one timer, when it fires before a limit has passed, sleeps again until the new expiry.
#pragma once

#include <functional>
#include <string>
#include <utility>

#include "limits.hpp"
#include "poetry/loop/event_loop.hpp"

namespace poetry::client {

class LimitTimer {
public:
    /// Calls `on_expiry` with the reason once a limit has passed; without limits, never.
    LimitTimer(EventLoop& loop, DownloadLimits limits, std::function<void(const std::string&)> on_expiry)
        : loop_(loop), limits_(limits), on_expiry_(std::move(on_expiry)) {}
    LimitTimer(const LimitTimer&) = delete;
    LimitTimer& operator=(const LimitTimer&) = delete;
    ~LimitTimer() { stop(); }

    /// The download starts now: the deadline counts from here.
    void start() {
        if (limits_.any()) {
            started_ = last_activity_ = loop_.time();
            arm();
        }
    }
    /// Something arrived (or the connect finished): the idle limit counts from now.
    void touch() noexcept { last_activity_ = loop_.time(); }
    void stop() noexcept { timer_.cancel(); }

private:
    void arm() {
        timer_ = loop_.call_at(limits_.expiry(started_, last_activity_), [this] {
            if (auto reason = limits_.passed(started_, last_activity_, loop_.time())) {
                on_expiry_(*reason);  // last: it may destroy this timer's owner
            } else {
                arm();
            }
        });
    }

    EventLoop& loop_;
    DownloadLimits limits_;
    std::function<void(const std::string&)> on_expiry_;
    TimePoint started_{};
    TimePoint last_activity_{};
    TimerHandle timer_;
};

}  // namespace poetry::client
