#include "poetry/loop/handle.hpp"

#include "poetry/loop/event_loop.hpp"

namespace poetry {

void Handle::cancel() noexcept {
    if (!state_ || state_->cancelled) {
        return;
    }
    // The callback itself is kept: cancel() may be called from inside it (a reader removing itself),
    // and destroying a std::function while it runs would destroy its captures under its feet.
    state_->cancelled = true;
    if (state_->timer_loop != nullptr) {
        state_->timer_loop->timer_cancelled();
    }
}

}  // namespace poetry
