#!/usr/bin/env bash
# Fuzzes each libFuzzer target for SECONDS (default 60), one after another, and fails if any finds a
# crash, a sanitizer report, an uncaught exception or an input that takes over 5 s. Builds nothing:
# run `cmake --preset fuzz && cmake --build --preset fuzz` first (`make fuzz` does both).
#
#   tests/fuzz/run.sh [SECONDS]
#
# The seeds in tests/fuzz/corpus/<target>/ are only read; what the fuzzer learns goes to
# build/fuzz/corpus/<target>/ and a crashing input to build/fuzz/artifacts/<target>/ (reproduce it
# with `build/fuzz/tests/fuzz/<target> FILE`; keep it under tests/fuzz/regressions/<target>/ so that
# ctest --preset fuzz replays it).
set -euo pipefail

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: $0 [SECONDS]   (a whole number above 0; default 60)" >&2
    exit 2
fi

source_dir=$(cd "$(dirname "$0")" && pwd)
build_dir=$(cd "$source_dir/../.." && pwd)/build/fuzz
targets=(fuzz_address fuzz_server_options fuzz_ports_file)

failed=()
for target in "${targets[@]}"; do
    binary=$build_dir/tests/fuzz/$target
    if [ ! -x "$binary" ]; then
        echo "run.sh: $binary is missing: cmake --preset fuzz && cmake --build --preset fuzz" >&2
        exit 2
    fi
    corpus=$build_dir/corpus/$target
    artifacts=$build_dir/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    dict=()
    if [ -f "$source_dir/$target.dict" ]; then
        dict=("-dict=$source_dir/$target.dict")
    fi
    echo "== $target: ${seconds} s"
    # -print_final_stats only: the per-input lines would fill the CI log.
    if ! "$binary" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" "$source_dir/corpus/$target" \
        2> "$build_dir/$target.log"; then
        tail -n 60 "$build_dir/$target.log" >&2
        echo "run.sh: $target failed; the input is in $artifacts/ (full log: $build_dir/$target.log)" >&2
        failed+=("$target")
    else
        grep -E '^stat::(number_of_executed_units|new_units_added)' "$build_dir/$target.log" || true
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "run.sh: crashes in ${failed[*]}" >&2
    exit 1
fi
echo "run.sh: no crash in ${targets[*]} (${seconds} s each)"
