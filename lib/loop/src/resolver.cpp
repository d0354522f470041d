#include "poetry/loop/resolver.hpp"

#include <netdb.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "poetry/loop/mailbox.hpp"
#include "poetry/net/errors.hpp"

namespace poetry {

using Endpoints = std::vector<net::Endpoint>;

/// One lookup, shared by the queue (then the worker running it) and its future's producer.
struct Resolver::Lookup {
    Lookup(net::Address a, std::shared_ptr<const ResolveFunction> f, WeakFuture<Endpoints> target)
        : address(std::move(a)), function(std::move(f)), future(std::move(target)) {}

    const net::Address address;
    const std::shared_ptr<const ResolveFunction> function;
    // Locked on the loop's thread only: a worker holding the future could end up destroying it, and
    // with it callbacks and producers that belong to the loop.
    const WeakFuture<Endpoints> future;
    // Set when the future is cancelled or dropped: a worker skips it rather than look it up.
    std::atomic<bool> abandoned{false};
};

/// What the resolver shares with its workers, all under `mutex`.
struct Resolver::Pool {
    std::mutex mutex;
    std::condition_variable work;
    std::deque<std::shared_ptr<Lookup>> queue;
    std::vector<bool> busy;  // by worker, in the order threads_ started them
    std::size_t idle = 0;    // workers waiting for work
    bool stopping = false;
    std::shared_ptr<Mailbox> mailbox;  // set with the first lookup, before any worker starts
};

namespace {

/// The future's producer: letting go of the future (cancel, or its last copy gone) abandons the lookup.
class LookupTicket final : public FutureProducer {
public:
    explicit LookupTicket(std::shared_ptr<std::atomic<bool>> abandoned) noexcept
        : abandoned_(std::move(abandoned)) {}
    ~LookupTicket() override { abandoned_->store(true, std::memory_order_relaxed); }

private:
    std::shared_ptr<std::atomic<bool>> abandoned_;
};

std::vector<net::Endpoint> resolve_blocking(const net::Address& address, std::error_code& ec) {
    return net::resolve(address, ec);
}

/// Blocks every signal on the calling thread while it exists, so that the threads started meanwhile
/// inherit a full mask and signals go to the program's own threads, which expect them (asio does the
/// same for its resolver thread: detail/signal_blocker.hpp).
class SignalsBlocked {
public:
    SignalsBlocked() noexcept {
        sigset_t all;
        ::sigfillset(&all);
        blocked_ = ::pthread_sigmask(SIG_SETMASK, &all, &previous_) == 0;
    }
    ~SignalsBlocked() {
        if (blocked_) {
            ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
        }
    }
    SignalsBlocked(const SignalsBlocked&) = delete;
    SignalsBlocked& operator=(const SignalsBlocked&) = delete;

private:
    sigset_t previous_{};
    bool blocked_ = false;
};

/// Runs on the loop's thread, from the mailbox: completes the future, unless it was let go of.
void complete(const WeakFuture<Endpoints>& weak, const net::Address& address, Endpoints endpoints,
              std::error_code ec, const std::exception_ptr& error) {
    auto future = weak.lock();
    if (!future || future->done()) {
        return;  // cancelled, or every copy dropped: the result goes
    }
    if (!error && !ec && endpoints.empty()) {
        ec = std::error_code(EAI_NONAME, net::resolver_category());  // as net::resolve reports it
    }
    if (error) {
        future->set_exception(error);
    } else if (ec) {
        future->set_exception(std::make_exception_ptr(net::resolve_error(address, ec)));
    } else {
        future->set_result(std::move(endpoints));
    }
}

}  // namespace

Resolver::Resolver(EventLoop& loop, std::size_t max_threads)
    : loop_(loop),
      max_threads_(max_threads),
      function_(std::make_shared<const ResolveFunction>(resolve_blocking)),
      pool_(std::make_shared<Pool>()) {
    if (max_threads == 0) {
        throw std::invalid_argument("Resolver needs at least one thread");
    }
    threads_.reserve(max_threads);  // so that adding one never reallocates after the thread started
}

Resolver::~Resolver() {
    std::deque<std::shared_ptr<Lookup>> unstarted;
    std::vector<bool> busy;
    {
        const std::lock_guard lock(pool_->mutex);
        pool_->stopping = true;
        unstarted.swap(pool_->queue);
        busy = pool_->busy;
    }
    pool_->work.notify_all();
    // An idle worker sees `stopping` as it wakes and returns at once; a busy one may be stuck in a
    // lookup for minutes. Either keeps the Pool (and the mailbox) alive for as long as it runs.
    for (std::size_t i = 0; i < threads_.size(); ++i) {
        busy[i] ? threads_[i].detach() : threads_[i].join();
    }
    for (const auto& lookup : unstarted) {
        if (auto future = lookup->future.lock(); future && !future->done()) {
            future->cancel();
        }
    }
}

void Resolver::set_resolve_function(ResolveFunction function) {
    function_ = std::make_shared<const ResolveFunction>(function ? std::move(function) : resolve_blocking);
}

Future<Endpoints> Resolver::resolve(const net::Address& address) {
    Future<Endpoints> future(loop_);
    if (auto endpoint = net::Endpoint::try_numeric(address.host(), address.port())) {
        future.set_result(Endpoints{*endpoint});
        return future;
    }
    try {
        start_lookup(address, future);
    } catch (...) {
        future.set_exception(std::current_exception());
    }
    return future;
}

void Resolver::start_lookup(const net::Address& address, Future<Endpoints>& future) {
    if (!pool_->mailbox) {
        auto mailbox = loop_.mailbox();  // may throw: then nothing has started
        const std::lock_guard lock(pool_->mutex);
        pool_->mailbox = std::move(mailbox);
    }
    auto lookup = std::make_shared<Lookup>(address, function_, future.weak());
    // The ticket shares the Lookup through an aliasing pointer to its flag: all it may touch.
    future.set_producer(
        std::make_unique<LookupTicket>(std::shared_ptr<std::atomic<bool>>(lookup, &lookup->abandoned)));
    bool more_threads = false;
    {
        const std::lock_guard lock(pool_->mutex);
        pool_->queue.push_back(lookup);
        more_threads = pool_->queue.size() > pool_->idle && threads_.size() < max_threads_;
    }
    pool_->work.notify_one();
    if (!more_threads) {
        return;
    }
    try {
        start_thread();
    } catch (...) {
        if (!threads_.empty()) {
            return;  // the lookup waits for a worker that exists
        }
        lookup->abandoned.store(true, std::memory_order_relaxed);
        throw;
    }
}

void Resolver::start_thread() {
    const std::size_t index = threads_.size();
    {
        const std::lock_guard lock(pool_->mutex);
        pool_->busy.push_back(false);
    }
    const SignalsBlocked signals_blocked;
    try {
        threads_.emplace_back([pool = pool_, index] {
            std::unique_lock lock(pool->mutex);
            for (;;) {
                ++pool->idle;
                pool->work.wait(lock, [&] { return pool->stopping || !pool->queue.empty(); });
                --pool->idle;
                if (pool->stopping) {
                    return;
                }
                std::shared_ptr<Lookup> lookup = std::move(pool->queue.front());
                pool->queue.pop_front();
                if (lookup->abandoned.load(std::memory_order_relaxed)) {
                    continue;
                }
                pool->busy[index] = true;
                const std::shared_ptr<Mailbox> mailbox = pool->mailbox;
                lock.unlock();

                Endpoints endpoints;
                std::error_code ec;
                std::exception_ptr error;
                try {
                    endpoints = (*lookup->function)(lookup->address, ec);
                } catch (...) {
                    error = std::current_exception();
                }
                try {
                    // If the loop has gone, post() drops the callback here: it holds nothing of the loop's.
                    mailbox->post([lookup, endpoints = std::move(endpoints), ec, error]() mutable {
                        complete(lookup->future, lookup->address, std::move(endpoints), ec, error);
                    });
                } catch (...) {
                    // Out of memory for the queue: the future stays pending, as if the lookup hung.
                }

                lock.lock();
                pool->busy[index] = false;
            }
        });
    } catch (...) {
        const std::lock_guard lock(pool_->mutex);
        pool_->busy.pop_back();
        throw;
    }
}

}  // namespace poetry
