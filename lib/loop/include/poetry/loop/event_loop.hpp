// The callback layer's event loop (asyncio's BaseEventLoop + selector_events): a Selector for fd
// readiness, a heap of timers, and a FIFO of ready callbacks. Single-threaded: every method is called
// from the thread that runs the loop, except call_soon_threadsafe (and the Mailbox behind it), the one
// way in for other threads. There is no global loop; whoever needs one is given one.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "poetry/loop/handle.hpp"
#include "poetry/loop/timer.hpp"
#include "poetry/selectors/selector.hpp"

namespace poetry {

class Mailbox;   // mailbox.hpp
class Resolver;  // resolver.hpp

/// What went wrong in a callback, for the loop's exception handler.
struct ExceptionContext {
    std::string message;
    std::exception_ptr exception;
};

class EventLoop {
public:
    using ClockFunction = std::function<TimePoint()>;
    using ExceptionHandler = std::function<void(const ExceptionContext&)>;

    /// A loop on `selector` (default: the best for this OS). `clock` replaces Clock::now, for tests
    /// that run on virtual time.
    explicit EventLoop(std::unique_ptr<Selector> selector = make_selector(), ClockFunction clock = {});
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    ~EventLoop();

    /// Runs `callback` on the next iteration, after the callbacks already scheduled (FIFO).
    Handle call_soon(Callback callback);

    /// Any thread: runs `callback` on the loop's thread in a later iteration, after the callbacks
    /// posted before it (FIFO), and wakes the loop if it is waiting in select. The loop must exist until
    /// this returns; a thread that may outlive it posts to mailbox() instead. Called first on the
    /// loop's thread (or before the loop runs), it opens the mailbox; another thread cannot, because
    /// opening registers an fd with the selector, which the loop's thread may be waiting in.
    /// @throws std::logic_error from another thread while run_forever() runs and the mailbox is not
    ///         open (a loop driven by run_once() alone cannot tell); what mailbox() throws when it opens it.
    void call_soon_threadsafe(Callback callback);
    /// The loop's thread: the loop's Mailbox, opened at the first call, so that a loop that never
    /// hears from another thread has no fd for it. Its eventfd is registered with the selector (one key
    /// more in selector().size() from then on). The loop closes it in its destructor.
    /// @throws std::system_error if the fd cannot be made; what the selector throws for it (select:
    ///         an fd at or above FD_SETSIZE). Then nothing is open, and a later call tries again.
    std::shared_ptr<Mailbox> mailbox();

    /// The loop's resolver (resolver.hpp), made at the first call: a loop that never resolves a host
    /// name starts no thread for it.
    Resolver& resolver();

    /// Runs `callback` once `delay` has passed (rounded up to the clock's tick; a delay too long for
    /// the clock, such as hours::max(), means never).
    template <class Rep, class Period>
    TimerHandle call_later(std::chrono::duration<Rep, Period> delay, Callback callback) {
        return call_at(deadline_after(time(), saturating_duration(delay)), std::move(callback));
    }
    /// Runs `callback` at `when`; timers with the same deadline run in the order they were scheduled.
    /// (For a timer armed again and again, a Timer object allocates nothing: see timer.hpp. Due Timer
    /// objects run first in each pass, then the other callbacks that were ready.)
    TimerHandle call_at(TimePoint when, Callback callback);

    /// The loop's notion of now.
    [[nodiscard]] TimePoint time() const { return clock_ ? clock_() : Clock::now(); }

    /// Calls `callback` every time `fd` is readable, until remove_reader. Replaces an earlier reader.
    /// @throws what the selector throws (e.g. select's FD_SETSIZE limit); then nothing changes.
    void add_reader(int fd, Callback callback);
    /// @returns false if `fd` had no reader. Never throws: if the OS refuses to keep watching the fd
    /// for the other direction (it was closed while registered), the fd is dropped altogether.
    bool remove_reader(int fd) noexcept;
    void add_writer(int fd, Callback callback);
    bool remove_writer(int fd) noexcept;
    [[nodiscard]] bool has_reader(int fd) const noexcept;
    [[nodiscard]] bool has_writer(int fd) const noexcept;

    /// Keeps `object` alive until release(id) or the loop's destruction, whichever comes first (for
    /// work that runs on its own, such as spawned tasks). Destroyed first when the loop goes, while
    /// the loop is still whole. @returns the id for release().
    std::uint64_t keep_alive(std::shared_ptr<void> object);
    void release(std::uint64_t id) noexcept;

    /// Calls `callback` when the loop is destroyed, first thing, while the loop is still whole: for work
    /// owned outside the loop that still depends on it (a create_task future that outlives its loop
    /// destroys its task here, while the task's awaitables can still take back their readers and
    /// timers). @returns the id for cancel_at_destruction().
    std::uint64_t at_destruction(Callback callback);
    /// The callback will not be called. Only while the loop exists.
    void cancel_at_destruction(std::uint64_t id) noexcept;

    /// Runs until stop() is called.
    void run_forever();
    /// One iteration: wait for I/O or the next timer, then run the callbacks that were ready before it
    /// began (callbacks they schedule run in the next iteration).
    void run_once();
    /// Makes run_forever() return after the current iteration. Called from a callback.
    void stop() noexcept { stopping_ = true; }
    [[nodiscard]] bool is_running() const noexcept { return running_; }

    /// Runs the loop until `future` (a Future, or anything with add_done_callback/remove_done_callback/
    /// done/take_result) is done, and returns its take_result().
    /// @throws the future's exception; std::runtime_error if the loop was stopped before it was done.
    template <class FutureLike>
    auto run_until_complete(FutureLike&& future);

    /// Replaces the handler for exceptions that escape callbacks (default: one line on stderr).
    void set_exception_handler(ExceptionHandler handler) { exception_handler_ = std::move(handler); }
    /// Reports an exception to the handler; never throws (a throwing handler is reported on stderr).
    void call_exception_handler(const ExceptionContext& context) noexcept;

    /// The loop's selector, to look at (the loop owns its registrations and their data).
    [[nodiscard]] const Selector& selector() const noexcept { return *selector_; }
    /// Timers in the heap, including cancelled ones not yet dropped (for tests and diagnostics).
    [[nodiscard]] std::size_t timer_count() const noexcept { return timers_.size(); }
    /// Timer objects armed now (for tests and diagnostics).
    [[nodiscard]] std::size_t armed_timers() const noexcept { return timer_heap_.size(); }

private:
    friend class Handle;
    friend class Timer;

    struct FdCallbacks {
        std::shared_ptr<detail::HandleState> reader;
        std::shared_ptr<detail::HandleState> writer;
    };
    struct Timer {
        TimePoint when;
        std::uint64_t sequence;  // FIFO among equal deadlines
        std::shared_ptr<detail::HandleState> state;
    };
    struct RunningGuard;

    void add_fd_callback(int fd, EventMask event, Callback callback);
    bool remove_fd_callback(int fd, EventMask event) noexcept;
    void timer_cancelled() noexcept;
    void drop_cancelled_timers();
    Selector::Timeout next_timeout() const;
    void run_handle(detail::HandleState& handle) noexcept;
    void run_callback(const Callback& callback) noexcept;
    void take_posted();
    detail::TimerHeap& timer_heap() noexcept { return timer_heap_; }

    std::unique_ptr<Selector> selector_;
    ClockFunction clock_;
    ExceptionHandler exception_handler_;
    std::deque<std::shared_ptr<detail::HandleState>> ready_;
    std::vector<Timer> timers_;  // a min-heap on (when, sequence)
    std::size_t cancelled_timers_ = 0;
    std::uint64_t next_sequence_ = 0;
    // Node-based: each FdCallbacks stays put while it exists, so its address is the selector key's data.
    std::unordered_map<int, FdCallbacks> fd_callbacks_;
    std::unordered_map<std::uint64_t, std::shared_ptr<void>> kept_alive_;
    std::unordered_map<std::uint64_t, Callback> at_destruction_;
    // Timers that still exist when the loop goes are detached by the heap's destructor, after the
    // destructor's body has destroyed what the loop kept alive (and the timers those owned).
    detail::TimerHeap timer_heap_;
    std::uint64_t next_keep_id_ = 1;
    bool running_ = false;
    bool stopping_ = false;
    // The loop's side of the mailbox, and what other threads read of it: whether it is open (null
    // until then, and again once the destructor closes it) and which thread runs the loop (none while
    // it does not run), to refuse a first call_soon_threadsafe that could not safely open it.
    std::shared_ptr<Mailbox> mailbox_;
    std::atomic<Mailbox*> open_mailbox_{nullptr};
    std::atomic<std::thread::id> running_thread_{};
    std::unique_ptr<Resolver> resolver_;
};

template <class FutureLike>
auto EventLoop::run_until_complete(FutureLike&& future) {
    // Removed however run_forever() ends, or a later completion would stop a later run.
    struct StopCallback {
        FutureLike& future;
        std::uint64_t id;
        ~StopCallback() { future.remove_done_callback(id); }
    } stop_callback{future, future.add_done_callback([this](auto&) { stop(); })};
    run_forever();
    if (!future.done()) {
        throw std::runtime_error("event loop stopped before the future completed");
    }
    return future.take_result();
}

}  // namespace poetry
