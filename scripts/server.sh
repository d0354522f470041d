# Sourced by scripts that need running poetry_servers, any number at once. start_server ARGS... starts
# one with its own ports file in $work (which the caller creates and removes), waits until every
# listener is bound, and appends it to the arrays server_pids, server_ports (each server's first
# listener's port), server_ports_files and server_logs; $server_pid, $server_port, $server_ports_file
# and $server_log name the last one started. The first server writes $work/ports.json and
# $work/server.log, the Nth at once $work/ports-N.json and $work/server-N.log, so a script with one
# server reads the same files as before. stop_server stops every server started: SIGTERM to each, then
# up to $server_stop_timeout whole seconds (default 10) for all of them to end, then SIGKILL to any left;
# it empties the arrays and $server_pid, and leaves the log files (and $server_log) for the caller.
# Callers set $build (the build directory) and trap stop_server on exit. A caller may set the array
# server_launcher to a command that runs the server (`ip netns exec NS`); it must exec it, keeping the pid.
server_pid=""
server_port=""
server_ports_file=""
server_log=""
server_pids=()
server_ports=()
server_ports_files=()
server_logs=()
server_launcher=()
server_stop_timeout="${server_stop_timeout:-10}"

start_server() {
    local n=$((${#server_pids[@]} + 1))
    local ports_file="$work/ports.json" log="$work/server.log"
    if [ "$n" -gt 1 ]; then
        ports_file="$work/ports-$n.json"
        log="$work/server-$n.log"
    fi
    rm -f "$ports_file"
    "${server_launcher[@]}" "$build/poetry_server/poetry_server" --ports-file "$ports_file" "$@" >"$log" 2>&1 &
    local pid=$!
    local tries
    for ((tries = 0; tries < 200; tries++)); do
        [ -e "$ports_file" ] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null || true  # ended: nothing for stop_server to stop
            cat "$log" >&2
            return 1
        fi
        sleep 0.05
    done
    # Kept from here on, even if it never wrote its file: stop_server must end it either way.
    server_pids+=("$pid")
    server_ports_files+=("$ports_file")
    server_logs+=("$log")
    server_pid=$pid
    server_ports_file=$ports_file
    server_log=$log
    if [ ! -e "$ports_file" ]; then
        echo "start_server: poetry_server (pid $pid) wrote no $ports_file within 10 s" >&2
        cat "$log" >&2
        return 1
    fi
    server_port=$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$ports_file" | head -n 1)
    server_ports+=("$server_port")
}

stop_server() {
    local pid ticks=0
    for pid in "${server_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    # One deadline for all: they were all told at once. bash reaps an ended child while it runs
    # `sleep`, so kill -0 fails once the server is gone.
    for pid in "${server_pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && [ "$ticks" -lt $((server_stop_timeout * 20)) ]; do
            sleep 0.05
            ticks=$((ticks + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "stop_server: poetry_server (pid $pid) still runs ${server_stop_timeout} s after SIGTERM: SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    server_pids=()
    server_ports=()
    server_ports_files=()
    server_logs=()
    server_pid=""
}
