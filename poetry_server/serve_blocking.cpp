// --mode blocking: each listener serves one client at a time, start to end, like the original slow
// poetry server; the others wait in the listen backlog. One thread per listener, so ports do not wait
// for each other.
#include <string>

#include "blocking_session.hpp"
#include "serve.hpp"
#include "thread_group.hpp"

namespace poetry::server {

void serve_blocking(ServeContext& context) {
    ClientRegistry registry;
    ThreadGroup listeners;
    for (Listener& listener : context.listeners) {
        listeners.spawn([&] {
            accept_clients(listener, context,
                           [&](net::Socket client, std::string peer, std::uint64_t number, ClientSlot slot) {
                               serve_client_blocking(std::move(client), std::move(peer), number,
                                                     std::move(slot), listener, context, registry);
                           });
        });
    }
    wait_for_stop(context.stop);
    registry.stop_all();
    listeners.join_all();
}

}  // namespace poetry::server
