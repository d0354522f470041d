#include "ports_file.hpp"

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

namespace poetry::server {

void write_ports_file(const std::filesystem::path& path, const std::vector<Listener>& listeners) {
    auto list = nlohmann::json::array();
    for (const Listener& listener : listeners) {
        list.push_back({
            {"host", listener.endpoint.host()},
            {"port", listener.endpoint.port()},
            {"poem", listener.poem->path()},
            {"bytes", listener.poem->size()},
            {"num_bytes", listener.num_bytes},
            {"delay", listener.delay_seconds},
        });
    }
    std::filesystem::path temporary = path;
    temporary += ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        out.close();
        if (!out) {
            const std::string reason = std::strerror(errno);
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            throw StartupError("cannot write --ports-file " + path.string() + ": " + reason);
        }
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) {
        std::filesystem::remove(temporary, ec);
        throw StartupError("cannot write --ports-file " + path.string() + ": " + ec.message());
    }
}

}  // namespace poetry::server
