#!/usr/bin/env bash
# Runs the README's scripting example exactly as written (the shell block after the "scripting
# example" marker), twice in a row, in a scratch folder that looks like the repository's root
# (build/default, poems/ and experiments/ linked in), and checks what it leaves: every strategy's
# poems complete in the JSON, a timeline, the CSV rows of both runs, and no ports file left behind.
#
#   tests/check_readme_example.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check_readme_example: $*" >&2; exit 1; }

source "$root/tests/readme_block.sh"
block=$(readme_block "scripting example" "$root")
[ -n "$block" ] || fail "no scripting example block in README.md"

scratch_root "$work" "$build" "$root"

for run in 1 2; do
    # -e: a failing line (a client that exits 1) fails the example, as it would fail a script.
    (cd "$work" && timeout 120 bash -e -c "$block") > "$work/run$run.out" 2>&1 ||
        { cat "$work/run$run.out" >&2; fail "run $run of the example failed"; }
    results="$work/results/my-run"
    [ ! -e "$results/ports.json" ] || fail "run $run left the server's ports file behind"
    [ -s "$results/run.svg" ] || fail "run $run wrote no timeline"
    python3 - "$results/run.json" <<'PY' || fail "run $run: not every strategy got every poem"
import json, sys
document = json.load(open(sys.argv[1]))
runs = document["strategies"]
assert len(runs) == 8, len(runs)
for run in runs:
    totals = run["totals"]
    assert totals["downloads"] == 3 and totals["complete"] == 3, (run["strategy"], totals)
PY
    rows=$(($(wc -l < "$results/my.csv") - 1))
    [ "$rows" -eq $((8 * run)) ] || fail "run $run: my.csv has $rows rows, not $((8 * run))"
done
echo "check_readme_example: the README's scripting example ran twice as written"
