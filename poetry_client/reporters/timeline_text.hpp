// --timeline -: the timeline picture as text, after the report. One row per download across a fixed
// number of columns of time, on one scale for every strategy (each from its own start):
//   CPU                    ::.       |
//   Task 1 127.0.0.1:8000  c1.1.1.1.1|
// c connected, a digit for the chunks that arrived in that column, . waiting, | complete, x failed or
// partial. Above a strategy's rows, its CPU row (when the run sampled its CPU): per column the share of
// one core the process used, ' .:-=#' for 0 to 100%, and | after the run's last column.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <span>

#include "chunk_log.hpp"
#include "run.hpp"

namespace poetry::client {

/// Columns of time in a row.
inline constexpr std::size_t text_timeline_columns = 60;
/// The most rows a strategy shows; a line counts the rest.
inline constexpr std::size_t text_timeline_rows = 50;

/// Writes the text timeline of `reports` from `logs` (one per report, same order).
///
/// The markers bracket the chunks, so that a digit is never hidden under one: the chunks of the connect
/// column are shown in the next column, and the end is drawn after the last chunk's column. So the digits
/// of a row add up to the chunks received (when no column has 10 or more, drawn '+'), and a row may run a
/// column or two past the others.
void write_timeline_text(std::ostream& out, std::span<const RunReport> reports, std::span<const RunLog> logs,
                         std::size_t max_rows = text_timeline_rows);

}  // namespace poetry::client
