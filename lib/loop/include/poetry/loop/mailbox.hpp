// The thread-safe way into an EventLoop (what stands behind asyncio's call_soon_threadsafe, libuv's
// uv_async_t): other threads post callbacks, and the loop runs them on its own thread in the order
// they were posted. A mutex guards the queue; an eventfd (a pipe where there is none) that the loop's
// selector watches wakes the loop when something arrives. A thread that may outlive the loop keeps the
// mailbox, never the loop: the loop closes it as it goes, and what is posted after that is dropped.
#pragma once

#include <mutex>
#include <vector>

#include "poetry/detail/unique_fd.hpp"
#include "poetry/loop/handle.hpp"

namespace poetry {

class Mailbox {
    // Only the loop makes mailboxes (EventLoop::mailbox()), since only it can watch the fd.
    class Key {
        friend class EventLoop;
        Key() = default;
    };

public:
    /// Opens the wake-up fd. @throws std::system_error if it cannot (out of fds, for instance).
    explicit Mailbox(Key);
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;
    ~Mailbox();

    /// Any thread: queues `callback` for the loop's thread and wakes the loop.
    /// @returns false if the loop has gone (the mailbox is closed): the callback never runs, and is
    ///          destroyed here, on the calling thread, so it must not own anything of the loop's.
    bool post(Callback callback);

    [[nodiscard]] bool closed() const;

private:
    friend class EventLoop;

    /// The fd the loop watches for reading.
    [[nodiscard]] int fd() const noexcept { return wake_read_.get(); }
    /// The loop's side: what was posted, oldest first; consumes the wake-up.
    std::vector<Callback> take();
    /// The loop's side, as it goes: later posts fail, the fd closes (the loop has unregistered it).
    /// @returns what was posted and never taken, for the loop to destroy on its own thread.
    std::vector<Callback> close();

    mutable std::mutex mutex_;
    std::vector<Callback> posted_;
    bool wake_pending_ = false;  // written and not yet read: one write wakes the loop for many posts
    bool closed_ = false;
    detail::UniqueFd wake_read_;
    detail::UniqueFd wake_write_;  // the pipe's write end; empty for an eventfd (one fd for both ends)
};

}  // namespace poetry
