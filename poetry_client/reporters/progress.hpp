// The live report, like the classic client's: a line per chunk and per complete task on stdout;
// the lines of partial and failed tasks go to stderr, even with -q.
#pragma once

#include <iosfwd>

#include "download.hpp"

namespace poetry::client {

class ProgressReporter final : public DownloadObserver {
public:
    /// `quiet`: no chunk lines and no lines for complete tasks. `silent`: nothing at all (--json).
    ProgressReporter(std::ostream& out, std::ostream& err, bool quiet, bool silent)
        : out_(out), err_(err), quiet_(quiet || silent), silent_(silent) {}

    void chunk(const Download& download, std::size_t bytes, TimePoint at) override;
    void finished(const Download& download, const DownloadResult& result) override;

private:
    std::ostream& out_;
    std::ostream& err_;
    bool quiet_;
    bool silent_;
};

/// "Task 2: partial poem from 127.0.0.1:8001, 120 bytes received: recv: Connection reset by peer".
std::string describe_outcome(const DownloadResult& result);

}  // namespace poetry::client
