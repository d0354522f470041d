// epoll(7) backend (Linux): O(ready fds) per call, level-triggered like the other backends.
// <sys/epoll.h> stays in the .cpp: nothing above the selector layer sees epoll types.
#pragma once

#include <vector>

#include "poetry/detail/unique_fd.hpp"
#include "poetry/selectors/selector.hpp"

struct epoll_event;

namespace poetry {

class EpollSelector final : public Selector {
public:
    /// @throws std::system_error if epoll_create1 fails.
    EpollSelector();
    ~EpollSelector() override;
    [[nodiscard]] std::string_view name() const noexcept override { return "epoll"; }

protected:
    void backend_register(int fd, EventMask events) override;
    void backend_modify(int fd, EventMask old_events, EventMask events) override;
    void backend_unregister(int fd, EventMask events) noexcept override;
    void backend_select(Timeout timeout, std::vector<std::pair<int, EventMask>>& ready) override;

private:
    detail::UniqueFd epoll_fd_;
    std::vector<epoll_event> events_;
};

}  // namespace poetry
