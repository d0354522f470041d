// Where to download from: the addresses on the command line and those in the server's ports file,
// turned into the list of downloads (each address --connections times).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "download.hpp"

namespace poetry::client {

struct Target {
    net::Address address;
    std::optional<std::size_t> size;  // the poem's size, when the ports file says it
};

/// Input that cannot be used (a ports file that is missing or malformed): exit status 2.
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The listeners in a poetry_server --ports-file. @throws InputError naming the file and the problem.
std::vector<Target> read_ports_file(const std::filesystem::path& path);

/// Each target `connections` times; tasks are numbered from 1, each target's downloads together.
std::vector<Download> make_downloads(std::span<const Target> targets, std::size_t connections);

}  // namespace poetry::client
