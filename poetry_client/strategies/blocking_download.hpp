// One poem fetched with a blocking socket: the body shared by the blocking, threads and processes
// strategies, which differ only in how many of these run at once and where.
#pragma once

#include "download.hpp"
#include "interruption.hpp"
#include "limits.hpp"

namespace poetry::client {

/// Resolves, connects and reads until the server closes, giving up when one of `limits` passes
/// (the connect's own timeout, then SO_RCVTIMEO on each recv), and stopping at once, interrupted, when
/// `interruption` (if any) is requested: it shuts the socket down under the blocked connect or recv.
DownloadResult fetch_blocking(const Download& download, const DownloadLimits& limits, Interruption* interruption,
                              DownloadObserver& observer);

}  // namespace poetry::client
