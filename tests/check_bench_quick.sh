#!/usr/bin/env bash
# bench/run --quick against a build (CTest's bench_quick): every benchmark still runs and measures
# (bench/run's exit status, as before), and its progress goes to stderr, a line per suite ([1/N] to
# [N/N], N the suites bench/run lists) and beneath each one a line per run, with none on stdout among the tables
# (tests/check_progress.py). Both outputs are shown after the run. Usage: check_bench_quick.sh BUILD_DIR
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unset POETRY_PROGRESS POETRY_PROGRESS_DEPTH  # the lines checked below, at the left margin
status=0
"$here/../bench/run" --quick --build-dir "$1" >"$work/out" 2>"$work/err" || status=$?
cat "$work/out"
cat "$work/err" >&2
# bench/run's SUITES, all of which --quick runs: counted from the list, so a new suite needs no edit here.
suites=$(python3 -c 'import ast, re, sys
print(len(ast.literal_eval(re.search(r"^SUITES = (\[.*?\])", open(sys.argv[1]).read(), re.S | re.M).group(1))))' \
    "$here/../bench/run")
"$here/check_progress.py" "$work/err" bench/run "$suites" "$work/out" || status=1
exit "$status"
