// The ports file: where scripts learn which port serves which poem, instead of guessing.
#pragma once

#include <filesystem>
#include <vector>

#include "listener.hpp"

namespace poetry::server {

/// Writes a JSON list with, per listener: host, port, poem (path as given), bytes (poem size),
/// num_bytes, delay and, if it has faults, "faults": {"close_after": 100, "fault_rate": 0.5, "seed": 7}
/// (the faults given, the rate and the seed). Atomic: a temporary file in the same folder, then rename, so a reader never
/// sees half a file. @throws StartupError naming the file.
void write_ports_file(const std::filesystem::path& path, const std::vector<Listener>& listeners);

}  // namespace poetry::server
