// The one clock of the toolkit: the loop's timers, the programs' schedules and timings, and the tests
// all read it, under one name, with the saturating arithmetic that "wait forever" needs.
#pragma once

#include <chrono>

namespace poetry {

/// Monotonic, so timers are immune to wall-clock changes. On Linux it is CLOCK_MONOTONIC, one clock for
/// every process on the machine: times taken in different processes compare (the client's processes
/// strategy reports its children's times to the parent).
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

/// `delay` in the clock's unit, rounded up, and saturated instead of overflowing: "wait forever"
/// (hours::max()) must not wrap around into the past. Anything beyond ~146 years counts as forever.
template <class Rep, class Period>
constexpr Clock::duration saturating_duration(std::chrono::duration<Rep, Period> delay) noexcept {
    using Seconds = std::chrono::duration<double>;
    constexpr Seconds forever = Seconds(Clock::duration::max()) / 2;
    if (Seconds(delay) >= forever) {
        return Clock::duration::max();
    }
    if (Seconds(delay) <= -forever) {
        return Clock::duration::min();
    }
    return std::chrono::ceil<Clock::duration>(delay);
}

/// `now + delay`, saturating at TimePoint::max().
constexpr TimePoint deadline_after(TimePoint now, Clock::duration delay) noexcept {
    if (delay > Clock::duration::zero() && delay >= TimePoint::max() - now) {
        return TimePoint::max();
    }
    return now + delay;
}

}  // namespace poetry
