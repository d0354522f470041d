// What the command line becomes: one listener per poem or upstream (its socket, what it serves,
// chunk size, pace and faults), all bound before anything is served.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "faults.hpp"
#include "options.hpp"
#include "poem.hpp"
#include "poetry/loop/clock.hpp"
#include "poetry/net/address.hpp"
#include "poetry/net/socket.hpp"
#include "program_errors.hpp"
#include "proxy/upstream.hpp"
#include "proxy/upstream_cache.hpp"

namespace poetry::server {

/// A listener could not be set up: what() is one line naming the address (exit status 2).
class StartupError : public cli::InputError {
public:
    using cli::InputError::InputError;
};

struct Listener {
    std::size_t index = 0;  // its place on the command line, from 0: part of each connection's fault key
    std::shared_ptr<const Poem> poem;          // a poem's listener, or
    std::shared_ptr<const Upstream> upstream;  // a proxy's (--upstream)
    std::shared_ptr<UpstreamCache> cache;       // a proxy's with --cache
    std::size_t num_bytes = 0;
    double delay_seconds = 0;  // as given (or as --rate made it), for messages and the ports file
    std::optional<double> rate;  // --rate, in bytes per second, if the pace was given as one
    std::chrono::nanoseconds delay{0};
    net::Socket socket;
    net::Endpoint endpoint;  // where it is bound, with the real port when 0 was asked for
    FaultPlan faults;

    /// The faults of connection `number` (from 0, in the order this listener accepted them).
    [[nodiscard]] ConnectionFaults connection_faults(std::uint64_t number) const {
        return faults.any() ? ConnectionFaults(faults, index, number) : ConnectionFaults();
    }
    /// The chunks of a connection with `connection` faults that started at `start`.
    [[nodiscard]] ChunkSchedule schedule(const ConnectionFaults& connection,
                                         TimePoint start) const noexcept {
        return ChunkSchedule(poem ? poem->size() : unknown_size, num_bytes, delay, connection, start);
    }
    /// A listener like this one (index, endpoint, pace, faults), without its socket, that serves
    /// `content` as its poem: how a --cache proxy serves what it has fetched.
    [[nodiscard]] Listener cached_as(std::shared_ptr<const Poem> content) const {
        Listener copy;
        copy.index = index;
        copy.poem = std::move(content);
        copy.num_bytes = num_bytes;
        copy.delay_seconds = delay_seconds;
        copy.rate = rate;
        copy.delay = delay;
        copy.endpoint = endpoint;
        copy.faults = faults;
        return copy;
    }
    /// What it serves, for the log: the poem's path, or "upstream 127.0.0.1:5432".
    [[nodiscard]] std::string source() const {
        return poem ? poem->path() : "upstream " + upstream->address().to_string();
    }
};

/// Loads every poem and binds every listener, or none: on failure the sockets already bound close.
/// @throws PoemError or StartupError (e.g. "cannot listen on 127.0.0.1:8000: Address already in use").
std::vector<Listener> bind_listeners(const ServerOptions& options);

}  // namespace poetry::server
