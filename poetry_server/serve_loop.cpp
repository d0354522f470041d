// --mode callbacks and --mode coroutines: one EventLoop of the library on one thread, an Acceptor per
// listener, the stop signal as one more reader, and a session per client (a poem's or a proxy's).
#include <sys/select.h>  // FD_SETSIZE

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loop_session.hpp"
#include "poetry/loop/acceptor.hpp"
#include "poetry/net/errors.hpp"
#include "poetry/net/fd_limit.hpp"
#include "poetry/selectors/selector.hpp"
#include "serve.hpp"

namespace poetry::server {
namespace {

/// How a mode serves a poem's clients and a proxy's.
struct SessionFactories {
    SessionFactory poem;
    SessionFactory proxy;
};

void serve_on_loop(ServeContext& context, const std::string& selector_name, SessionFactories make) {
    std::unique_ptr<Selector> selector = make_selector(selector_name);
    const bool select_limit = selector->name() == "select";
    if (select_limit) {
        // select(2) cannot watch an fd at or above FD_SETSIZE. With the fd limit there, accept fails
        // with EMFILE instead of handing out such an fd, and the acceptor pauses until clients leave:
        // the same treatment as running out of fds.
        net::cap_fd_limit(FD_SETSIZE);
    }
    EventLoop loop(std::move(selector));
    loop.set_exception_handler([&context](const ExceptionContext& error) {
        std::string text = "unexpected error: " + error.message;
        try {
            if (error.exception) {
                std::rethrow_exception(error.exception);
            }
        } catch (const std::exception& e) {
            text += std::string(": ") + e.what();
        } catch (...) {
        }
        context.log.error(text);
    });
    LoopSessions sessions(loop, context);

    std::vector<std::unique_ptr<Acceptor>> acceptors;
    for (std::size_t i = 0; i < context.listeners.size(); ++i) {
        Listener& listener = context.listeners[i];
        auto admit = [&, i](net::Socket client, const net::Endpoint& peer) {
            std::string name = peer.to_string();
            std::optional<ClientSlot> slot = context.admit(name, listener);
            if (!slot) {
                return;  // the socket closes here
            }
            if (listener.cache) {
                sessions.start(make_cache_wait_session(sessions, std::move(client), std::move(name), std::move(*slot),
                                                       listener, context.number_next(listener), make.poem));
                return;
            }
            const SessionFactory make_session = listener.poem ? make.poem : make.proxy;
            sessions.start(make_session(sessions, std::move(client), std::move(name), std::move(*slot), listener,
                                        context.number_next(listener)));
        };
        auto paused = [&, select_limit](const std::error_code& ec) {
            context.log.accept_paused(listener, ec, net::is_out_of_fds(ec),
                                      select_limit ? "select watches fds below FD_SETSIZE (" +
                                                         std::to_string(FD_SETSIZE) + ") only"
                                                   : std::string());
        };
        acceptors.push_back(std::make_unique<Acceptor>(loop, listener.socket, admit, paused));
        acceptors.back()->start();
    }

    loop.add_reader(context.stop.fd(), [&] {
        for (auto& acceptor : acceptors) {
            acceptor->stop();
        }
        sessions.interrupt_all();
        loop.remove_reader(context.stop.fd());
        loop.stop();
    });
    loop.run_forever();
}

}  // namespace

void serve_callbacks(ServeContext& context, const std::string& selector) {
    run_on_threads(context,
                   [&] { serve_on_loop(context, selector, {make_callback_session, make_callback_proxy_session}); });
}

void serve_coroutines(ServeContext& context, const std::string& selector) {
    run_on_threads(context,
                   [&] { serve_on_loop(context, selector, {make_coroutine_session, make_coroutine_proxy_session}); });
}

}  // namespace poetry::server
