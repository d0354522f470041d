#!/usr/bin/env bash
# The main job of `make demo`, run after the build. Until poetry_client exists (issue 4), it shows the
# server serving the bundled poems on free ports and says what will run here.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
server="$root/build/default/poetry_server/poetry_server"
cd "$root"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$server" --ports-file "$work/ports.json" --num-bytes 50 --delay 0.05 poems/*.txt &
pid=$!
for _ in $(seq 100); do
    [ -e "$work/ports.json" ] && break
    sleep 0.05
done
sleep 0.2
kill -TERM "$pid"
wait "$pid"
cat <<'MSG'

make demo: poetry_server is serving every bundled poem on its own free port (above), and stops on
SIGTERM with its summary. Once poetry_client exists, this demo downloads all of them at once with
the coroutines strategy, printing each chunk as it arrives and the time it took.
MSG
