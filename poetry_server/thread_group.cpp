#include "thread_group.hpp"

namespace poetry::server {

void ThreadGroup::spawn(std::function<void()> work) {
    std::unique_lock lock(mutex_);
    join_finished(lock);
    running_.emplace_back();
    const auto slot = std::prev(running_.end());
    try {
        // The lock is held until the thread is in its slot; its epilogue needs the lock, so it cannot
        // move itself out of the slot before it is there.
        *slot = std::thread([this, slot, work = std::move(work)] {
            work();
            const std::lock_guard epilogue(mutex_);
            finished_.push_back(std::move(*slot));
            running_.erase(slot);
            finished_one_.notify_all();
        });
    } catch (...) {
        running_.erase(slot);
        throw;
    }
}

void ThreadGroup::join_finished(std::unique_lock<std::mutex>& lock) {
    // A finished thread has left its function, or is about to: joining it takes no time. It is joined
    // without the lock, which its last step (releasing the lock) may still need.
    std::vector<std::thread> done = std::move(finished_);
    finished_.clear();
    lock.unlock();
    for (auto& thread : done) {
        thread.join();
    }
    lock.lock();
}

void ThreadGroup::join_all() {
    std::unique_lock lock(mutex_);
    for (;;) {
        join_finished(lock);
        if (running_.empty() && finished_.empty()) {
            return;
        }
        finished_one_.wait(lock, [this] { return !finished_.empty(); });
    }
}

}  // namespace poetry::server
