#include "limits.hpp"

#include <algorithm>
#include <cstdio>

#include "poetry/loop/handle.hpp"  // saturating_duration, deadline_after: no overflow near TimePoint::max()

namespace poetry::client {

TimePoint DownloadLimits::expiry(TimePoint started, TimePoint last_activity) const noexcept {
    TimePoint expiry = TimePoint::max();
    if (idle_) {
        expiry = std::min(expiry, deadline_after(last_activity, saturating_duration(*idle_)));
    }
    if (total_) {
        expiry = std::min(expiry, deadline_after(started, saturating_duration(*total_)));
    }
    return expiry;
}

std::optional<std::string> DownloadLimits::passed(TimePoint started, TimePoint last_activity,
                                                  TimePoint now) const {
    if (total_ && now >= deadline_after(started, saturating_duration(*total_))) {
        return deadline_message(*total_);
    }
    if (idle_ && now >= deadline_after(last_activity, saturating_duration(*idle_))) {
        return inactivity_message(*idle_);
    }
    return std::nullopt;
}

std::string deadline_message(Seconds total) {
    char text[64];
    std::snprintf(text, sizeof(text), "not finished within %.2f s", total.count());
    return text;
}

}  // namespace poetry::client
