// --mode threaded: a thread accepting per listener, and a thread per client with a blocking socket.
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
                           [&](net::Socket client, std::string peer, std::uint64_t number) {
                               try {
                                   // std::function needs a copyable callable: the socket travels as a
                                   // shared_ptr.
                                   auto owned = std::make_shared<net::Socket>(std::move(client));
                                   sessions.spawn([&, owned, peer, number] {
                                       serve_client_blocking(std::move(*owned), peer, number, listener,
                                                             context, registry);
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
