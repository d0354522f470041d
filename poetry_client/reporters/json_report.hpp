// --json: one JSON document instead of the human report, for scripts and benchmarks. Times are
// seconds since the run started.
#pragma once

#include <iosfwd>
#include <span>

#include "chunk_log.hpp"
#include "run.hpp"

namespace poetry::client {

/// One run: {"strategy", "tasks": [...], "totals": {...}}. For several runs (--strategy all):
/// {"strategies": [...], "identical": bool, "differences": [...]}.
/// With `chunk_logs` (one per report, --chunk-times), each task also gets "chunk_times": [[seconds,
/// bytes], ...], and the document is printed on one line: indented, it would take a line per number.
void write_json(std::ostream& out, std::span<const RunReport> reports, bool several,
                std::span<const RunLog> chunk_logs = {});

}  // namespace poetry::client
