// A flag that one thread raises and others wait for, with a limit on the wait (std::latch has none,
// and a test that waits for something broken must fail, not hang). Share it through a shared_ptr with
// code that may outlive the test case, such as a resolver's lookup still running on its thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace poetry::test {

class ThreadFlag {
public:
    void raise() {
        {
            const std::lock_guard lock(mutex_);
            raised_ = true;
        }
        changed_.notify_all();
    }
    /// True once raised; false if `limit` passed first.
    bool wait_for(std::chrono::steady_clock::duration limit) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, limit, [this] { return raised_; });
    }
    [[nodiscard]] bool raised() {
        const std::lock_guard lock(mutex_);
        return raised_;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool raised_ = false;
};

}  // namespace poetry::test
