#!/usr/bin/env bash
# scripts/server.sh with several servers: two start_server calls keep two servers, each with its own
# ports file and log, both listed in the arrays; the client reads both ports files in order; one
# stop_server stops both (kill -0 finds neither), and their ports files are gone. Then the bounded
# wait: a server that ignores SIGTERM is killed once $server_stop_timeout has passed; and a server that
# fails at start is not kept. Every server listens on a free port (port 0, read from its ports file).
#
#   tests/check_server_sh.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
source "$root/scripts/server.sh"
trap 'stop_server; rm -rf "$work"' EXIT
fail() { echo "check_server_sh: $*" >&2; exit 1; }

start_server -q --num-bytes 200 --delay 0.01 "$root/poems/ecstasy.txt"
first_pid=$server_pid
start_server -q --num-bytes 50,50 --delay 0.01 "$root/poems/fascination.txt" "$root/poems/science.txt"

[ "${#server_pids[@]}" -eq 2 ] || fail "server_pids lists ${#server_pids[@]} servers, not 2"
[ "${#server_ports[@]}" -eq 2 ] && [ "${#server_ports_files[@]}" -eq 2 ] && [ "${#server_logs[@]}" -eq 2 ] ||
    fail "the arrays do not list both servers: ports ${server_ports[*]}, files ${server_ports_files[*]}"
[ "${server_pids[0]}" = "$first_pid" ] || fail "the first server's pid changed"
[ "$server_pid" = "${server_pids[1]}" ] && [ "$server_port" = "${server_ports[1]}" ] &&
    [ "$server_ports_file" = "${server_ports_files[1]}" ] && [ "$server_log" = "${server_logs[1]}" ] ||
    fail "\$server_pid, \$server_port, \$server_ports_file and \$server_log do not name the last server"
[ "${server_ports_files[0]}" = "$work/ports.json" ] && [ "${server_logs[0]}" = "$work/server.log" ] ||
    fail "the first server does not use \$work/ports.json and \$work/server.log as before"
[ "${server_ports_files[0]}" != "${server_ports_files[1]}" ] || fail "both servers share a ports file"
[ "${server_ports[0]}" != "${server_ports[1]}" ] || fail "both servers report port ${server_ports[0]}"
for i in 0 1; do
    kill -0 "${server_pids[$i]}" 2>/dev/null || fail "server $((i + 1)) (pid ${server_pids[$i]}) is not running"
    [ -s "${server_ports_files[$i]}" ] || fail "server $((i + 1)) has no ports file"
    [[ "${server_ports[$i]}" =~ ^[0-9]+$ ]] && [ "${server_ports[$i]}" -gt 0 ] ||
        fail "server $((i + 1)) has no port: '${server_ports[$i]}'"
done

# Both servers' poems, in the order of the ports files.
timeout 60 "$build/poetry_client/poetry_client" --strategy callbacks -q --json \
    --ports-file "${server_ports_files[0]}" --ports-file "${server_ports_files[1]}" >"$work/run.json" ||
    fail "the client did not get every poem from both servers"
python3 - "$work/run.json" "${server_ports[0]}" "${server_ports[1]}" <<'PY' || fail "not every poem, or not in order"
import json, sys
tasks = json.load(open(sys.argv[1]))["tasks"]
assert [t["status"] for t in tasks] == ["complete"] * 3, tasks
assert tasks[0]["address"] == "127.0.0.1:" + sys.argv[2], tasks
assert tasks[1]["address"] == "127.0.0.1:" + sys.argv[3], tasks
PY

pids=("${server_pids[@]}")
files=("${server_ports_files[@]}")
stop_server
for i in 0 1; do
    ! kill -0 "${pids[$i]}" 2>/dev/null || fail "server $((i + 1)) (pid ${pids[$i]}) still runs after stop_server"
    [ ! -e "${files[$i]}" ] || fail "server $((i + 1)) left its ports file behind"
done
[ "${#server_pids[@]}" -eq 0 ] && [ -z "$server_pid" ] || fail "stop_server left servers listed"
[ -s "$work/server.log" ] && [ -s "$work/server-2.log" ] || fail "stop_server removed the logs"

# A server that ignores SIGTERM (a stand-in that writes its ports file and sleeps) is killed after the
# bounded wait, and the next start_server numbers its files from the first again.
fake="$work/fake-build/poetry_server"
mkdir -p "$fake"
cat >"$fake/poetry_server" <<'SH'
#!/bin/sh
# --ports-file FILE ...: writes FILE with this pid, then sleeps with SIGTERM ignored (exec: same pid).
exec python3 -c '
import json, os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(sys.argv[1], "w") as f:
    json.dump([{"host": "127.0.0.1", "port": 1, "pid": os.getpid()}], f)
time.sleep(120)' "$2"
SH
chmod +x "$fake/poetry_server"
real_build=$build
build="$work/fake-build"
server_stop_timeout=1
start_server
[ "$server_ports_file" = "$work/ports.json" ] || fail "after stop_server, the next server is not the first again"
stubborn=$server_pid
started=$SECONDS
stop_server 2>"$work/stop.err"
! kill -0 "$stubborn" 2>/dev/null || fail "a server that ignores SIGTERM still runs after stop_server"
[ $((SECONDS - started)) -le 5 ] || fail "stop_server took $((SECONDS - started)) s with a 1 s bound"
grep -q "still runs 1 s after SIGTERM: SIGKILL" "$work/stop.err" || fail "stop_server did not say it killed: $(cat "$work/stop.err")"
build=$real_build
server_stop_timeout=10

# A server that cannot start: start_server fails, shows its error, and keeps nothing.
if start_server --num-bytes 0 "$root/poems/science.txt" 2>"$work/start.err"; then
    fail "start_server succeeded with a server that cannot start"
fi
[ -s "$work/start.err" ] || fail "start_server did not show the server's error"
[ "${#server_pids[@]}" -eq 0 ] || fail "start_server kept a server that exited"
echo "check_server_sh: two servers started, listed, read in order and stopped; a stubborn one killed"
