#include "reporters/progress.hpp"

#include <cerrno>
#include <cstdio>
#include <ostream>
#include <utility>

namespace poetry::client {

void ProgressReporter::chunk(const Download& download, std::size_t bytes, TimePoint /*at*/) {
    if (!quiet_) {
        out_ << "Task " << download.task << ": got " << bytes << " bytes of poetry from "
             << download.address.to_string() << '\n';
        check_out();
    }
}

void ProgressReporter::check_out() {
    if (!out_ && !silent_) {
        // Nobody reads any more (a closed pipe): one error line at the end says so, not a line per task.
        out_error_ = errno;
        quiet_ = silent_ = true;
        if (out_failed_) {
            std::exchange(out_failed_, nullptr)();
        }
    }
}

void ProgressReporter::finished(const Download& /*download*/, const DownloadResult& result) {
    if (silent_) {
        return;
    }
    if (!result.complete()) {
        err_ << describe_outcome(result) << std::endl;
    } else if (!quiet_) {
        out_ << describe_outcome(result) << '\n';
        check_out();
    }
}

std::string describe_outcome(const DownloadResult& result) {
    const std::string task = "Task " + std::to_string(result.task) + ": ";
    const std::string address = result.address.to_string();
    const std::string received = std::to_string(result.poem.size()) + " bytes";
    switch (result.status) {
        case DownloadStatus::complete: {
            char seconds[32];
            std::snprintf(seconds, sizeof(seconds), "%.2f s",
                          Seconds(result.finished - result.started).count());
            return task + "got the whole poem from " + address + ": " + received + " in " +
                   std::to_string(result.chunks) + (result.chunks == 1 ? " chunk, " : " chunks, ") + seconds;
        }
        case DownloadStatus::partial:
            return task + "partial poem from " + address + ", " + received + " received: " + result.error;
        case DownloadStatus::interrupted:
            return task + "interrupted, " + received + " received from " + address;
        case DownloadStatus::failed:
            break;
    }
    return task + "no poem from " + address + ", " + received + " received: " + result.error;
}

}  // namespace poetry::client
