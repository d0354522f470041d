// What escapes a callback of a strategy's event loop. Observers cannot throw into it (DownloadRecorder
// turns that into a failed download), so it is a bug in the strategy, or std::bad_alloc. The library's
// default handler would write it on stderr and leave its download stuck until a limit passed; a
// strategy ends the run with it instead, as one error for the program to report.
#pragma once

#include <exception>
#include <stdexcept>

#include "poetry/loop/event_loop.hpp"

namespace poetry::client {

class LoopErrors {
public:
    /// Installs itself as `loop`'s exception handler: the first exception stops the loop.
    explicit LoopErrors(EventLoop& loop) {
        loop.set_exception_handler([this, &loop](const ExceptionContext& context) {
            if (!first_) {
                first_ = context.exception ? context.exception
                                           : std::make_exception_ptr(std::runtime_error(context.message));
            }
            loop.stop();
        });
    }
    LoopErrors(const LoopErrors&) = delete;
    LoopErrors& operator=(const LoopErrors&) = delete;

    /// @throws the first exception that escaped a callback, if one did.
    void rethrow_if_any() const {
        if (first_) {
            std::rethrow_exception(first_);
        }
    }

private:
    std::exception_ptr first_;
};

}  // namespace poetry::client
