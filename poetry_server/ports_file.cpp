#include "ports_file.hpp"

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

namespace poetry::server {
namespace {

/// The faults that apply, by their option names with underscores, and always the rate and the seed
/// (the seed the server picked, if none was given), so that a run can be repeated.
nlohmann::json to_json(const FaultPlan& plan) {
    auto faults = nlohmann::json::object();
    if (plan.jitter > 0) {
        faults["jitter"] = plan.jitter;
    }
    if (plan.size_jitter > 0) {
        faults["size_jitter"] = plan.size_jitter;
    }
    if (plan.first_byte_delay > 0) {
        faults["first_byte_delay"] = plan.first_byte_delay;
    }
    if (plan.close_after) {
        faults["close_after"] = *plan.close_after;
    }
    if (plan.reset_after) {
        faults["reset_after"] = *plan.reset_after;
    }
    if (plan.hang_after) {
        faults["hang_after"] = *plan.hang_after;
    }
    if (plan.slow_close > 0) {
        faults["slow_close"] = plan.slow_close;
    }
    faults["fault_rate"] = plan.rate;
    faults["seed"] = plan.seed;
    return faults;
}

}  // namespace

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
        if (listener.faults.any()) {
            list.back()["faults"] = to_json(listener.faults);
        }
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
