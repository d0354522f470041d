#!/usr/bin/env bash
# Server scale: K concurrent clients on one port (--num-bytes 10 --delay 0.1 by default), for each
# server mode given (blocking mode serves one client at a time and cannot take such a load: 10,000
# clients would take hours; it is not run unless named). Prints, per run, the driver's JSON (completed downloads, chunk lateness) and the
# server's CPU seconds and peak resident memory from /proc. Loopback only; each run ends by itself.
# Usage: bench/server_scale.sh [CONNECTIONS] [MODE...]   e.g. bench/server_scale.sh 10000 async threaded
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/default}"
connections="${1:-10000}"
shift || true
modes=("${@:-async}")
poem="$root/poems/science.txt"
work="$(mktemp -d)"
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

for mode in "${modes[@]}"; do
    rm -f "$work/ports.json"
    "$build/poetry_server/poetry_server" -q --mode "$mode" --num-bytes 10 --delay 0.1 \
        --ports-file "$work/ports.json" "$poem" >"$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do [ -e "$work/ports.json" ] && break; sleep 0.05; done
    port=$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$work/ports.json")
    bytes=$(stat -c %s "$poem")
    result=$(timeout 300 "$build/bench/bench_server_scale" "$port" 10 0.1 "$connections" "$bytes" || true)
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    kill "$pid"; wait "$pid" || true; pid=""
    summary=$(tail -n 1 "$work/server.log")  # the server's own view, with how late its chunks left
    awk -v mode="$mode" -v result="${result:-null}" -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" -v kb="$peak_kb" \
        -v summary="$summary" \
        'BEGIN { printf "{\"mode\": \"%s\", \"driver\": %s, \"server_cpu_s\": %.2f, \"server_peak_rss_mb\": %.1f, \"server_summary\": \"%s\"}\n", mode, result, ticks / hz, kb / 1024, summary }' 
done
