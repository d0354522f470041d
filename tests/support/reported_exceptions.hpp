// Collects what an EventLoop reports to its exception handler, as "message: what()" lines.
#pragma once

#include <exception>
#include <string>
#include <vector>

#include "poetry/loop/event_loop.hpp"

namespace poetry::test {

class ReportedExceptions {
public:
    /// Installs itself as `loop`'s exception handler; it must outlive the loop's runs.
    explicit ReportedExceptions(EventLoop& loop) {
        loop.set_exception_handler([this](const ExceptionContext& context) {
            try {
                std::rethrow_exception(context.exception);
            } catch (const std::exception& e) {
                lines_.push_back(context.message + ": " + e.what());
            } catch (...) {
                lines_.push_back(context.message + ": unknown exception");
            }
        });
    }

    [[nodiscard]] const std::vector<std::string>& lines() const noexcept { return lines_; }

private:
    std::vector<std::string> lines_;
};

}  // namespace poetry::test
