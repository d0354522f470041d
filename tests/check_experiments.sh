#!/usr/bin/env bash
# Runs every experiment in its quick mode into a temporary results folder and checks what it wrote:
# a table row and a CSV row per strategy, CSVs that parse, SVGs that are well-formed (xmllint) and
# render (rsvg-convert, a PNG with content); that each prints a progress line per run on stderr,
# [1/N] to [N/N] (tests/check_progress.py), and none on stdout, and POETRY_PROGRESS=0 none at all;
# then that a failing client makes an experiment exit non-zero and leave no server behind.
# Usage: check_experiments.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
experiments="$here/../experiments"
export BUILD_DIR="$1"
unset POETRY_PROGRESS POETRY_PROGRESS_DEPTH  # the lines checked below, at the left margin
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export RESULTS_DIR="$work/results"
strategies=(blocking processes threads nonblocking callbacks futures coroutines asio)
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# csv_rows FILE LABEL: how many rows of the CSV carry that label (and that it parses at all).
csv_rows() {
    python3 -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert rows and all(r["strategy"] and float(r["wall_s"]) >= 0 for r in rows), "bad CSV"
print(sum(r["label"] == sys.argv[2] for r in rows))' "$1" "$2"
}

check_svg() {
    xmllint --noout "$1" || fail "$1 is not well-formed XML"
    rsvg-convert -o "$work/render.png" "$1" || fail "rsvg-convert cannot render $1"
    [ "$(head -c 8 "$work/render.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
        [ "$(stat -c %s "$work/render.png")" -gt 2000 ] || fail "$1 renders to an empty or non-PNG image"
}

run() {  # run NAME: the experiment in quick mode, its table kept in $work/NAME.out, its stderr in NAME.err
    echo "== experiments/$1 --quick"
    if ! "$experiments/$1" --quick >"$work/$1.out" 2>"$work/$1.err"; then
        cat "$work/$1.out" "$work/$1.err"
        fail "experiments/$1 --quick exited non-zero"
    fi
}

# progress NAME COUNT: experiments/NAME's last run said [1/COUNT] ... [COUNT/COUNT] done on stderr,
# and its stdout (the table) has no progress line.
progress() {
    "$here/check_progress.py" "$work/$1.err" "$1" "$2" "$work/$1.out" || fail "experiments/$1: progress lines"
}

run classic
progress classic 3  # every strategy at once, then the lesson's two runs
[ "$(csv_rows "$RESULTS_DIR/classic/classic.csv" "delay 0.05")" = 8 ] || fail "classic.csv: not 8 rows"
for strategy in "${strategies[@]}"; do
    grep -q "^delay 0.05 *$strategy " "$work/classic.out" || fail "classic table has no row for $strategy"
done
check_svg "$RESULTS_DIR/classic/timeline.svg"
# The lesson's own runs, and its figures beside ours: the Pool(4) row and the one-thread-at-a-time
# row (which takes the sum of the poems' times, like blocking: 1.8 s at --delay 0.05).
[ "$(csv_rows "$RESULTS_DIR/classic/classic.csv" "delay 0.05, --workers 4")" = 1 ] || fail "no --workers 4 row"
[ "$(csv_rows "$RESULTS_DIR/classic/classic.csv" "delay 0.05, --workers 1")" = 1 ] || fail "no --workers 1 row"
check_svg "$RESULTS_DIR/classic/processes-4.svg"
check_svg "$RESULTS_DIR/classic/threads-1.svg"
lessons="$RESULTS_DIR/classic/lessons.md"
[ "$(grep -c '^| delay 0.05' "$lessons")" = 10 ] || fail "lessons.md: not 10 rows"
grep -q '^| delay 0.05 | blocking | .* | about 21 s | one poem after another: .* 1.80 s by the schedule' \
    "$lessons" || fail "lessons.md: the blocking row lacks the lesson's 21 s or the 1.80 s schedule"
# At least the 1.80 s sum (the server's schedule cannot be beaten), far from the 0.65 s of all at once.
awk -F' [|] ' '$1 == "| delay 0.05, --workers 1" && $2 == "threads" { found = 1; exit !($3 >= 1.75 && $3 < 4) }
               END { if (!found) exit 1 }' "$lessons" \
    || fail "lessons.md: threads --workers 1 did not take the sum of the poems' times"

run crawler
progress crawler 1
# N = 10 in quick mode: every strategy, the lesson's figures beside ours, and the schedule's relation:
# one page after another takes at least 10 x 0.09 s, all at once about one request.
[ "$(csv_rows "$RESULTS_DIR/crawler/crawler.csv" "N 10")" = 8 ] || fail "crawler.csv: not 8 rows"
lessons="$RESULTS_DIR/crawler/lessons.md"
grep -q '^| 10 | blocking | .* | 0.928 | one page after another: 10 x 0.090 s = 0.900 s' "$lessons" \
    || fail "crawler lessons.md: the blocking row lacks the lesson's 0.928 s or the 0.9 s schedule"
awk -F' [|] ' '$2 == "blocking" { b = $3 } $2 == "callbacks" { c = $3 }
               END { exit !(b >= 0.9 && c >= 0.09 && c < b / 2) }' "$lessons" \
    || fail "crawler lessons.md: blocking is not the sum of the requests, or callbacks not concurrent"
# An experiment's own flags: a missing value and an unknown flag are refused with exit status 2.
for bad in "--pages" "--speed 3"; do
    status=0
    "$experiments/crawler" --quick $bad >"$work/bad.out" 2>&1 || status=$?
    [ "$status" = 2 ] && grep -q "^crawler: .*${bad%% *}" "$work/bad.out" \
        || fail "crawler $bad: exit status $status, said: $(cat "$work/bad.out")"
done
# A flag given with --quick wins over the quick default: N = 3 only, not the quick 10. Run quiet
# (POETRY_PROGRESS=0): its stderr has no progress line.
POETRY_PROGRESS=0 "$experiments/crawler" --quick --pages 3 --strategy callbacks >"$work/crawler-pages.out" \
    2>"$work/crawler-pages.err" \
    || fail "crawler --quick --pages 3 exited non-zero: $(cat "$work/crawler-pages.out" "$work/crawler-pages.err")"
"$here/check_progress.py" "$work/crawler-pages.err" crawler 0 || fail "POETRY_PROGRESS=0 did not silence crawler"
[ "$(csv_rows "$RESULTS_DIR/crawler/crawler.csv" "N 3")" = 1 ] &&
    [ "$(csv_rows "$RESULTS_DIR/crawler/crawler.csv" "N 10")" = 0 ] \
    || fail "crawler --quick --pages 3 did not run N = 3 alone"

run selectors
progress selectors 12  # 2 sizes x 2 strategies x 3 selectors
# 20 and 60 downloads in quick mode: a row for each strategy, selector and size, every download
# complete, a CPU per chunk, and the verdict at the size nearest 300.
python3 - "$RESULTS_DIR/selectors/selectors.csv" <<'PY' || fail "selectors.csv: not 12 complete rows with a CPU per chunk"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 12, len(rows)
assert {(r["strategy"], r["selector"]) for r in rows} == {(s, k) for s in ("callbacks", "coroutines")
                                                         for k in ("select", "poll", "epoll")}
assert all(r["complete"] == r["downloads"] and float(r["cpu_us_per_chunk"]) > 0 for r in rows)
PY
grep -q "^callbacks, 60 downloads: select .* s wall against epoll's" "$RESULTS_DIR/selectors/verdict.txt" \
    || fail "selectors: no verdict for callbacks at 60 downloads"
command -v gnuplot >/dev/null && check_svg "$RESULTS_DIR/selectors/selectors.svg"
# Flags given with --quick win over its 20,60 downloads and 0.01 s delay.
"$experiments/selectors" --quick --downloads 5 --delay 0.005 --strategy callbacks --selector epoll \
    >"$work/selectors-flags.out" 2>&1 || fail "selectors --quick --downloads 5 exited non-zero"
grep -q "every 0.005 s" "$work/selectors-flags.out" || fail "selectors --quick --delay 0.005 did not use that delay"
[ "$(cut -d, -f3 "$RESULTS_DIR/selectors/selectors.csv" | tail -n +2 | sort -u)" = 5 ] \
    || fail "selectors --quick --downloads 5 did not run 5 downloads alone"

run proxy
progress proxy 4
# Four GETs: direct and through three proxies; the paced ones take their time, the reset one is cut.
python3 - "$RESULTS_DIR/proxy/proxy.csv" <<'PY' || fail "proxy.csv: not the four GETs as the settings make them"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
last = {}
for r in rows:
    last[r["setting"]] = (float(r["seconds"]), int(r["bytes"]))
assert list(last) == ["direct", "--rate 20000", "--rate 20000 --first-byte-delay 0.3 --jitter 0.02",
                      "--rate 20000 --reset-after 10000"], list(last)
assert last["direct"][1] == last["--rate 20000"][1] > 20000, last  # the same response, headers included
assert last["--rate 20000"][0] >= 0.99, last                        # 20,000 bytes at 20,000 bytes/s
assert 5000 < last["--rate 20000 --reset-after 10000"][1] <= 10000, last  # a reset may lose what was unread
PY
grep -q '| `--rate 20000 --reset-after 10000` | .* | reset |' "$RESULTS_DIR/proxy/proxy.md" \
    || fail "proxy.md: the reset is not reported"
command -v gnuplot >/dev/null && check_svg "$RESULTS_DIR/proxy/proxy.svg"

run blocking-server
progress blocking-server 6
for mode in blocking threaded async; do
    for clients in 2 10; do
        [ "$(csv_rows "$RESULTS_DIR/blocking-server/blocking-server.csv" "$mode server, $clients clients")" = 1 ] ||
            fail "blocking-server.csv: no row for $mode with $clients clients"
    done
    check_svg "$RESULTS_DIR/blocking-server/$mode.svg"
done
# What the experiment shows: ten clients of a blocking server wait for each other; of an async one not.
python3 - "$RESULTS_DIR/blocking-server/blocking-server.csv" <<'PY' || fail "blocking server not slower"
import csv, sys
rows = {r["label"]: float(r["wall_s"]) for r in csv.DictReader(open(sys.argv[1]))}
assert rows["blocking server, 10 clients"] > 3 * rows["async server, 10 clients"], rows
PY

run scaling
progress scaling 14  # 2 sizes x 8 strategies, less blocking and nonblocking at 50
for k in 5 50; do
    expected=8
    [ "$k" = 50 ] && expected=6  # blocking and nonblocking are skipped above 10
    [ "$(csv_rows "$RESULTS_DIR/scaling/scaling.csv" "$k")" = "$expected" ] ||
        fail "scaling.csv: not $expected rows for $k downloads"
done
grep -q "blocking at 50 skipped" "$work/scaling.out" || fail "scaling does not say why blocking is skipped"
check_svg "$RESULTS_DIR/scaling/scaling.svg"

run servers
progress servers 17  # 2 sizes x 9 modes, less blocking at 50
python3 - "$RESULTS_DIR/servers/servers.csv" <<'PY' || fail "servers.csv: not a complete row for every mode"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
modes = {(r["mode"], r["selector"]) for r in rows if r["clients"] == "5" and r["complete"] == "5"}
expected = {("blocking", ""), ("threaded", ""), ("async", "")} | {
    (m, s) for m in ("callbacks", "coroutines") for s in ("epoll", "poll", "select")}
assert modes == expected, f"rows at 5 clients: {sorted(modes)}"
assert all(float(r["cpu_s"]) >= 0 and float(r["peak_mb"]) > 0 for r in rows)
assert not any(r["mode"] == "blocking" and r["clients"] == "50" for r in rows), "blocking at 50 not skipped"
PY
check_svg "$RESULTS_DIR/servers/servers.svg"

run latency
if grep -q "skipped: cannot create network namespaces" "$work/latency.out"; then
    echo "(latency: no namespaces on this machine; its skip message was checked)"
    progress latency 0
else
    progress latency 2
    [ "$(csv_rows "$RESULTS_DIR/latency/latency.csv" "one-way 0ms loss 0%")" = 8 ] || fail "latency.csv: no baseline"
    ! ip netns list | grep -q poetry-lat || fail "latency left a network namespace behind"
fi

# A client that fails: the experiment must exit non-zero, and its server must be gone. The server is
# started through a wrapper that writes down its pid and execs the real one (keeping the pid), so that
# this check looks at, and ends, only the servers it caused to be started, never another by its name.
echo "== a failing client"
fake="$work/fake-build"
server="$(readlink -f "$BUILD_DIR/poetry_server/poetry_server")"
mkdir -p "$fake/poetry_server" "$fake/poetry_client"
printf '#!/bin/sh\necho $$ >>"%s"\nexec "%s" "$@"\n' "$work/server.pids" "$server" >"$fake/poetry_server/poetry_server"
printf '#!/bin/sh\necho "fake client: failing on purpose" >&2\nexit 1\n' >"$fake/poetry_client/poetry_client"
chmod +x "$fake/poetry_server/poetry_server" "$fake/poetry_client/poetry_client"
if BUILD_DIR="$fake" "$experiments/classic" --quick >"$work/failing.out" 2>&1; then
    fail "classic exited 0 although its client failed"
fi
touch "$work/server.pids"
[ -s "$work/server.pids" ] || fail "classic did not start its server through \$BUILD_DIR"
while read -r pid; do
    # Still that server (not a new process that reuses its pid): end it, by its pid, and say so.
    if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$server" ]; then
        kill "$pid" 2>/dev/null || true
        fail "classic left its server (pid $pid) running after the client failed"
    fi
done <"$work/server.pids"

[ "$failures" = 0 ] && echo "all experiment checks passed"
exit $((failures > 0))
