#!/usr/bin/env bash
# The main job of `make demo`, run after the build: the classic three-server experiment (--num-bytes
# 200,50,50 on ecstasy, fascination and science) with a short delay of 0.05 s instead of the classic
# 0.7 s, so that the demo takes seconds, not minutes. First one coroutines download, chunk by chunk,
# with its timeline as text; then experiments/classic --quick: every strategy, the table, the CSV and
# the SVG timeline under results/classic/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/default"
cd "$root"
work="$(mktemp -d)"
source "$root/scripts/server.sh"
trap 'stop_server; rm -rf "$work"' EXIT

start_server --num-bytes 200,50,50 --delay 0.05 poems/ecstasy.txt poems/fascination.txt poems/science.txt
echo "== poetry_client --strategy coroutines --timeline - (the classic 3 servers, delay 0.05 s instead of 0.7 s) =="
"$build/poetry_client/poetry_client" --ports-file "$work/ports.json" --strategy coroutines --timeline - | tail -n 14
stop_server
echo
echo "== experiments/classic --quick (every strategy; delay 0.05 s instead of 0.7 s) =="
"$root/experiments/classic" --quick
