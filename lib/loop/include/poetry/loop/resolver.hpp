// Host names resolved off the loop (asyncio's loop.getaddrinfo, which runs socket.getaddrinfo in the
// loop's default executor; libuv's uv_getaddrinfo on its thread pool): getaddrinfo may wait seconds for
// DNS, and a loop that waited with it would stall every other download. Numeric hosts are parsed
// inline; names go to a few worker threads, which hand each result back through the loop's Mailbox.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include "poetry/loop/event_loop.hpp"
#include "poetry/loop/future.hpp"
#include "poetry/net/address.hpp"

namespace poetry {

/// The blocking lookup that a Resolver runs on its threads: net::resolve unless a test sets another
/// (one that sleeps, or fails). On failure it sets `ec` (resolver_category() for getaddrinfo's
/// errors). Several threads may call it at once. It may still be running after the loop and the
/// resolver have gone (a thread finishing a lookup that hung), so it must own everything it uses.
using ResolveFunction = std::function<std::vector<net::Endpoint>(const net::Address&, std::error_code&)>;

/// Resolves addresses for one loop, on at most max_threads() threads. Loop's thread only.
class Resolver {
public:
    /// Lookups at once. Downloads beyond it queue: a thousand from "localhost:PORT" must not start a
    /// thousand threads. A lookup waits on the network, not the CPU, so the figure is not the cores'
    /// (asyncio's default executor has min(32, CPUs + 4)); a few at once keep one slow name from
    /// holding up the rest.
    static constexpr std::size_t default_max_threads = 4;

    /// A resolver whose futures complete on `loop`. Starts no thread until a host name needs one.
    /// (Each loop has one already: EventLoop::resolver().) @throws std::invalid_argument for 0 threads.
    explicit Resolver(EventLoop& loop, std::size_t max_threads = default_max_threads);
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;
    /// Cancels the resolutions that have not started. Idle threads are joined; a thread inside a lookup
    /// is not waited for (getaddrinfo can hang for minutes and cannot be interrupted): it finishes on its
    /// own, its result completes the future if the loop is still there (dropped if not: the loop closes
    /// its mailbox as it goes), and it exits.
    ~Resolver();

    /// The endpoints of `address`. A numeric host completes the future at once, with no thread and no
    /// lookup; a name is looked up on a worker thread, and the future completes on the loop's thread.
    /// The future fails with std::system_error "resolve HOST:PORT: <reason>" (net::resolve_error), or
    /// with what prevented the lookup from starting (the loop's mailbox could not open, no thread).
    /// Cancelling it, or dropping every copy, abandons the lookup: one not started never runs, and the
    /// result of one under way is dropped when its thread finishes.
    Future<std::vector<net::Endpoint>> resolve(const net::Address& address);

    /// The lookup for the resolutions started from now on (the ones under way keep theirs).
    void set_resolve_function(ResolveFunction function);

    [[nodiscard]] std::size_t max_threads() const noexcept { return max_threads_; }
    /// Worker threads started so far: none until a host name needs one, never more than max_threads().
    [[nodiscard]] std::size_t threads() const noexcept { return threads_.size(); }

private:
    struct Lookup;
    struct Pool;

    void start_lookup(const net::Address& address, Future<std::vector<net::Endpoint>>& future);
    void start_thread();

    EventLoop& loop_;
    std::size_t max_threads_;
    std::shared_ptr<const ResolveFunction> function_;
    std::shared_ptr<Pool> pool_;  // shared with the workers, which may outlive this resolver
    std::vector<std::thread> threads_;
};

/// The endpoints of `address`, from the loop's resolver: loop.resolver().resolve(address).
inline Future<std::vector<net::Endpoint>> resolve(EventLoop& loop, const net::Address& address) {
    return loop.resolver().resolve(address);
}

}  // namespace poetry
