#!/usr/bin/env bash
# Installs the library from BUILD_DIR into a temporary prefix, builds tests/package/consumer against
# that prefix as an outside project would, runs it and checks what it printed.
# Usage: check_package.sh BUILD_DIR CXX_COMPILER GENERATOR BUILD_TYPE CXX_FLAGS LINKER_FLAGS
# The consumer is built the way the library was (build type, and flags such as a sanitizer's, which a
# static library needs its users to link with too).
set -euo pipefail
build_dir=$1 compiler=$2 generator=$3 build_type=${4:-Release} cxx_flags=${5:-} linker_flags=${6:-}
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >"$work/install.log"
# Only the library is installed: its headers, its archives and its package files, nothing from src/.
if find "$work/prefix" -path '*/src/*' | grep -q .; then
    echo "package: the install copied a src/ file" >&2
    exit 1
fi
cmake -S "$here/consumer" -B "$work/build" -G "$generator" -DCMAKE_CXX_COMPILER="$compiler" \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_CXX_FLAGS="$cxx_flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$linker_flags" >"$work/configure.log" \
    || { cat "$work/configure.log" >&2; exit 1; }
cmake --build "$work/build" >"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
output="$(timeout 20 "$work/build/echo")"
expected=$'echo: one\necho: two\necho: three'
if [ "$output" != "$expected" ]; then
    printf 'package: the consumer printed:\n%s\nexpected:\n%s\n' "$output" "$expected" >&2
    exit 1
fi
output="$(timeout 20 "$work/build/layers")"
expected=$'net: a line\nselectors: readable: a line\nloop: a line'
# The metrics line's numbers vary: its shape is what is checked.
cost='^metrics: [0-9]+\.[0-9]{3} s of CPU \([0-9]+\.[0-9]{3} s user\), peak memory [1-9][0-9]* KiB$'
if [ "$(head -n 3 <<<"$output")" != "$expected" ] || [ "$(wc -l <<<"$output")" -ne 4 ] \
    || [[ ! "$(tail -n 1 <<<"$output")" =~ $cost ]]; then
    printf 'package: the layers example printed:\n%s\nexpected:\n%s\n%s\n' "$output" "$expected" "$cost" >&2
    exit 1
fi
# A version the package does not promise to be compatible with is refused.
if cmake -S "$here/consumer" -B "$work/build-wrong" -G "$generator" -DCMAKE_CXX_COMPILER="$compiler" \
    -DCMAKE_PREFIX_PATH="$work/prefix" \
    -DPOETRY_WANTED_VERSION=1.0 >"$work/wrong.log" 2>&1; then
    echo "package: find_package(poetry 1.0) accepted version 0.1" >&2
    exit 1
fi
if ! grep -q 'poetryConfig.cmake, version: 0.1.0' "$work/wrong.log"; then  # considered, not accepted
    echo "package: find_package(poetry 1.0) failed, but not for its version:" >&2
    cat "$work/wrong.log" >&2
    exit 1
fi
echo "package: installed, built the consumer out of tree, and its echo and layers programs printed what they should"
