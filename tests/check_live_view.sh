#!/usr/bin/env bash
# poetry_client --live on a real terminal: tmux runs the client in a detached session against real
# servers, and the screen is read with capture-pane.
#  1. A line per download; progress moves between two captures; the last screen has every download
#     complete and the summary under it; no colour codes with NO_COLOR; no progress lines.
#  2. The window shrinks mid-run: the frame is redrawn to the new width and height (no line wider than
#     the window, one header, the downloads that do not fit summed up in one line).
#     Ctrl-C (send-keys) mid-run leaves a last frame of interrupted downloads, and exit status 130.
#  3. --strategy all: one view per strategy, each under its "== name ==" line, in colour and block
#     characters, then the comparison.
#  4. Not a terminal (a file, TERM=dumb): one note on stderr and the usual report, exit status 0.
# Servers listen on free ports; tmux runs on a socket of its own, killed at the end.
#
#   tests/check_live_view.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
client="$build/poetry_client/poetry_client"
source "$root/scripts/server.sh"
tmux_() { tmux -S "$work/tmux.sock" -f /dev/null "$@"; }
trap 'tmux_ kill-server 2>/dev/null || true; stop_server; rm -rf "$work"' EXIT
fail() {
    echo "check_live_view: $*" >&2
    [ -f "$work/screen" ] && { echo "--- the last screen:" >&2; cat "$work/screen" >&2; }
    exit 1
}

# run_in_tmux NAME COLUMNS ROWS ENV... -- ARGS...: the client with ARGS, in the environment ENV, in a
# new session; then "EXIT=<status>" on the screen, and the pane stays for capture.
run_in_tmux() {
    local name=$1 columns=$2 rows=$3
    shift 3
    local environment=()
    while [ "$1" != "--" ]; do environment+=("$1"); shift; done
    shift
    printf '%q ' env "${environment[@]}" "$client" "$@" >"$work/$name.sh"
    printf '\necho "EXIT=$?"\nsleep 300\n' >>"$work/$name.sh"
    tmux_ new-session -d -s "$name" -x "$columns" -y "$rows" "bash $work/$name.sh"
}

# screen NAME [OPTIONS...]: what the session shows now, into $work/screen (and on stdout).
screen() {
    local name=$1
    shift
    tmux_ capture-pane -p "$@" -t "$name" >"$work/screen"
    cat "$work/screen"
}

# wait_for NAME PATTERN [SECONDS]: until the screen matches the extended regex PATTERN.
wait_for() {
    local deadline=$((SECONDS + ${3:-30}))
    until screen "$1" | grep -Eq -- "$2"; do
        [ $SECONDS -lt $deadline ] || fail "$1: no /$2/ on the screen after ${3:-30} s"
        sleep 0.1
    done
}

# bytes_of SCREEN_FILE TASK: the bytes the task's line shows so far.
bytes_of() {
    sed -nE "s/^ +$2  .* ([0-9,]+)\/[0-9,]+ B.*/\1/p" "$1" | tr -d ,
}

start_server -q --num-bytes 100,30 --delay 0.1 "$root/poems/ecstasy.txt" "$root/poems/science.txt"
slow_ports=$server_ports_file
start_server -q --num-bytes 100,30 --delay 0.005 "$root/poems/ecstasy.txt" "$root/poems/science.txt"
fast_ports=$server_ports_file
ecstasy=$(stat -c %s "$root/poems/ecstasy.txt" | sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta')

# 1. Four downloads at 0.1 s a chunk, 2 to 3 s each.
run_in_tmux one 110 30 NO_COLOR=1 LANG=C LC_ALL=C -- --ports-file "$slow_ports" --connections 2 --strategy callbacks --live
line='^ +[1-4]  (ecstasy|science) 127\.0\.0\.1:[0-9]+ +(connecting|receiving) '
wait_for one "^ +4  science .* receiving .*[1-9][0-9,]*/645 B"
screen one -e >"$work/first"
[ "$(grep -cE "$line" "$work/first")" -eq 4 ] || { cp "$work/first" "$work/screen"; fail "not a line per download"; }
grep -qE '^callbacks  [0-9.]+ s  [0-3]/4 done  [0-9.]+ k?B/s  CPU [0-9.]+ s' "$work/first" ||
    { cp "$work/first" "$work/screen"; fail "no header"; }
! grep -q $'\e' "$work/first" || { cp "$work/first" "$work/screen"; fail "colour codes with NO_COLOR=1"; }
sleep 0.6
screen one >"$work/second"
before=$(bytes_of "$work/first" 1)
after=$(bytes_of "$work/second" 1)
[ -n "$before" ] && [ -n "$after" ] && [ "$after" -gt "$before" ] ||
    { cp "$work/second" "$work/screen"; fail "task 1 did not move: '$before' bytes, then '$after'"; }
wait_for one '^EXIT='
grep -q '^EXIT=0$' "$work/screen" || fail "the run did not exit 0"
grep -qE '^callbacks  [0-9.]+ s  4/4 done' "$work/screen" || fail "the last frame does not say 4/4 done"
[ "$(grep -cE "^ +[1-4]  .* complete .* [0-9,]+/[0-9,]+ B" "$work/screen")" -eq 4 ] ||
    fail "not every download's last line says complete"
[ "$(grep -cF " $ecstasy/$ecstasy B" "$work/screen")" -eq 2 ] || fail "ecstasy's lines do not show all its bytes"
grep -qE '^Got 4 poems in [0-9.]+ s' "$work/screen" || fail "no summary under the last frame"
! grep -q 'Task [0-9]*: got' "$work/screen" || fail "progress lines beside the live view"

# 2. Twelve downloads; the window shrinks to 60 x 8 while they run.
run_in_tmux two 110 30 NO_COLOR=1 LANG=C LC_ALL=C -- --ports-file "$slow_ports" --connections 6 --strategy coroutines --live
wait_for two "^ +12  science .* receiving"
# Narrower: the terminal rewraps the old frame's lines, so it takes more rows than were drawn.
tmux_ resize-window -t two -x 60 -y 30
sleep 0.5
screen two -J >/dev/null  # -J: wrapped lines joined, so a line too wide for the window shows
awk 'length > 59 { bad = 1 } END { exit bad }' "$work/screen" || fail "a line wider than the 60-column window"
[ "$(grep -c '^coroutines  ' "$work/screen")" -eq 1 ] || fail "not exactly one header after the resize"
[ "$(grep -cE '^ +[0-9]+  ' "$work/screen")" -eq 12 ] || fail "not 12 download lines in 30 rows"
# Lower: what does not fit is summed up.
tmux_ resize-window -t two -x 60 -y 8
wait_for two '^  \.\.\. 7 more: ' 10
[ "$(grep -c '^coroutines  ' "$work/screen")" -eq 1 ] || fail "not exactly one header in 8 rows"
[ "$(grep -cE '^ +[0-9]+  ' "$work/screen")" -eq 5 ] || fail "not 5 download lines in 8 rows"
wait_for two '^EXIT='
grep -q '^EXIT=0$' "$work/screen" || fail "the resized run did not exit 0"

# Ctrl-C mid-run: the last frame marks what was cut short, and the exit status says SIGINT.
run_in_tmux five 110 30 NO_COLOR=1 LANG=C LC_ALL=C -- --ports-file "$slow_ports" --strategy threads --live
wait_for five "^ +2  science .* receiving .*[1-9][0-9,]*/645 B"
tmux_ send-keys -t five C-c
wait_for five '^EXIT='
grep -q '^EXIT=130$' "$work/screen" || fail "Ctrl-C: the exit status is not 130"
grep -qE '^threads  [0-9.]+ s  2/2 done  .* 2 interrupted' "$work/screen" || fail "Ctrl-C: the header"
[ "$(grep -cE '^ +[12]  .* interrupted ' "$work/screen")" -eq 2 ] || fail "Ctrl-C: not both lines interrupted"

# 3. Every strategy in turn, in colour and with block characters.
run_in_tmux three 120 40 TERM=screen NO_COLOR= LANG=C.UTF-8 LC_ALL= -- --ports-file "$fast_ports" --strategy all --live
wait_for three '^EXIT=' 120
screen three -e -S -300 >/dev/null
grep -q '^EXIT=0' "$work/screen" || fail "--strategy all did not exit 0"
for strategy in blocking processes threads nonblocking callbacks futures coroutines asio; do
    grep -q "^== $strategy ==" "$work/screen" || fail "no '== $strategy ==' line"
    grep -qE "^(.\[[0-9;]*m)*$strategy  [0-9.]+ s  2/2 done" "$work/screen" || fail "no last frame for $strategy"
done
grep -q $'\e\\[[0-9;]*32m' "$work/screen" || fail "no colour (green for complete) in a colour terminal"
grep -q '█' "$work/screen" || fail "no block characters in a UTF-8 locale"
grep -q '^Identity check: ' "$work/screen" || fail "no comparison after the views"

# 4. Not a terminal: the usual report, and one note.
"$client" --ports-file "$fast_ports" --live >"$work/out" 2>"$work/err" || fail "--live into a file: exit $?"
[ "$(cat "$work/err")" = "poetry_client: --live: stdout is not a terminal; the usual report follows" ] ||
    fail "stderr, --live into a file: $(cat "$work/err")"
grep -q '^Task 1: got 100 bytes of poetry from ' "$work/out" || fail "no progress lines into a file"
grep -qE '^Got 2 poems in ' "$work/out" || fail "no summary into a file"
run_in_tmux four 120 30 TERM=dumb -- --ports-file "$fast_ports" --live
wait_for four '^EXIT='
screen four -S - >/dev/null  # the note scrolled up with the progress lines
grep -q '^EXIT=0$' "$work/screen" || fail "TERM=dumb: exit status not 0"
grep -qF 'poetry_client: --live: the terminal cannot move its cursor (TERM=dumb); the usual report follows' \
    "$work/screen" || fail "TERM=dumb: no note"
grep -q '^Task 2: got 30 bytes of poetry from ' "$work/screen" || fail "TERM=dumb: no progress lines"

echo "check_live_view: the live view drew, moved, resized, coloured and fell back as it should"
