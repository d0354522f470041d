// The ports file: where scripts learn which port serves which poem, instead of guessing.
#pragma once

#include <filesystem>
#include <vector>

#include "listener.hpp"

namespace poetry::server {

/// Writes a JSON list with, per listener: host, port, poem (path as given), bytes (poem size),
/// num_bytes and delay. Atomic: a temporary file in the same folder, then rename, so a reader never
/// sees half a file. @throws StartupError naming the file.
void write_ports_file(const std::filesystem::path& path, const std::vector<Listener>& listeners);

}  // namespace poetry::server
