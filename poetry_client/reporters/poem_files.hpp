// --print and --output-dir: the poems as received, byte for byte (never decoded or re-encoded).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <span>

#include "download.hpp"

namespace poetry::client {

/// Writes each poem that arrived (whole or in part), in task order.
void print_poems(std::ostream& out, std::span<const DownloadResult> results);

/// The file a result is saved to: DIR/<task>-<host>-<port>.txt, ".partial" instead of ".txt" when the
/// poem is not whole.
std::filesystem::path poem_file(const std::filesystem::path& dir, const DownloadResult& result);

/// Saves every result that received bytes. @throws std::runtime_error naming the file that failed.
void save_poems(const std::filesystem::path& dir, std::span<const DownloadResult> results);

}  // namespace poetry::client
