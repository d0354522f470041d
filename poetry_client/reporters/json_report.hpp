// --json: one JSON document instead of the human report, for scripts and benchmarks. Times are
// seconds since the run started.
#pragma once

#include <iosfwd>
#include <span>

#include "run.hpp"

namespace poetry::client {

/// One run: {"strategy", "tasks": [...], "totals": {...}}. For several runs (--strategy all):
/// {"strategies": [...], "identical": bool, "differences": [...]}.
void write_json(std::ostream& out, std::span<const RunReport> reports, bool several);

}  // namespace poetry::client
