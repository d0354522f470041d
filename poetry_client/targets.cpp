#include "targets.hpp"

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

namespace poetry::client {

std::vector<Target> read_ports_file(const std::filesystem::path& path) {
    const std::string where = "--ports-file " + path.string();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw InputError(where + ": cannot open it");
    }
    nlohmann::json list;
    try {
        list = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw InputError(where + ": not JSON (" + e.what() + ")");
    }
    if (!list.is_array() || list.empty()) {
        throw InputError(where + ": expected a non-empty list of listeners");
    }
    std::vector<Target> targets;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto& entry = list[i];
        const auto is_whole = [&](const char* key) {
            return entry.contains(key) && entry[key].is_number_unsigned();
        };
        if (!entry.is_object() || !entry.contains("host") || !entry["host"].is_string() ||
            !is_whole("port") ||
            entry["port"].get<std::uint64_t>() > std::numeric_limits<std::uint16_t>::max() ||
            (entry.contains("bytes") && !is_whole("bytes"))) {
            throw InputError(
                where + ": entry " + std::to_string(i + 1) +
                " needs a \"host\" string, a \"port\" from 0 to 65535 and, if any, whole \"bytes\"");
        }
        Target target{net::Address(entry["host"].get<std::string>(), entry["port"].get<std::uint16_t>()),
                      std::nullopt};
        if (entry.contains("bytes")) {
            target.size = entry["bytes"].get<std::size_t>();
        }
        targets.push_back(std::move(target));
    }
    return targets;
}

std::vector<Download> make_downloads(std::span<const Target> targets, std::size_t connections) {
    std::vector<Download> downloads;
    downloads.reserve(targets.size() * connections);
    int task = 1;
    for (const auto& target : targets) {
        for (std::size_t k = 0; k < connections; ++k) {
            downloads.push_back({task++, target.address, target.size});
        }
    }
    return downloads;
}

}  // namespace poetry::client
