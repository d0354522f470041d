#!/usr/bin/env bash
# Fast path: one client reads a generated poem (100 MB by default) from poetry_server with --delay 0
# --num-bytes 65536, and from a plain sendfile(2) sender, alternately, ROUNDS times each in one run.
# Prints each run and the ratio of the medians. Loopback only; every run ends by itself.
# Usage: bench/fast_path.sh [MEGABYTES] [ROUNDS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/default}"
megabytes="${1:-100}"
rounds="${2:-5}"
work="$(mktemp -d)"
source "$root/scripts/server.sh"
trap 'stop_server; rm -rf "$work"' EXIT
head -c "$((megabytes * 1000 * 1000))" /dev/urandom >"$work/big.txt"

server_runs=()
sendfile_runs=()
for round in $(seq "$rounds"); do
    start_server -q --delay 0 --num-bytes 65536 "$work/big.txt"
    run=$(timeout 120 "$build/bench/bench_read_all" "$server_port")
    stop_server
    echo "poetry_server round $round: $run"
    server_runs+=("$(sed -n 's/.*"mb_per_s": \([0-9.]*\).*/\1/p' <<<"$run")")

    coproc sender { timeout 120 "$build/bench/bench_sendfile_sender" "$work/big.txt"; }
    read -r port <&"${sender[0]}"
    run=$(timeout 120 "$build/bench/bench_read_all" "$port")
    wait "$sender_PID" || true
    echo "sendfile      round $round: $run"
    sendfile_runs+=("$(sed -n 's/.*"mb_per_s": \([0-9.]*\).*/\1/p' <<<"$run")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(median "${server_runs[@]}")
f=$(median "${sendfile_runs[@]}")
awk -v s="$s" -v f="$f" 'BEGIN { printf "{\"poetry_server_mb_per_s\": %s, \"sendfile_mb_per_s\": %s, \"ratio\": %.2f}\n", s, f, s / f }'
