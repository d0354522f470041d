#include "targets.hpp"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <thread>

namespace poetry::client {
namespace {

/// Whether a process `pid` exists (signal 0 checks without sending anything).
bool process_exists(std::uint64_t pid) {
    if (pid == 0 || pid > static_cast<std::uint64_t>(std::numeric_limits<pid_t>::max())) {
        return false;
    }
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

}  // namespace

std::vector<Target> read_ports_file(const std::filesystem::path& path) {
    const std::string where = "--ports-file " + path.string();
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw cli::InputError(where + ": is a directory");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw cli::InputError(where + ": cannot open it");
    }
    nlohmann::json list;
    try {
        list = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw cli::InputError(where + ": not JSON (" + e.what() + ")");
    }
    if (!list.is_array() || list.empty()) {
        throw cli::InputError(where + ": expected a non-empty list of listeners");
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
            throw cli::InputError(
                where + ": entry " + std::to_string(i + 1) +
                " needs a \"host\" string, a \"port\" from 0 to 65535 and, if any, whole \"bytes\"");
        }
        if (entry.contains("pid") && !is_whole("pid")) {
            throw cli::InputError(where + ": entry " + std::to_string(i + 1) +
                                  ": \"pid\" is not a process id");
        }
        if (entry.contains("pid") && !process_exists(entry["pid"].get<std::uint64_t>())) {
            throw cli::InputError(where + ": stale: the poetry_server that wrote it (pid " +
                                  std::to_string(entry["pid"].get<std::uint64_t>()) + ") is not running");
        }
        Target target{net::Address(entry["host"].get<std::string>(), entry["port"].get<std::uint16_t>()),
                      std::nullopt, std::nullopt};
        if (entry.contains("bytes")) {
            target.size = entry["bytes"].get<std::size_t>();
        }
        if (entry.contains("poem") && entry["poem"].is_string()) {
            // Only a plain name makes a file name: no separators, not "." or "..".
            std::string stem = std::filesystem::path(entry["poem"].get<std::string>()).stem().string();
            if (!stem.empty() && stem != "." && stem != ".." && stem.find('/') == std::string::npos) {
                target.name = std::move(stem);
            }
        }
        targets.push_back(std::move(target));
    }
    return targets;
}

std::vector<Target> wait_for_ports_file(const std::filesystem::path& path, Seconds patience) {
    const auto deadline = Clock::now() + patience;
    for (;;) {
        try {
            return read_ports_file(path);
        } catch (const cli::InputError& e) {
            if (Clock::now() >= deadline) {
                char waited[32];
                std::snprintf(waited, sizeof(waited), "%.2f", patience.count());
                throw cli::InputError(std::string(e.what()) + " (after waiting " + waited + " s)");
            }
        }
        // The server writes the file at once, by rename, once it listens: polling finds it whole.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

std::vector<Target> read_ports_files(std::span<const std::filesystem::path> paths,
                                     std::optional<Seconds> patience) {
    std::vector<Target> targets;
    for (const auto& path : paths) {
        auto listed = patience ? wait_for_ports_file(path, *patience) : read_ports_file(path);
        std::move(listed.begin(), listed.end(), std::back_inserter(targets));
    }
    return targets;
}

std::vector<Download> make_downloads(std::span<const Target> targets, std::size_t connections) {
    std::vector<Download> downloads;
    downloads.reserve(targets.size() * connections);
    int task = 1;
    for (const auto& target : targets) {
        for (std::size_t k = 0; k < connections; ++k) {
            downloads.push_back({task++, target.address, target.size, target.name});
        }
    }
    return downloads;
}

}  // namespace poetry::client
