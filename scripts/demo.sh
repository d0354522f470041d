#!/usr/bin/env bash
# The main job of `make demo`, run after the build. Until poetry_client exists (issue 4), it shows the
# server serving the bundled poems on free ports and says what will run here.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/default"
cd "$root"
work="$(mktemp -d)"
source "$root/scripts/server.sh"
trap 'stop_server; rm -rf "$work"' EXIT

start_server --num-bytes 50 --delay 0.05 poems/*.txt
sleep 0.2
stop_server
cat "$work/server.log"
cat <<'MSG'

make demo: poetry_server is serving every bundled poem on its own free port (above), and stops on
SIGTERM with its summary. Once poetry_client exists, this demo downloads all of them at once with
the coroutines strategy, printing each chunk as it arrives and the time it took.
MSG
