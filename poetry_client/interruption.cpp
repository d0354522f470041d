#include "interruption.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <system_error>

namespace poetry::client {
namespace {

// The one piece of process-wide state in the client: a signal handler can reach nothing else. Set
// and cleared only by InterruptOnSignals.
std::atomic<Interruption*> interrupted_by_signals{nullptr};

}  // namespace

Interruption::Block::Block() noexcept {
    for (auto& fd : fds) {
        fd.store(-1, std::memory_order_relaxed);
    }
}

Interruption::Interruption() : event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), event_fd_(event_.get()) {
    if (!event_) {
        throw std::system_error(errno, std::generic_category(), "eventfd for interruptions");
    }
}

Interruption::~Interruption() = default;

void Interruption::request(int signal) noexcept {
    signal_.store(signal, std::memory_order_release);
    requested_.store(true, std::memory_order_release);
    if (const int fd = event_fd_.load(std::memory_order_acquire); fd >= 0) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto written = ::write(fd, &one, sizeof(one));  // EAGAIN: readable already
    }
    shut_down_watched();
}

void Interruption::leave_fd_to_parent() noexcept {
    event_fd_.store(-1, std::memory_order_release);
}

void Interruption::shut_down_watched() noexcept {
    // An fd read here may have been closed and reused since: then another socket of this run is shut
    // down, one that the same request is stopping anyway, or a non-socket gets ENOTSOCK. Both harmless.
    for (Block* block = &first_; block != nullptr; block = block->next.load(std::memory_order_acquire)) {
        for (auto& slot : block->fds) {
            if (const int fd = slot.load(std::memory_order_acquire); fd >= 0) {
                ::shutdown(fd, SHUT_RDWR);
            }
        }
    }
}

std::atomic<int>* Interruption::take_slot(int fd) {
    for (Block* block = &first_;; block = block->next.load(std::memory_order_acquire)) {
        for (auto& slot : block->fds) {
            int free = -1;
            if (slot.compare_exchange_strong(free, fd, std::memory_order_acq_rel)) {
                return &slot;
            }
        }
        if (block->next.load(std::memory_order_acquire) == nullptr) {
            const std::scoped_lock lock(growing_);
            if (block->next.load(std::memory_order_acquire) == nullptr) {
                // Owned by extra_, linked by a plain pointer that the handler can follow: a block
                // never moves (the vector moves only the unique_ptrs) and lives as long as this.
                block->next.store(extra_.emplace_back(std::make_unique<Block>()).get(),
                                  std::memory_order_release);
            }
        }
    }
}

Interruption::Watch::Watch(Interruption* interruption, int fd) noexcept : interruption_(interruption) {
    if (interruption_ == nullptr || fd < 0) {
        return;
    }
    try {
        slot_ = interruption_->take_slot(fd);
    } catch (...) {
        slot_ = nullptr;  // out of memory: this socket stops when its recv returns, not at once
    }
    // A request that came before the slot was taken did not see it.
    if (interruption_->requested()) {
        ::shutdown(fd, SHUT_RDWR);
    }
}

Interruption::Watch::~Watch() {
    if (slot_ != nullptr) {
        slot_->store(-1, std::memory_order_release);
    }
}

namespace {

struct sigaction previous_int{};
struct sigaction previous_term{};

extern "C" void on_signal(int signal) {
    Interruption* interruption = interrupted_by_signals.load(std::memory_order_acquire);
    if (interruption == nullptr) {
        return;
    }
    if (interruption->requested() && !interruption->in_worker()) {
        // A second signal: stop now. (Not in a worker, which the parent's SIGTERM and the terminal's
        // SIGINT can both reach: it finishes its interrupted download and reports it.)
        ::_exit(128 + signal);
    }
    interruption->request(signal);
}

}  // namespace

InterruptOnSignals::InterruptOnSignals(Interruption& interruption) {
    Interruption* none = nullptr;
    if (!interrupted_by_signals.compare_exchange_strong(none, &interruption)) {
        throw std::logic_error("InterruptOnSignals: one at a time");
    }
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // recv and poll are woken by shutdown(2), not by EINTR
    ::sigaction(SIGINT, &action, &previous_int);
    ::sigaction(SIGTERM, &action, &previous_term);
}

InterruptOnSignals::~InterruptOnSignals() {
    ::sigaction(SIGINT, &previous_int, nullptr);
    ::sigaction(SIGTERM, &previous_term, nullptr);
    interrupted_by_signals.store(nullptr, std::memory_order_release);
}

}  // namespace poetry::client
