// blocking: one download after another with blocking sockets. The total time is the sum of the
// poems' times: while one server pauses between chunks, nothing else happens.
#include "strategies/blocking_download.hpp"
#include "strategy.hpp"

namespace poetry::client {

std::vector<DownloadResult> download_blocking(std::span<const Download> downloads,
                                              const StrategySettings& settings, DownloadObserver& observer) {
    std::vector<DownloadResult> results;
    results.reserve(downloads.size());
    for (const auto& download : downloads) {
        results.push_back(fetch_blocking(download, settings.limits(), settings.interruption, observer));
    }
    return results;
}

}  // namespace poetry::client
