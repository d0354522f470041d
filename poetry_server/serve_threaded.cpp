// --mode threaded: a thread accepting per listener, and a thread per client with a blocking socket
// (a proxied client's thread waits in poll instead: it has two sockets and a schedule).
#include <string>

#include "blocking_session.hpp"
#include "serve.hpp"
#include "thread_group.hpp"

namespace poetry::server {

void serve_threaded(ServeContext& context) {
    ClientRegistry registry;
    ThreadGroup sessions;
    ThreadGroup acceptors;
    for (Listener& listener : context.listeners) {
        acceptors.spawn([&] {
            accept_clients(listener, context,
                           [&](net::Socket client, std::string peer, std::uint64_t number, ClientSlot slot) {
                               try {
                                   // std::function needs a copyable callable: the socket and the slot
                                   // travel behind a shared_ptr. If no thread starts, they close and
                                   // give the place back here.
                                   auto owned = std::make_shared<std::pair<net::Socket, ClientSlot>>(
                                       std::move(client), std::move(slot));
                                   sessions.spawn([&, owned, peer, number] {
                                       if (listener.cache) {
                                           serve_cached_client_threaded(std::move(owned->first), peer, number,
                                                                        std::move(owned->second), listener,
                                                                        context, registry);
                                       } else if (listener.upstream) {
                                           serve_proxy_client_threaded(std::move(owned->first), peer, number,
                                                                       std::move(owned->second), listener,
                                                                       context);
                                       } else {
                                           serve_client_blocking(std::move(owned->first), peer, number,
                                                                 std::move(owned->second), listener, context,
                                                                 registry);
                                       }
                                   });
                               } catch (const std::system_error& e) {
                                   ++context.stats.refused;
                                   context.log.error("cannot start a thread for " + peer + ": " + e.what());
                               }
                           });
        });
    }
    wait_for_stop(context.stop);
    acceptors.join_all();
    registry.stop_all();
    sessions.join_all();
}

}  // namespace poetry::server
