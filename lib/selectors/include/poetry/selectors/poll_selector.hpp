// poll(2) backend: no fd limit, O(registered fds) per call. Keeps a dense pollfd vector and an index
// from fd to its slot, so unregister is O(1) (swap with the last slot).
#pragma once

#include <poll.h>

#include <unordered_map>
#include <vector>

#include "poetry/selectors/selector.hpp"

namespace poetry {

class PollSelector final : public Selector {
public:
    [[nodiscard]] std::string_view name() const noexcept override { return "poll"; }

protected:
    void backend_register(int fd, EventMask events) override;
    void backend_modify(int fd, EventMask old_events, EventMask events) override;
    void backend_unregister(int fd, EventMask events) noexcept override;
    void backend_select(Timeout timeout, std::vector<std::pair<int, EventMask>>& ready) override;

private:
    std::vector<pollfd> fds_;
    std::unordered_map<int, std::size_t> slot_of_;
};

}  // namespace poetry
