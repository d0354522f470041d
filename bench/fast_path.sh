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
pid=""
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
head -c "$((megabytes * 1000 * 1000))" /dev/urandom >"$work/big.txt"

server_runs=()
sendfile_runs=()
for round in $(seq "$rounds"); do
    rm -f "$work/ports.json"
    "$build/poetry_server/poetry_server" -q --delay 0 --num-bytes 65536 --ports-file "$work/ports.json" \
        "$work/big.txt" >/dev/null &
    pid=$!
    for _ in $(seq 200); do [ -e "$work/ports.json" ] && break; sleep 0.05; done
    port=$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$work/ports.json")
    run=$(timeout 120 "$build/bench/bench_read_all" "$port")
    kill "$pid"; wait "$pid" || true; pid=""
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
