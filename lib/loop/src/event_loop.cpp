#include "poetry/loop/event_loop.hpp"

#include <algorithm>
#include <iostream>

#include "poetry/loop/mailbox.hpp"
#include "poetry/loop/resolver.hpp"

namespace poetry {
namespace {

// The heap holds the earliest timer at the front; ties go to the one scheduled first.
struct LaterTimer {
    template <class Timer>
    bool operator()(const Timer& a, const Timer& b) const noexcept {
        return a.when != b.when ? a.when > b.when : a.sequence > b.sequence;
    }
};

// asyncio's figures: rebuild the heap once more than half of more than 100 timers are cancelled,
// so that a client re-arming a timeout per chunk cannot grow the heap without bound.
constexpr std::size_t min_timers_to_compact = 100;

std::string describe(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace

// Marks the loop as running for the lifetime of one run_forever, even if the selector throws.
struct EventLoop::RunningGuard {
    explicit RunningGuard(EventLoop& loop) : loop_(loop) {
        if (loop_.running_) {
            throw std::logic_error("event loop is already running");
        }
        loop_.running_ = true;
        loop_.running_thread_.store(std::this_thread::get_id(), std::memory_order_release);
    }
    ~RunningGuard() {
        loop_.running_thread_.store(std::thread::id(), std::memory_order_release);
        loop_.running_ = false;
        loop_.stopping_ = false;
    }
    RunningGuard(const RunningGuard&) = delete;
    RunningGuard& operator=(const RunningGuard&) = delete;

private:
    EventLoop& loop_;
};

EventLoop::EventLoop(std::unique_ptr<Selector> selector, ClockFunction clock)
    : selector_(std::move(selector)), clock_(std::move(clock)) {
    if (!selector_) {
        throw std::invalid_argument("EventLoop needs a selector");
    }
}

EventLoop::~EventLoop() {
    // Resolutions first: those not started are cancelled (their done-callbacks are scheduled, and
    // destroyed below with the rest); threads inside getaddrinfo are not waited for (resolver.hpp).
    resolver_.reset();
    // Then the mailbox: threads that post from now on find it closed (their callbacks are dropped on
    // their side), and what was posted but never ran is destroyed below, on this thread.
    std::vector<Callback> posted;
    if (mailbox_) {
        open_mailbox_.store(nullptr, std::memory_order_release);
        selector_->unregister_fd(mailbox_->fd());
        posted = mailbox_->close();
        mailbox_.reset();
    }
    // Objects kept alive and pending callbacks may own tasks whose awaitables unregister from this loop
    // as they are destroyed: destroy them now, while every member is still whole. Destroying them may
    // schedule more, so repeat until nothing is left.
    while (!at_destruction_.empty() || !kept_alive_.empty() || !ready_.empty() || !timers_.empty() ||
           !posted.empty()) {
        // One at a time from the live map: a callback may destroy the owner of another one, which
        // then cancels it.
        while (!at_destruction_.empty()) {
            auto node = at_destruction_.extract(at_destruction_.begin());
            node.mapped()();
        }
        auto kept = std::move(kept_alive_);
        kept_alive_.clear();
        auto ready = std::move(ready_);
        ready_.clear();
        auto timers = std::move(timers_);
        timers_.clear();
        // Handles given out may outlive the loop: they must not tell it about cancellations any more.
        for (auto& timer : timers) {
            timer.state->timer_loop = nullptr;
        }
        kept.clear();
        ready.clear();
        timers.clear();
        posted.clear();  // the mailbox is closed: nothing adds to it
    }
}

std::uint64_t EventLoop::keep_alive(std::shared_ptr<void> object) {
    const std::uint64_t id = next_keep_id_++;
    kept_alive_.emplace(id, std::move(object));
    return id;
}

void EventLoop::release(std::uint64_t id) noexcept {
    const auto it = kept_alive_.find(id);
    if (it != kept_alive_.end()) {
        auto object = std::move(it->second);  // destroyed after the erase: it may call back into the loop
        kept_alive_.erase(it);
    }
}

std::uint64_t EventLoop::at_destruction(Callback callback) {
    const std::uint64_t id = next_keep_id_++;
    at_destruction_.emplace(id, std::move(callback));
    return id;
}

void EventLoop::cancel_at_destruction(std::uint64_t id) noexcept {
    at_destruction_.erase(id);
}

bool EventLoop::has_reader(int fd) const noexcept {
    const auto it = fd_callbacks_.find(fd);
    return it != fd_callbacks_.end() && it->second.reader != nullptr;
}

bool EventLoop::has_writer(int fd) const noexcept {
    const auto it = fd_callbacks_.find(fd);
    return it != fd_callbacks_.end() && it->second.writer != nullptr;
}

Handle EventLoop::call_soon(Callback callback) {
    auto state = std::make_shared<detail::HandleState>(std::move(callback));
    ready_.push_back(state);
    return Handle(std::move(state));
}

void EventLoop::call_soon_threadsafe(Callback callback) {
    Mailbox* open = open_mailbox_.load(std::memory_order_acquire);
    if (open == nullptr) {
        const std::thread::id runner = running_thread_.load(std::memory_order_acquire);
        if (runner != std::thread::id() && runner != std::this_thread::get_id()) {
            throw std::logic_error(
                "call_soon_threadsafe from another thread before the loop's mailbox is open: open it "
                "on the loop's thread first (EventLoop::mailbox())");
        }
        open = mailbox().get();
    }
    open->post(std::move(callback));
}

std::shared_ptr<Mailbox> EventLoop::mailbox() {
    if (!mailbox_) {
        auto opened = std::make_shared<Mailbox>(Mailbox::Key{});
        // The key's data tells run_once that this fd is the mailbox, not a reader (see there).
        selector_->register_fd(opened->fd(), EventMask::read, opened.get());
        mailbox_ = std::move(opened);
        open_mailbox_.store(mailbox_.get(), std::memory_order_release);
    }
    return mailbox_;
}

Resolver& EventLoop::resolver() {
    if (!resolver_) {
        resolver_ = std::make_unique<Resolver>(*this);
    }
    return *resolver_;
}

void EventLoop::take_posted() {
    for (Callback& callback : mailbox_->take()) {
        ready_.push_back(std::make_shared<detail::HandleState>(std::move(callback)));
    }
}

TimerHandle EventLoop::call_at(TimePoint when, Callback callback) {
    auto state = std::make_shared<detail::HandleState>(std::move(callback));
    state->when = when;
    state->timer_loop = this;
    timers_.push_back(Timer{when, next_sequence_++, state});
    std::push_heap(timers_.begin(), timers_.end(), LaterTimer{});
    return TimerHandle(std::move(state));
}

void EventLoop::add_reader(int fd, Callback callback) {
    add_fd_callback(fd, EventMask::read, std::move(callback));
}
bool EventLoop::remove_reader(int fd) noexcept {
    return remove_fd_callback(fd, EventMask::read);
}
void EventLoop::add_writer(int fd, Callback callback) {
    add_fd_callback(fd, EventMask::write, std::move(callback));
}
bool EventLoop::remove_writer(int fd) noexcept {
    return remove_fd_callback(fd, EventMask::write);
}

void EventLoop::add_fd_callback(int fd, EventMask event, Callback callback) {
    auto state = std::make_shared<detail::HandleState>(std::move(callback));
    auto [it, inserted] = fd_callbacks_.try_emplace(fd);
    FdCallbacks& entry = it->second;
    auto& slot = event == EventMask::read ? entry.reader : entry.writer;
    try {
        if (inserted) {
            selector_->register_fd(fd, event, &entry);
        } else {
            // Also when replacing a callback: the fd may be a new one with a closed one's number, which
            // epoll must be told about (see docs/library.md, "closing a watched fd").
            selector_->modify_fd(fd, selector_->get_key(fd)->events | event, &entry);
        }
    } catch (...) {
        if (inserted) {
            fd_callbacks_.erase(it);
        }
        throw;
    }
    if (slot) {
        slot->cancelled = true;
    }
    slot = std::move(state);
}

bool EventLoop::remove_fd_callback(int fd, EventMask event) noexcept {
    const auto it = fd_callbacks_.find(fd);
    if (it == fd_callbacks_.end()) {
        return false;
    }
    FdCallbacks& entry = it->second;
    auto& slot = event == EventMask::read ? entry.reader : entry.writer;
    auto& other = event == EventMask::read ? entry.writer : entry.reader;
    if (!slot) {
        return false;
    }
    // A handle already queued in ready_ for this iteration must not run any more.
    slot->cancelled = true;
    slot.reset();
    if (other) {
        try {
            selector_->modify_fd(fd, event == EventMask::read ? EventMask::write : EventMask::read, &entry);
            return true;
        } catch (...) {
            // The OS no longer knows the fd (closed while registered): its other callback could never
            // run again, and leaving the old interest behind could make the loop spin. Drop the fd.
            other->cancelled = true;
        }
    }
    // Cannot throw: the key exists (the loop registered it), and backends' unregister never throws.
    selector_->unregister_fd(fd);
    fd_callbacks_.erase(it);
    return true;
}

void EventLoop::timer_cancelled() noexcept {
    ++cancelled_timers_;
}

void EventLoop::drop_cancelled_timers() {
    if (timers_.size() > min_timers_to_compact && cancelled_timers_ * 2 > timers_.size()) {
        std::erase_if(timers_, [](const Timer& timer) {
            if (timer.state->cancelled) {
                timer.state->timer_loop = nullptr;
            }
            return timer.state->cancelled;
        });
        std::make_heap(timers_.begin(), timers_.end(), LaterTimer{});
        cancelled_timers_ = 0;
        return;
    }
    while (!timers_.empty() && timers_.front().state->cancelled) {
        timers_.front().state->timer_loop = nullptr;
        std::pop_heap(timers_.begin(), timers_.end(), LaterTimer{});
        timers_.pop_back();
        --cancelled_timers_;
    }
}

Selector::Timeout EventLoop::next_timeout() const {
    if (!ready_.empty() || stopping_) {
        return Selector::Timeout::zero();
    }
    if (timers_.empty() && timer_heap_.empty()) {
        return Selector::block;
    }
    TimePoint earliest = TimePoint::max();
    if (!timers_.empty()) {
        earliest = timers_.front().when;
    }
    if (!timer_heap_.empty()) {
        earliest = std::min(earliest, timer_heap_.earliest());
    }
    const auto wait = earliest - time();
    return wait > Clock::duration::zero() ? std::chrono::duration_cast<Selector::Timeout>(wait)
                                          : Selector::Timeout::zero();
}

void EventLoop::run_once() {
    drop_cancelled_timers();

    for (const SelectorEvent& event : selector_->select(next_timeout())) {
        if (mailbox_ && event.key.data == mailbox_.get()) {
            take_posted();  // they run in this pass, in the order they were posted
            continue;
        }
        // The key's data is the FdCallbacks entry: it exists, because nothing ran since select().
        const auto& entry = *static_cast<const FdCallbacks*>(event.key.data);
        if (has(event.events, EventMask::read) && entry.reader) {
            ready_.push_back(entry.reader);
        }
        if (has(event.events, EventMask::write) && entry.writer) {
            ready_.push_back(entry.writer);
        }
    }

    const TimePoint now = time();
    while (!timers_.empty()) {
        Timer& earliest = timers_.front();
        if (!earliest.state->cancelled && earliest.when > now) {
            break;
        }
        if (earliest.state->cancelled) {
            --cancelled_timers_;
        } else {
            ready_.push_back(earliest.state);
        }
        earliest.state->timer_loop = nullptr;
        std::pop_heap(timers_.begin(), timers_.end(), LaterTimer{});
        timers_.pop_back();
    }

    // Only the callbacks ready now run in this pass; those they schedule wait for the next one,
    // so that a callback re-scheduling itself cannot starve I/O. Due Timers first: a paced sender's
    // schedule should not wait behind a burst of I/O callbacks.
    std::size_t todo = ready_.size();
    timer_heap_.collect_due(now);
    timer_heap_.run_due([this](const Callback& callback) { run_callback(callback); });
    for (; todo > 0; --todo) {
        std::shared_ptr<detail::HandleState> handle = std::move(ready_.front());
        ready_.pop_front();
        if (!handle->cancelled) {
            run_handle(*handle);
        }
    }
}

void EventLoop::run_forever() {
    RunningGuard guard(*this);
    while (true) {
        run_once();
        if (stopping_) {
            break;
        }
    }
}

void EventLoop::run_handle(detail::HandleState& handle) noexcept {
    run_callback(handle.callback);
}

void EventLoop::run_callback(const Callback& callback) noexcept {
    try {
        callback();
    } catch (...) {
        call_exception_handler({"exception in callback", std::current_exception()});
    }
}

void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
    if (exception_handler_) {
        try {
            exception_handler_(context);
            return;
        } catch (...) {
            std::cerr << "poetry: exception in the event loop's exception handler: "
                      << describe(std::current_exception()) << '\n';
        }
    }
    std::cerr << "poetry: " << context.message;
    if (context.exception) {
        std::cerr << ": " << describe(context.exception);
    }
    std::cerr << '\n';
}

}  // namespace poetry
