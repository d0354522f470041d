#!/usr/bin/env bash
# Client scale: CONNECTIONS concurrent downloads from one poetry_server port (--num-bytes 10
# --delay 0.1, science.txt) for each strategy given, against the single-download time measured first.
# Prints one row per strategy: completed downloads, wall time and its ratio to the single download,
# CPU seconds, CPU per received chunk, and the client's peak resident memory (from its --json).
# Loopback only; every run is bounded by `timeout` and ends by itself.
# Usage: bench/client_scale.sh [CONNECTIONS] [STRATEGY...]
#   e.g. bench/client_scale.sh 10000 callbacks futures coroutines asio
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build/default}"
connections="${1:-10000}"
shift || true
strategies=("${@:-callbacks futures coroutines asio}")
read -r -a strategies <<<"${strategies[*]}"
poem="$root/poems/science.txt"
work="$(mktemp -d)"
source "$root/scripts/server.sh"
trap 'stop_server; rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)"

start_server -q --num-bytes 10 --delay 0.1 "$poem"
client() { timeout 600 "$build/poetry_client/poetry_client" --ports-file "$work/ports.json" -q --json "$@" || true; }
cat >"$work/summarise.py" <<'PY'
import json, sys
name, single = sys.argv[1], float(sys.argv[2])
run = json.load(sys.stdin)
t = run["totals"]
chunks = sum(task["chunks"] for task in run["tasks"])
cpu = t["cpu_user"] + t["cpu_sys"]
ratio = t["wall"] / single if single else 1.0
per_chunk = 1e6 * cpu / max(chunks, 1)
peak = t["peak_memory_bytes"] / 2**20
print(f"{name:<12} {t['downloads']:>7} {t['complete']:>9} {t['wall']:>8.2f} {ratio:>7.2f} {cpu:>8.2f} "
      f"{per_chunk:>10.2f} {peak:>8.1f}")
PY
summarise() { python3 "$work/summarise.py" "$@"; }  # name, single-download wall; the run's JSON on stdin

single=$(client --strategy coroutines | python3 -c 'import json, sys; print(json.load(sys.stdin)["totals"]["wall"])')
printf '%-12s %7s %9s %8s %7s %8s %10s %8s\n' strategy clients complete "wall s" "x one" "cpu s" "cpu us/ch" "peak MB"
printf '%-12s %7s %9s %8.2f %7.2f %8s %10s %8s\n' "(single)" 1 1 "$single" 1 - - -
for strategy in "${strategies[@]}"; do
    if [[ "$strategy" =~ ^(blocking|nonblocking)$ && "$connections" -gt 10 ]]; then
        # One download after another: CONNECTIONS x the single time, by construction.
        printf '%-12s skipped: one download after another would take about %s s\n' "$strategy" \
            "$(awk -v k="$connections" -v t="$single" 'BEGIN { printf "%.0f", k * t }')"
        continue
    fi
    client --strategy "$strategy" --connections "$connections" | summarise "$strategy" "$single"
done
