// --timeline FILE: the run as an SVG picture. Time runs to the right, one lane per download; each chunk
// is a bar as tall as its size, at the moment it arrived. With several strategies (--strategy all) the
// panels are stacked on one time axis, each measured from its own strategy's start, so the blocking
// staircase and the interleaving of the concurrent strategies are seen side by side.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <span>

#include "chunk_log.hpp"
#include "run.hpp"

namespace poetry::client {

/// The most lanes a panel draws; the rest are counted in a note, so 10,000 downloads stay a picture.
inline constexpr std::size_t svg_timeline_lanes = 50;

/// Writes the picture of `reports` (one panel each), drawn from `logs` (one per report, same order).
/// The marks carry classes for scripts: a <g class="panel"> per strategy holding a <g class="lane"> per
/// download drawn, with class="connect", "chunk" (one per chunk; "chunks" for a bar that merges the
/// chunks of a crowded lane), "finish" (complete) and "fail" (partial or failed); class="more" notes
/// the downloads left out. A run that sampled its CPU (RunReport::cpu_trace) gets, under its lanes, a
/// <g class="cpu-strip" data-cores="N"> holding a "cpu-band" rect (the run's length) and one "cpu" path
/// of M/V/H steps whose height is the CPU in use, full height N cores (the machine's).
void write_timeline_svg(std::ostream& out, std::span<const RunReport> reports, std::span<const RunLog> logs,
                        std::size_t max_lanes = svg_timeline_lanes);

}  // namespace poetry::client
