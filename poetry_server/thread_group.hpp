// Threads started one per client and joined without a list that grows for the server's lifetime.
#pragma once

#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace poetry::server {

class ThreadGroup {
public:
    ThreadGroup() = default;
    ThreadGroup(const ThreadGroup&) = delete;
    ThreadGroup& operator=(const ThreadGroup&) = delete;
    ~ThreadGroup() { join_all(); }

    /// Runs `work` on a new thread. Threads that have finished are joined here, so the group holds
    /// only the running ones. @throws std::system_error if no thread can be started.
    void spawn(std::function<void()> work);
    /// Waits for every thread to finish and joins it.
    void join_all();

private:
    void join_finished(std::unique_lock<std::mutex>& lock);

    std::mutex mutex_;
    std::condition_variable finished_one_;
    std::list<std::thread> running_;
    std::vector<std::thread> finished_;
};

}  // namespace poetry::server
