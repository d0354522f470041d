// --print and --output-dir: the poems as received, byte for byte (never decoded or re-encoded).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <span>

#include "download.hpp"

namespace poetry::client {

/// Writes each poem that arrived (whole or in part), in task order, on `out`, each after a header line
/// on `headers`: "== Task 1: 127.0.0.1:8000 (ecstasy), 2667 bytes, complete ==". The poems' bytes
/// stay alone on `out` (stdout), so that `--print > poems.txt` holds only poetry.
void print_poems(std::ostream& out, std::ostream& headers, std::span<const DownloadResult> results,
                 std::span<const Download> downloads);

/// The file a result is saved to, without its extension: DIR/<task>-<poem name> when the ports file
/// named the poem ("1-ecstasy"), else DIR/<task>-<host>-<port>.
std::filesystem::path poem_file_stem(const std::filesystem::path& dir, const DownloadResult& result,
                                     const Download& download);

/// Saves every result that received bytes, as <stem>.txt when whole and <stem>.partial when not,
/// after removing the other of the two (a previous run's, into the same folder).
/// @throws OutputError naming the file that failed.
void save_poems(const std::filesystem::path& dir, std::span<const DownloadResult> results,
                std::span<const Download> downloads);

}  // namespace poetry::client
