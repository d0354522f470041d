// Where to download from: the addresses on the command line and those in the servers' ports files,
// turned into the list of downloads (each address --connections times).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "download.hpp"
#include "program_errors.hpp"

namespace poetry::client {

struct Target {
    net::Address address;
    std::optional<std::size_t> size;  // the poem's size, when the ports file says it
    std::optional<std::string> name;  // the poem's file name without folder and extension, likewise
};

/// The listeners in a poetry_server --ports-file. A file whose server (its "pid") has stopped is
/// stale: a crashed run's, which lists no listener any more. @throws cli::InputError naming the file and
/// the problem.
std::vector<Target> read_ports_file(const std::filesystem::path& path);

/// read_ports_file, retried until the file is there and its server runs, for at most `patience`
/// (--wait: a script may start the client before the server has bound its ports).
/// @throws cli::InputError, the last problem seen, once `patience` has passed.
std::vector<Target> wait_for_ports_file(const std::filesystem::path& path, Seconds patience);

/// The listeners of every file in `paths`, file after file, each in its own order: read_ports_file, or
/// wait_for_ports_file with `patience` for each file in turn when given (--wait). @throws cli::InputError
/// naming the first file that fails.
std::vector<Target> read_ports_files(std::span<const std::filesystem::path> paths,
                                     std::optional<Seconds> patience);

/// Each target `connections` times; tasks are numbered from 1, each target's downloads together.
std::vector<Download> make_downloads(std::span<const Target> targets, std::size_t connections);

}  // namespace poetry::client
