// The selector layer's one interface (CPython's selectors.BaseSelector): register fds for read and/or
// write readiness with opaque user data, and wait until some are ready. Backends (select, poll, epoll)
// implement only the OS calls; the key map, validation and rollback live here, written once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace poetry {

/// Readiness events, combinable with | and &.
enum class EventMask : std::uint8_t { none = 0, read = 1, write = 2, read_write = 3 };

constexpr EventMask operator|(EventMask a, EventMask b) noexcept {
    return static_cast<EventMask>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr EventMask operator&(EventMask a, EventMask b) noexcept {
    return static_cast<EventMask>(static_cast<std::uint8_t>(a) & static_cast<std::uint8_t>(b));
}
constexpr EventMask operator~(EventMask a) noexcept {
    return static_cast<EventMask>(~static_cast<std::uint8_t>(a) & 3U);
}
/// True if `mask` has any of the events in `events`.
constexpr bool has(EventMask mask, EventMask events) noexcept {
    return (mask & events) != EventMask::none;
}

/// A registration: the fd, the events it waits for and the caller's data (not owned).
struct SelectorKey {
    int fd = -1;
    EventMask events = EventMask::none;
    void* data = nullptr;
};

/// One ready fd from select(): its key and the ready events, always a subset of key.events.
struct SelectorEvent {
    SelectorKey key;
    EventMask events = EventMask::none;
};

class Selector {
public:
    /// Negative: block until something is ready; zero: poll; positive: wait at most this long,
    /// rounded up to the backend's resolution so that a timer is never woken early.
    using Timeout = std::chrono::nanoseconds;
    static constexpr Timeout block{-1};

    Selector() = default;
    Selector(const Selector&) = delete;
    Selector& operator=(const Selector&) = delete;
    Selector(Selector&&) = delete;
    Selector& operator=(Selector&&) = delete;
    virtual ~Selector() = default;

    /// Starts watching `fd` for `events`.
    /// @throws std::invalid_argument for a negative fd or no events; std::logic_error if `fd` is already
    ///         registered; std::system_error if the OS refuses (then nothing is registered).
    void register_fd(int fd, EventMask events, void* data = nullptr);
    /// Changes the events and data of a registered fd, and tells the OS even if the events are the same,
    /// so that a new fd that got the number of a closed one is watched. Same errors as register_fd
    /// (unknown fd: logic_error); if the OS refuses, the old registration stays.
    void modify_fd(int fd, EventMask events, void* data = nullptr);
    /// Stops watching `fd`. Call it before closing the fd. @throws std::logic_error if not registered.
    /// An fd closed while registered is never reported, on every backend (epoll drops it from its set,
    /// select and poll set it aside when they meet it): its key stays until unregister_fd, and
    /// modify_fd on its number watches whatever fd has that number then.
    void unregister_fd(int fd);

    /// Waits for readiness. An interrupted wait (EINTR) returns no events. The result is valid until the
    /// next call on this selector and lists each ready fd once.
    std::span<const SelectorEvent> select(Timeout timeout = block);

    /// The key of `fd`, or nullptr.
    [[nodiscard]] const SelectorKey* get_key(int fd) const noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }
    /// "select", "poll" or "epoll".
    [[nodiscard]] virtual std::string_view name() const noexcept = 0;

protected:
    // The backend half. Each may throw std::system_error (or invalid_argument for limits it cannot take);
    // the base class keeps keys_ unchanged when they do.
    virtual void backend_register(int fd, EventMask events) = 0;
    virtual void backend_modify(int fd, EventMask old_events, EventMask events) = 0;
    virtual void backend_unregister(int fd, EventMask events) noexcept = 0;
    /// Appends (fd, ready events) pairs to `ready`; events may include ones the key did not ask for
    /// (poll's POLLHUP), the base class masks them. Returns without events on EINTR.
    virtual void backend_select(Timeout timeout, std::vector<std::pair<int, EventMask>>& ready) = 0;

private:
    std::unordered_map<int, SelectorKey> keys_;
    std::vector<std::pair<int, EventMask>> raw_ready_;
    std::vector<SelectorEvent> ready_;
};

/// The names make_selector() accepts besides "auto": {"select", "poll", "epoll"} on Linux.
std::span<const std::string_view> selector_names() noexcept;

/// Creates a selector by name: "auto" (the best for this OS: epoll on Linux), "select", "poll", "epoll".
/// @throws std::invalid_argument naming the valid choices for anything else.
std::unique_ptr<Selector> make_selector(std::string_view name = "auto");

}  // namespace poetry
