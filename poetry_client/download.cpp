#include "download.hpp"

#include <cstdio>
#include <utility>

namespace poetry::client {

std::string_view to_string(DownloadStatus status) noexcept {
    switch (status) {
        case DownloadStatus::complete:
            return "complete";
        case DownloadStatus::partial:
            return "partial";
        case DownloadStatus::interrupted:
            return "interrupted";
        case DownloadStatus::failed:
            break;
    }
    return "failed";
}

DownloadRecorder::DownloadRecorder(const Download& download, DownloadObserver& observer, TimePoint started)
    : download_(download), observer_(observer) {
    result_.task = download.task;
    result_.address = download.address;
    result_.started = started;
    if (download.expected_size) {
        result_.poem.reserve(*download.expected_size);
    }
    notify([&] { observer_.started(download_, started); }, started);
}

void DownloadRecorder::connected(TimePoint at) {
    result_.connected = at;
    notify([&] { observer_.connected(download_, at); }, at);
}

void DownloadRecorder::received(std::span<const std::byte> chunk, TimePoint at) {
    if (chunk.empty() || done_) {
        return;  // after the outcome (an observer that failed), bytes no longer count
    }
    result_.poem.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    ++result_.chunks;
    if (!result_.first_byte) {
        result_.first_byte = at;
    }
    result_.last_byte = at;
    notify([&] { observer_.chunk(download_, chunk.size(), at); }, at);
}

void DownloadRecorder::end_of_stream(TimePoint at) {
    const std::size_t got = bytes();
    if (got == 0) {
        finish(DownloadStatus::failed, "connection closed before any poetry arrived", at);
    } else if (download_.expected_size && got < *download_.expected_size) {
        finish(DownloadStatus::partial,
               "connection closed after " + std::to_string(got) + " of " +
                   std::to_string(*download_.expected_size) + " bytes",
               at);
    } else if (download_.expected_size && got > *download_.expected_size) {
        finish(DownloadStatus::failed,
               "got " + std::to_string(got) + " bytes, more than the poem's " +
                   std::to_string(*download_.expected_size),
               at);
    } else {
        finish(DownloadStatus::complete, {}, at);
    }
}

void DownloadRecorder::fail(std::string_view reason, TimePoint at) {
    finish(bytes() > 0 ? DownloadStatus::partial : DownloadStatus::failed, std::string(reason), at);
}

void DownloadRecorder::interrupt(TimePoint at) {
    finish(DownloadStatus::interrupted, "interrupted", at);
}

void DownloadRecorder::finish(DownloadStatus status, std::string error, TimePoint at) {
    if (done_) {
        return;  // the first outcome stands (a timeout racing the end of the poem)
    }
    done_ = true;
    result_.status = status;
    result_.error = std::move(error);
    result_.finished = at;
    try {
        observer_.finished(download_, result_);
    } catch (...) {
        // The outcome is decided and the observer has had its say: nothing is left to fail.
    }
}

template <class Call>
void DownloadRecorder::notify(Call&& call, TimePoint at) {
    try {
        call();
    } catch (...) {
        fail(observer_failure(std::current_exception()), at);
    }
}

std::string inactivity_message(Seconds timeout) {
    char text[64];
    std::snprintf(text, sizeof(text), "no data for %.2f s", timeout.count());
    return text;
}

std::string observer_failure(const std::exception_ptr& error) {
    return "observer: " + describe_exception(error);
}

std::string failure_reason(std::string_view operation, const std::error_code& error) {
    return std::string(operation) + ": " + error.message();
}

}  // namespace poetry::client
