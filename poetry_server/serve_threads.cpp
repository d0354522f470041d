// --threads N for the event-loop modes: N loops, each on its own thread, sharing the listeners.
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "serve.hpp"

namespace poetry::server {

void run_on_threads(ServeContext& context, const std::function<void()>& serve) {
    std::vector<std::jthread> others;
    for (std::size_t i = 1; i < context.threads; ++i) {
        others.emplace_back([&] {
            try {
                serve();
            } catch (const std::exception& e) {
                context.log.error(std::string("an event-loop thread failed: ") + e.what());
            }
        });
    }
    serve();  // others join as they go out of scope, even if this throws
}

}  // namespace poetry::server
