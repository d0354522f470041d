#include "poetry/selectors/selector.hpp"

#include <array>
#include <stdexcept>
#include <string>

#include "poetry/selectors/epoll_selector.hpp"
#include "poetry/selectors/poll_selector.hpp"
#include "poetry/selectors/select_selector.hpp"

namespace poetry {
namespace {

void check_arguments(int fd, EventMask events) {
    if (fd < 0) {
        throw std::invalid_argument("selector: invalid fd " + std::to_string(fd));
    }
    // Compared with &, not ~: operator~ keeps only the known bits, so it cannot reveal unknown ones.
    if (events == EventMask::none || (events & EventMask::read_write) != events) {
        throw std::invalid_argument("selector: fd " + std::to_string(fd) + " needs read and/or write events");
    }
}

}  // namespace

void Selector::register_fd(int fd, EventMask events, void* data) {
    check_arguments(fd, events);
    if (keys_.contains(fd)) {
        throw std::logic_error("selector: fd " + std::to_string(fd) + " is already registered");
    }
    // Reserve the key first so that a failure below leaves nothing behind in either place.
    auto [it, inserted] = keys_.emplace(fd, SelectorKey{fd, events, data});
    try {
        backend_register(fd, events);
    } catch (...) {
        keys_.erase(it);
        throw;
    }
}

void Selector::modify_fd(int fd, EventMask events, void* data) {
    check_arguments(fd, events);
    const auto it = keys_.find(fd);
    if (it == keys_.end()) {
        throw std::logic_error("selector: fd " + std::to_string(fd) + " is not registered");
    }
    // Even with the same events: the number may now name a new fd that the OS must be told about
    // (epoll forgot the closed one; select and poll parked it).
    backend_modify(fd, it->second.events, events);
    it->second.events = events;
    it->second.data = data;
}

void Selector::unregister_fd(int fd) {
    const auto it = keys_.find(fd);
    if (it == keys_.end()) {
        throw std::logic_error("selector: fd " + std::to_string(fd) + " is not registered");
    }
    backend_unregister(fd, it->second.events);
    keys_.erase(it);
}

std::span<const SelectorEvent> Selector::select(Timeout timeout) {
    raw_ready_.clear();
    ready_.clear();
    backend_select(timeout, raw_ready_);
    for (const auto& [fd, events] : raw_ready_) {
        const auto it = keys_.find(fd);
        if (it == keys_.end()) {
            continue;
        }
        const EventMask wanted = events & it->second.events;
        if (wanted != EventMask::none) {
            ready_.push_back(SelectorEvent{it->second, wanted});
        }
    }
    return ready_;
}

const SelectorKey* Selector::get_key(int fd) const noexcept {
    const auto it = keys_.find(fd);
    return it == keys_.end() ? nullptr : &it->second;
}

std::span<const std::string_view> selector_names() noexcept {
    static constexpr std::array<std::string_view, 3> names{"select", "poll", "epoll"};
    return names;
}

std::unique_ptr<Selector> make_selector(std::string_view name) {
    if (name == "auto" || name == "epoll") {
        return std::make_unique<EpollSelector>();
    }
    if (name == "poll") {
        return std::make_unique<PollSelector>();
    }
    if (name == "select") {
        return std::make_unique<SelectSelector>();
    }
    std::string choices = "auto";
    for (const auto known : selector_names()) {
        choices += (known == selector_names().back() ? " or " : ", ") + std::string(known);
    }
    throw std::invalid_argument("unknown selector \"" + std::string(name) + "\" (choose " + choices + ")");
}

}  // namespace poetry
