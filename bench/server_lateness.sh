#!/usr/bin/env bash
# Server lateness, beside bench/run's server-scale suite: K concurrent clients on one port (--num-bytes
# 10 --delay 0.1) from a dedicated driver (bench_server_scale) instead of poetry_client, which can
# also spread its connects over time (--ramp), for each server mode given (blocking mode serves one
# client at a time and cannot take such a load: 10,000 clients would take hours; it is not run unless
# named). Prints, per run, the driver's JSON (completed downloads, chunk lateness) and the
# server's CPU seconds and peak resident memory from /proc. Loopback only; each run ends by itself.
# With --ramp S the clients connect evenly over S seconds instead of all at once: a burst makes every
# client's schedule coincide, so each chunk round is one burst of sends (see bench/RESULTS.md).
# Usage: bench/server_lateness.sh [--ramp S] [CONNECTIONS] [MODE...]   e.g. bench/server_lateness.sh --ramp 1 10000 async
set -euo pipefail
ramp=0
if [ "${1:-}" = "--ramp" ]; then
    ramp="$2"
    shift 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/default}"
connections="${1:-10000}"
shift || true
modes=("${@:-async}")
poem="$root/poems/science.txt"
work="$(mktemp -d)"
source "$root/scripts/server.sh"
trap 'stop_server; rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)"

for mode in "${modes[@]}"; do
    start_server -q --mode "$mode" --num-bytes 10 --delay 0.1 "$poem"
    bytes=$(stat -c %s "$poem")
    result=$(timeout 300 "$build/bench/bench_server_scale" "$server_port" 10 0.1 "$connections" "$bytes" "$ramp" || true)
    ticks=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
    peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
    stop_server
    summary=$(tail -n 1 "$work/server.log")  # the server's own view, with how late its chunks left
    awk -v mode="$mode" -v result="${result:-null}" -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" -v kb="$peak_kb" \
        -v summary="$summary" \
        'BEGIN { printf "{\"mode\": \"%s\", \"driver\": %s, \"server_cpu_s\": %.2f, \"server_peak_rss_mb\": %.1f, \"server_summary\": \"%s\"}\n", mode, result, ticks / hz, kb / 1024, summary }' 
done
