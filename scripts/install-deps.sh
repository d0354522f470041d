#!/usr/bin/env bash
# Installs the Debian packages the toolkit builds and tests with, and only those that are missing,
# so that `make demo` / `make test` are the whole set-up on a fresh Debian machine.
set -euo pipefail

packages=(
    cmake ninja-build g++ make pkg-config
    libasio-dev libcxxopts-dev libboost-test-dev nlohmann-json3-dev
    libxml2-utils librsvg2-bin
    python3 valgrind  # bench/run and its Python asyncio reference; callgrind instruction counts
    gnuplot-nox iproute2  # experiments: the scaling plot; namespaces, veth and tc netem for latency
    clang libclang-rt-14-dev  # the fuzz preset; clang only recommends libFuzzer's and the sanitizers' runtimes
)

missing=()
for pkg in "${packages[@]}"; do
    # dpkg -s succeeds for removed-but-configured packages too; ask for the status line itself.
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    # -n: never prompt (CI has no terminal); without root or passwordless sudo, say what to run instead.
    if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
        echo "install-deps: missing ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    sudo=(sudo -n)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
