#include "reporters/poem_files.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <ostream>
#include <system_error>

#include "reporters/outputs.hpp"

namespace poetry::client {

void print_poems(std::ostream& out, std::ostream& headers, std::span<const DownloadResult> results,
                 std::span<const Download> downloads) {
    for (std::size_t i = 0; i < results.size(); ++i) {
        const DownloadResult& result = results[i];
        const auto& name = i < downloads.size() ? downloads[i].name : std::nullopt;
        out.flush();  // the poem before this header has left, in order, where both go to one terminal
        headers << "== Task " << result.task << ": " << result.address.to_string()
                << (name ? " (" + *name + ")" : "") << ", " << result.poem.size() << " bytes, "
                << to_string(result.status) << " ==" << std::endl;
        out.write(result.poem.data(), static_cast<std::streamsize>(result.poem.size()));
    }
    out.flush();
}

std::filesystem::path poem_file_stem(const std::filesystem::path& dir, const DownloadResult& result,
                                     const Download& download) {
    if (download.name) {
        return dir / (std::to_string(result.task) + "-" + *download.name);
    }
    std::string host = result.address.host();
    for (char& c : host) {
        if (c == ':' || c == '/') {
            c = '_';  // IPv6 hosts: keep the name a plain file name
        }
    }
    return dir / (std::to_string(result.task) + "-" + host + "-" + std::to_string(result.address.port()));
}

void save_poems(const std::filesystem::path& dir, std::span<const DownloadResult> results,
                std::span<const Download> downloads) {
    for (std::size_t i = 0; i < results.size(); ++i) {
        const DownloadResult& result = results[i];
        auto path = poem_file_stem(dir, result, downloads[i]);
        std::error_code ignored;
        // A previous run's file for this task, of either kind, must not stand beside this run's.
        std::filesystem::remove(std::filesystem::path(path).concat(".txt"), ignored);
        std::filesystem::remove(std::filesystem::path(path).concat(".partial"), ignored);
        if (result.poem.empty()) {
            continue;
        }
        path += result.complete() ? ".txt" : ".partial";
        std::ofstream file(path, std::ios::binary | std::ios::trunc);
        file.write(result.poem.data(), static_cast<std::streamsize>(result.poem.size()));
        file.close();
        if (!file) {
            throw OutputError("cannot write " + path.string() + ": " + std::strerror(errno));
        }
    }
}

}  // namespace poetry::client
