// The end of a run in words: the "Got 3 poems in 10.52 s (cpu 0.01 s)" line, and for --strategy all
// the comparison table and the check that every strategy received the same bytes.
#pragma once

#include <iosfwd>
#include <span>
#include <string>
#include <vector>

#include "run.hpp"

namespace poetry::client {

/// "Got 3 poems in 10.52 s (cpu 0.01 s)", or "Got 2 of 3 poems in ... ; 1 partial, 0 failed".
std::string summary_line(const RunReport& report);

/// One row per strategy: wall time, CPU user+sys, poems complete, bytes.
void print_comparison(std::ostream& out, std::span<const RunReport> reports);

/// For every download, the poems that strategies received completely must be byte-identical.
/// @returns one line per difference (empty: identical).
std::vector<std::string> identity_differences(std::span<const RunReport> reports);

}  // namespace poetry::client
