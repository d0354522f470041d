// Stopping a run part-way (Ctrl-C, SIGTERM) without losing what it has: every strategy sees the request,
// stops its downloads promptly, marks the unfinished ones interrupted with the bytes they have, and
// returns its results as usual, so that the reports and files still come out.
//
// The request comes from a signal handler, so request() does only what a handler may: atomic stores,
// write(2) on an eventfd, and shutdown(2) on the blocking sockets in use, which wakes a thread blocked in
// recv or connect on them (that is how the blocking, threads and processes strategies stop at once).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "poetry/detail/unique_fd.hpp"

namespace poetry::client {

class Interruption {
public:
    /// @throws std::system_error if the eventfd cannot be made.
    Interruption();
    Interruption(const Interruption&) = delete;
    Interruption& operator=(const Interruption&) = delete;
    ~Interruption();

    /// Asks every strategy to stop, for `signal` (0: not from a signal). Async-signal-safe.
    void request(int signal) noexcept;
    [[nodiscard]] bool requested() const noexcept { return requested_.load(std::memory_order_acquire); }
    /// The signal that asked, or 0.
    [[nodiscard]] int signal() const noexcept { return signal_.load(std::memory_order_acquire); }
    /// Readable once a stop is requested (never read, so it stays readable): for event loops.
    [[nodiscard]] int fd() const noexcept { return event_.get(); }

    /// In a child process (the processes strategy's workers) right after fork: the child's request()
    /// must not make the parent's fd readable, so the child lets go of its copy of it.
    void leave_fd_to_parent() noexcept;
    /// Whether this is a worker's copy (leave_fd_to_parent was called).
    [[nodiscard]] bool in_worker() const noexcept { return event_fd_.load(std::memory_order_acquire) < 0; }

    /// A blocking socket shut down when a stop is requested, for as long as this lives. If the stop
    /// came before, the socket is shut down at once. With no Interruption, it does nothing.
    class Watch {
    public:
        Watch(Interruption* interruption, int fd) noexcept;
        Watch(const Watch&) = delete;
        Watch& operator=(const Watch&) = delete;
        ~Watch();

    private:
        Interruption* interruption_;
        std::atomic<int>* slot_ = nullptr;
    };

private:
    // Slots for the fds of the blocking sockets in use (-1: free), in blocks that are only ever added,
    // never moved or freed while this lives, so that a signal handler can walk them at any moment.
    static constexpr std::size_t block_size = 256;
    struct Block {
        std::atomic<int> fds[block_size];
        std::atomic<Block*> next{nullptr};
        Block() noexcept;
    };

    std::atomic<int>* take_slot(int fd);
    void shut_down_watched() noexcept;

    std::atomic<bool> requested_{false};
    std::atomic<int> signal_{0};
    detail::UniqueFd event_;
    std::atomic<int> event_fd_;  // event_'s fd, or -1 in a worker: what request() writes to
    Block first_;
    std::mutex growing_;  // adding a block (never taken in a signal handler)
    std::vector<std::unique_ptr<Block>> extra_;
};

/// While it lives, the first SIGINT or SIGTERM requests a stop from `interruption`, and a second one
/// ends the process at once with 128 + the signal's number (a second Ctrl-C means "now"). The handlers
/// outlive fork, so the processes strategy's workers are stopped the same way. One at a time.
class InterruptOnSignals {
public:
    explicit InterruptOnSignals(Interruption& interruption);
    InterruptOnSignals(const InterruptOnSignals&) = delete;
    InterruptOnSignals& operator=(const InterruptOnSignals&) = delete;
    ~InterruptOnSignals();
};

}  // namespace poetry::client
