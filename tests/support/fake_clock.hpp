// Virtual time for loop tests (asyncio's TestLoop): a clock that moves only when the loop would sleep,
// and a selector that, instead of sleeping, moves the clock by the timeout. Timer tests then run
// instantly and exactly, whatever the machine's load.
#pragma once

#include <memory>
#include <stdexcept>

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

/// Watches no fds: select() advances the clock by the timeout and reports nothing.
class VirtualTimeSelector final : public Selector {
public:
    explicit VirtualTimeSelector(VirtualClock& clock) noexcept : clock_(clock) {}
    [[nodiscard]] std::string_view name() const noexcept override { return "virtual"; }

protected:
    void backend_register(int, EventMask) override {
        throw std::logic_error("VirtualTimeSelector watches no fds");
    }
    void backend_modify(int, EventMask, EventMask) override {}
    void backend_unregister(int, EventMask) noexcept override {}
    void backend_select(Timeout timeout, std::vector<std::pair<int, EventMask>>&) override {
        if (timeout < Timeout::zero()) {
            throw std::logic_error("the loop would block forever: nothing is scheduled");
        }
        clock_.advance(timeout);
    }

private:
    VirtualClock& clock_;
};

/// An EventLoop on virtual time.
inline std::unique_ptr<EventLoop> make_virtual_time_loop(VirtualClock& clock) {
    return std::make_unique<EventLoop>(std::make_unique<VirtualTimeSelector>(clock),
                                       [&clock] { return clock.now(); });
}

}  // namespace poetry::test
