// One poem fetched with a blocking socket: the body shared by the blocking, threads and processes
// strategies, which differ only in how many of these run at once and where.
#pragma once

#include <optional>

#include "download.hpp"

namespace poetry::client {

/// Resolves, connects (within `timeout`, if given), and reads until the server closes. With a
/// timeout, a recv that waits longer than it fails the download (SO_RCVTIMEO).
DownloadResult fetch_blocking(const Download& download, std::optional<Seconds> timeout,
                              DownloadObserver& observer);

}  // namespace poetry::client
