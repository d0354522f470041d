// Virtual time for loop tests (asyncio's TestLoop): a clock that moves only when the loop would sleep,
// and a selector that, instead of sleeping, moves the clock by the timeout. Timer tests then run
// instantly and exactly, whatever the machine's load. The selector can also make an fd ready at a
// chosen virtual time, so that I/O and timers can be made to fall due in the same loop iteration.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <utility>

#include "poetry/loop/event_loop.hpp"
#include "poetry/selectors/selector.hpp"

namespace poetry::test {

class VirtualClock {
public:
    [[nodiscard]] TimePoint now() const noexcept { return now_; }
    void advance(Clock::duration by) noexcept { now_ += by; }

private:
    TimePoint now_{std::chrono::hours(1)};
};

/// Reports no fd of itself: select() advances the clock by the timeout and reports nothing, unless the
/// test has made an fd ready at a time within the timeout (make_ready_at); then the clock moves to that
/// time, and every fd made ready by then is reported.
class VirtualTimeSelector final : public Selector {
public:
    explicit VirtualTimeSelector(VirtualClock& clock) noexcept : clock_(clock) {}
    [[nodiscard]] std::string_view name() const noexcept override { return "virtual"; }

    /// When the clock reaches `when`, runs `happen` (say, the peer sends, so that a read will find the
    /// bytes) and reports `fd` ready for `events` in that select() call, once; an fd not registered for
    /// them then is not reported. Readiness made for the same time is reported in the order it was made.
    void make_ready_at(TimePoint when, int fd, EventMask events, std::function<void()> happen = {}) {
        due_.emplace(when, Readiness{fd, events, std::move(happen)});
    }

protected:
    void backend_register(int, EventMask) override {}
    void backend_modify(int, EventMask, EventMask) override {}
    void backend_unregister(int, EventMask) noexcept override {}
    void backend_select(Timeout timeout, std::vector<std::pair<int, EventMask>>& ready) override {
        const bool blocks = timeout < Timeout::zero();
        if (!due_.empty() && (blocks || due_.begin()->first <= clock_.now() + timeout)) {
            if (due_.begin()->first > clock_.now()) {
                clock_.advance(due_.begin()->first - clock_.now());
            }
            while (!due_.empty() && due_.begin()->first <= clock_.now()) {
                Readiness readiness = std::move(due_.begin()->second);
                due_.erase(due_.begin());
                if (readiness.happen) {
                    readiness.happen();
                }
                ready.emplace_back(readiness.fd, readiness.events);
            }
            return;
        }
        if (blocks) {
            throw std::logic_error("the loop would block forever: nothing is scheduled");
        }
        clock_.advance(timeout);
    }

private:
    struct Readiness {
        int fd;
        EventMask events;
        std::function<void()> happen;
    };

    VirtualClock& clock_;
    std::multimap<TimePoint, Readiness> due_;
};

/// An EventLoop on virtual time.
inline std::unique_ptr<EventLoop> make_virtual_time_loop(VirtualClock& clock) {
    return std::make_unique<EventLoop>(std::make_unique<VirtualTimeSelector>(clock),
                                       [&clock] { return clock.now(); });
}

}  // namespace poetry::test
