#!/usr/bin/env bash
# The main job of `make demo`, run after the build: the classic three-server experiment in one
# poetry_server process (--num-bytes 200,50,50 on ecstasy, fascination and science), with a short
# delay of 0.05 s instead of the classic 0.7 s so that the demo takes seconds, not minutes.
# First one download with the coroutines strategy, chunk by chunk; then every strategy and the table.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/default"
cd "$root"
work="$(mktemp -d)"
source "$root/scripts/server.sh"
trap 'stop_server; rm -rf "$work"' EXIT

start_server --num-bytes 200,50,50 --delay 0.05 poems/ecstasy.txt poems/fascination.txt poems/science.txt
client="$build/poetry_client/poetry_client"

echo "== poetry_client --strategy coroutines (the classic 3 servers, delay 0.05 s instead of 0.7 s) =="
"$client" --ports-file "$work/ports.json" --strategy coroutines | tail -n 8
echo
echo "== poetry_client --strategy all -q =="
"$client" --ports-file "$work/ports.json" --strategy all -q
stop_server
echo
echo "== the server's log, last lines =="
tail -n 3 "$work/server.log"
