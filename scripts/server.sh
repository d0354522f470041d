# Sourced by scripts that need a running poetry_server: start_server ARGS... starts it with a ports
# file in $work (which the caller creates and removes), waits until every listener is bound, and sets
# $server_pid and $server_port (the first listener's port). stop_server sends SIGTERM and waits.
# Callers set $build (the build directory) and trap stop_server on exit. A caller may set the array
# server_launcher to a command that runs the server (`ip netns exec NS`); it must exec it, keeping the pid.
server_pid=""
server_port=""
server_launcher=()

start_server() {
    rm -f "$work/ports.json"
    "${server_launcher[@]}" "$build/poetry_server/poetry_server" --ports-file "$work/ports.json" "$@" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 200); do
        [ -e "$work/ports.json" ] && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; return 1; }
        sleep 0.05
    done
    server_port=$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$work/ports.json" | head -n 1)
}

stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
