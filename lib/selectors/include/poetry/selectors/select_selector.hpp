// select(2) backend: simplest and oldest, limited to fds below FD_SETSIZE, O(max fd) per call.
#pragma once

#include <sys/select.h>

#include "poetry/selectors/selector.hpp"

namespace poetry {

class SelectSelector final : public Selector {
public:
    SelectSelector();
    [[nodiscard]] std::string_view name() const noexcept override { return "select"; }

protected:
    /// @throws std::invalid_argument for fd >= FD_SETSIZE, which an fd_set cannot hold.
    void backend_register(int fd, EventMask events) override;
    void backend_modify(int fd, EventMask old_events, EventMask events) override;
    void backend_unregister(int fd, EventMask events) noexcept override;
    void backend_select(Timeout timeout, std::vector<std::pair<int, EventMask>>& ready) override;

private:
    void update_max_fd() noexcept;
    /// Clears the fds that are no longer open from the sets. @returns whether there were any.
    bool forget_closed_fds() noexcept;

    fd_set read_set_;
    fd_set write_set_;
    int max_fd_ = -1;
};

}  // namespace poetry
