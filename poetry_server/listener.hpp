// What the command line becomes: one listener per poem (its socket, poem, chunk size and pace),
// all bound before anything is served.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "options.hpp"
#include "poem.hpp"
#include "poetry/net/address.hpp"
#include "poetry/net/socket.hpp"

namespace poetry::server {

/// A listener could not be set up: what() is one line naming the address.
class StartupError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Listener {
    std::shared_ptr<const Poem> poem;
    std::size_t num_bytes = 0;
    double delay_seconds = 0;  // as given, for messages and the ports file
    std::chrono::nanoseconds delay{0};
    net::Socket socket;
    net::Endpoint endpoint;  // where it is bound, with the real port when 0 was asked for

    /// When chunk `index` (from 0) is due for a client that connected at `start`.
    template <class TimePoint>
    [[nodiscard]] TimePoint chunk_due(TimePoint start, std::size_t index) const {
        return start + std::chrono::duration_cast<typename TimePoint::duration>(delay * index);
    }
};

/// Loads every poem and binds every listener, or none: on failure the sockets already bound close.
/// @throws PoemError or StartupError (e.g. "cannot listen on 127.0.0.1:8000: Address already in use").
std::vector<Listener> bind_listeners(const ServerOptions& options);

}  // namespace poetry::server
