#include "reporters/poem_files.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <ostream>
#include <stdexcept>

namespace poetry::client {

void print_poems(std::ostream& out, std::span<const DownloadResult> results) {
    for (const auto& result : results) {
        out.write(result.poem.data(), static_cast<std::streamsize>(result.poem.size()));
    }
    out.flush();
}

std::filesystem::path poem_file(const std::filesystem::path& dir, const DownloadResult& result) {
    std::string host = result.address.host();
    for (char& c : host) {
        if (c == ':' || c == '/') {
            c = '_';  // IPv6 hosts: keep the name a plain file name
        }
    }
    return dir / (std::to_string(result.task) + "-" + host + "-" + std::to_string(result.address.port()) +
                  (result.complete() ? ".txt" : ".partial"));
}

void save_poems(const std::filesystem::path& dir, std::span<const DownloadResult> results) {
    for (const auto& result : results) {
        if (result.poem.empty()) {
            continue;
        }
        const auto path = poem_file(dir, result);
        std::ofstream file(path, std::ios::binary | std::ios::trunc);
        file.write(result.poem.data(), static_cast<std::streamsize>(result.poem.size()));
        file.close();
        if (!file) {
            throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
        }
    }
}

}  // namespace poetry::client
