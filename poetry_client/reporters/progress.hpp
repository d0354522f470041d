// The live report, like the classic client's: a line per chunk and per complete task on stdout;
// the lines of partial and failed tasks go to stderr, even with -q.
#pragma once

#include <functional>
#include <iosfwd>
#include <utility>

#include "download.hpp"

namespace poetry::client {

class ProgressReporter final : public DownloadObserver {
public:
    /// `quiet`: no chunk lines and no lines for complete tasks. `silent`: nothing at all (--json).
    /// `out_failed` is called once, the first time `out` cannot be written (a closed pipe: `| head`),
    /// so that the run can stop instead of downloading for no reader.
    ProgressReporter(std::ostream& out, std::ostream& err, bool quiet, bool silent,
                     std::function<void()> out_failed = {})
        : out_(out), err_(err), quiet_(quiet || silent), silent_(silent), out_failed_(std::move(out_failed)) {}

    void chunk(const Download& download, std::size_t bytes, TimePoint at) override;
    void finished(const Download& download, const DownloadResult& result) override;

    /// The errno of the write that failed on `out`, once one has (0 if unknown or none).
    [[nodiscard]] int out_error() const noexcept { return out_error_; }

private:
    void check_out();

    std::ostream& out_;
    std::ostream& err_;
    bool quiet_;
    bool silent_;
    std::function<void()> out_failed_;
    int out_error_ = 0;
};

/// "Task 2: partial poem from 127.0.0.1:8001, 120 bytes received: recv: Connection reset by peer".
std::string describe_outcome(const DownloadResult& result);

}  // namespace poetry::client
