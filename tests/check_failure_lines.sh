#!/usr/bin/env bash
# Keeps docs/lessons.md's "One failure in four models" true. (1) Every reference of the form
# `FILE:LINE` — `CODE` in the docs names a line of that file that contains CODE. (2) The blocking,
# callbacks, futures and coroutines strategies, against a server that resets after 100 bytes, each
# print the report line the section shows. Usage: check_failure_lines.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$1"
doc="$root/docs/lessons.md"
failures=0
fail() {
    echo "failure lines: $*" >&2
    failures=$((failures + 1))
}

references=0
while IFS=$'\t' read -r file line code; do
    references=$((references + 1))
    if [ ! -f "$root/$file" ]; then
        fail "$file (named in docs/lessons.md) does not exist"
    elif ! sed -n "${line}p" "$root/$file" | grep -qF -- "$code"; then
        fail "$file:$line is now: $(sed -n "${line}p" "$root/$file" | sed 's/^ *//'); docs/lessons.md expects \`$code\`"
    fi
done < <(grep -oE '`[A-Za-z0-9_/.]+\.(cpp|hpp):[0-9]+` — `[^`]+`' "$doc" \
    | sed -E 's/^`([^:]+):([0-9]+)` — `(.*)`$/\1\t\2\t\3/')
[ "$references" -ge 10 ] || fail "found only $references line references in docs/lessons.md"

# The line after the fence that follows the marker.
expected=$(awk '/<!-- failure report:/ { marker = NR } marker && NR == marker + 2 { print; exit }' "$doc")
[ -n "$expected" ] || fail "docs/lessons.md has no failure report block"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
"$build/poetry_server/poetry_server" -q --ports-file "$work/ports.json" --num-bytes 50 --delay 0.01 \
    --reset-after 100 "$root/poems/science.txt" >"$work/server.log" 2>&1 &
server_pid=$!
for strategy in blocking callbacks futures coroutines; do
    status=0
    "$build/poetry_client/poetry_client" --ports-file "$work/ports.json" --wait 10 --strategy "$strategy" \
        >"$work/out" 2>&1 || status=$?
    port=$(sed -n 's/.*"port": \([0-9]*\).*/\1/p' "$work/ports.json" | head -n 1)
    got=$(grep '^Task 1: partial' "$work/out" | sed "s/:$port,/:PORT,/" || true)
    [ "$got" = "$expected" ] || fail "$strategy printed '$got', docs/lessons.md shows '$expected'"
    [ "$status" = 1 ] || fail "$strategy exited $status, not 1, for a partial poem"
done
if [ "$failures" -ne 0 ]; then
    exit 1
fi
echo "failure lines: $references references hold, and the four strategies print the documented report"
