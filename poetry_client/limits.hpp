// When a download gives up: --timeout, a limit on silence (nothing received for that long), and
// --deadline, a limit on its whole time (a server that trickles bytes for ever never trips the first).
// One rule for every strategy, so that each gives up at the same moment and says so in the same words.
#pragma once

#include <optional>
#include <string>

#include "download.hpp"

namespace poetry::client {

class DownloadLimits {
public:
    DownloadLimits() noexcept = default;
    DownloadLimits(std::optional<Seconds> idle, std::optional<Seconds> total) noexcept
        : idle_(idle), total_(total) {}

    [[nodiscard]] bool any() const noexcept { return idle_.has_value() || total_.has_value(); }
    [[nodiscard]] const std::optional<Seconds>& idle() const noexcept { return idle_; }
    [[nodiscard]] const std::optional<Seconds>& total() const noexcept { return total_; }

    /// When a download that started at `started` and last connected or received at `last_activity`
    /// gives up if nothing more happens; TimePoint::max() without limits.
    [[nodiscard]] TimePoint expiry(TimePoint started, TimePoint last_activity) const noexcept;

    /// Why it has given up at `now`: "no data for 2.50 s" (--timeout) or "not finished within 10.00 s"
    /// (--deadline, which wins when both are due); nothing if neither limit has passed.
    [[nodiscard]] std::optional<std::string> passed(TimePoint started, TimePoint last_activity,
                                                    TimePoint now) const;

private:
    std::optional<Seconds> idle_;
    std::optional<Seconds> total_;
};

/// "not finished within 10.00 s": the reason a download fails on --deadline.
std::string deadline_message(Seconds total);

}  // namespace poetry::client
