# Sourced by every experiment: where things are, the results folder, --quick, cleanup on any exit
# (servers stopped even on Ctrl-C or failure), the client and summary helpers, and progress_start /
# progress_step (experiments/progress.sh: a line per finished run on stderr, with the time to go).
# An experiment sets $name before sourcing, and may add its own cleanup to `cleanup_extra`.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build/default}"
poems="$root/poems"
quick=0
results="${RESULTS_DIR:-$root/results}/$name"
# An experiment may declare flags of its own before sourcing this file: an associative array `flags`
# from each flag's name to its default, which `--name VALUE` on the command line replaces.
declare -A flags
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        --*)
            if [[ ! -v "flags[${1#--}]" ]]; then
                echo "$name: unknown argument $1 (try --help)" >&2
                exit 2
            fi
            if [ $# -lt 2 ]; then
                echo "$name: $1 needs a value (try --help)" >&2
                exit 2
            fi
            flags[${1#--}]=$2
            shift
            ;;
        *) echo "$name: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
for binary in poetry_server/poetry_server poetry_client/poetry_client; do
    if [ ! -x "$build/$binary" ]; then
        echo "$name: $build/$binary is not built: run make build (or set BUILD_DIR)" >&2
        exit 2
    fi
done
mkdir -p "$results"
work="$(mktemp -d)"
source "$root/scripts/server.sh"
source "$root/experiments/progress.sh"
cleanup_extra() { :; }
cleanup() {
    stop_server
    cleanup_extra
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # runs the EXIT trap
ulimit -n "$(ulimit -Hn)"

# client ARGS...: poetry_client with a time bound; its exit status is the caller's to judge.
client() {
    timeout 900 "$build/poetry_client/poetry_client" "$@"
}

# summarise LABEL CSV < client.json: prints the table rows and appends them to CSV (header once).
summarise() {
    python3 "$root/experiments/summarise.py" "$@"
}
