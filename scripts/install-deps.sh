#!/usr/bin/env bash
# Installs the Debian packages that the named tiers need, and only those that are missing, so that
# each Makefile target is its own whole set-up on a fresh Debian machine without pulling in what only
# another tier uses (no clang for `make test`, no gnuplot for `make demo`).
#
#   scripts/install-deps.sh TIER...     tiers: build test demo slow bench fuzz (build is always added)
#   scripts/install-deps.sh --list TIER...  print the packages the tiers need, one line, and exit
set -euo pipefail

usage() {
    echo "usage: $0 [--list] TIER...  (tiers: build test demo slow bench fuzz)" >&2
    exit 2
}

packages_of() {
    case "$1" in
        build) echo cmake ninja-build g++ make pkg-config libasio-dev libcxxopts-dev nlohmann-json3-dev \
            libboost-test-dev ;;
        # test_timeline checks that the SVG pictures are well-formed (xmllint) and render (rsvg-convert);
        # test_proxy puts the proxy in front of Python's http.server; the README's proxy example
        # (tests/check_proxy_example.sh) fetches through it with curl; tmux is the terminal that
        # tests/check_live_view.sh runs poetry_client --live in.
        test) echo python3 curl libxml2-utils librsvg2-bin tmux ;;
        # experiments/classic writes its table with experiments/summarise.py; curl: the proxy example.
        demo) echo python3 curl ;;
        # The slow tier: the experiments (summaries, the scaling plot, network namespaces with veth and
        # tc netem for the latency one) and bench/run --quick.
        slow) echo python3 python3-uvloop gnuplot-nox iproute2 valgrind libxml2-utils librsvg2-bin ;;
        # bench/run is Python; its reference servers run on asyncio; callgrind counts instructions.
        # python3-uvloop: the reference server on uvloop, the fast Python loop a user would reach for.
        bench) echo python3 python3-uvloop valgrind ;;
        # clang only recommends the package that holds libFuzzer and its sanitizer runtimes; the
        # metapackage follows Debian's default clang version.
        fuzz) echo clang libclang-rt-dev ;;
        *) echo "install-deps: unknown tier '$1'" >&2; usage ;;
    esac
}

list_only=false
if [ "${1-}" = "--list" ]; then
    list_only=true
    shift
fi
[ $# -gt 0 ] || usage

packages=()
for tier in build "$@"; do
    tier_list=$(packages_of "$tier") || exit 2
    read -r -a tier_packages <<<"$tier_list"
    for pkg in "${tier_packages[@]}"; do
        [[ " ${packages[*]} " == *" $pkg "* ]] || packages+=("$pkg")
    done
done

if $list_only; then
    echo "${packages[*]}"
    exit 0
fi

# Not Debian (no dpkg-query or apt-get): say what is needed instead of failing on a missing command.
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: no dpkg-query/apt-get here; install the equivalents of these Debian packages" \
        "and run the make target again: ${packages[*]}" >&2
    exit 1
fi

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
# Another apt (unattended-upgrades on a fresh machine) may hold the lock: wait for it, up to 10 min.
apt=("${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 -q)
"${apt[@]}" update
"${apt[@]}" install -y --no-install-recommends "${missing[@]}"
