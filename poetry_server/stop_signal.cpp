#include "stop_signal.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <system_error>

#include "poetry/detail/syscall.hpp"

namespace poetry::server {

StopSignal::StopSignal() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    if (const int error = ::pthread_sigmask(SIG_BLOCK, &signals, nullptr); error != 0) {
        throw std::system_error(error, std::generic_category(), "pthread_sigmask");
    }
    fd_.reset(::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd_) {
        throw std::system_error(detail::last_error(), "signalfd");
    }
}

bool StopSignal::requested() const noexcept {
    pollfd watch{fd(), POLLIN, 0};
    std::error_code ec;
    return detail::retry_on_eintr(ec, [&] { return ::poll(&watch, 1, 0); }) > 0;
}

}  // namespace poetry::server
