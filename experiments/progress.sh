# shellcheck shell=bash
# Sourced by experiments/lib.sh (so by every experiment) and by experiments/figures: a progress line
# per finished step, on stderr, so that the tables on stdout stay as they were. The same lines as
# bench/harness/progress.py writes for bench/run and tests/faults_report.py (tests/test_progress.py
# compares the two):
#     [3/12] classic: threads (9.1 s); 9 left, about 1m20s to go
#     [12/12] classic: threads 1 (0.7 s); done in 2m31s
#     [3] name: what (9.1 s); 27 s so far          (progress_start without a total)
# progress_start [TOTAL [TOTAL_WEIGHT]] starts the clock; progress_step "what just finished" [WEIGHT]
# prints a line. The time to go is the time so far divided by the weight of the steps done, times the
# weight of the steps left (a step weighs 1 unless told otherwise; weights are whole numbers). The
# script's $name names the lines. POETRY_PROGRESS=0 silences them. Scripts started after
# progress_start inherit POETRY_PROGRESS_DEPTH one higher, and indent their lines two spaces a level.

# Microseconds since the epoch, into $progress_now (EPOCHREALTIME with its decimal point dropped).
_progress_now() {
    progress_now=${EPOCHREALTIME//[!0-9]/}
}

# progress_duration MICROSECONDS: '0.4 s', '9.1 s', '42 s', '1m20s', '1h02m' (as progress.py's duration).
progress_duration() {
    local tenths=$((($1 + 50000) / 100000)) whole=$((($1 + 500000) / 1000000))
    if [ "$tenths" -lt 100 ]; then
        echo "$((tenths / 10)).$((tenths % 10)) s"
    elif [ "$whole" -lt 60 ]; then
        echo "$whole s"
    elif [ "$whole" -lt 3600 ]; then
        printf '%dm%02ds\n' $((whole / 60)) $((whole % 60))
    else
        printf '%dh%02dm\n' $((whole / 3600)) $((whole / 60 % 60))
    fi
}

progress_start() {
    progress_total=${1:-}
    progress_weight_total=${2:-${1:-}}
    progress_done=0
    progress_weight_done=0
    : "${progress_depth:=${POETRY_PROGRESS_DEPTH:-0}}"
    progress_indent=$(printf '%*s' $((2 * progress_depth)) '')
    export POETRY_PROGRESS_DEPTH=$((progress_depth + 1))
    _progress_now
    progress_began=$progress_now
    progress_last=$progress_now
}

progress_step() {
    local what=$1 weight=${2:-1} took elapsed line
    _progress_now
    took=$((progress_now - progress_last))
    elapsed=$((progress_now - progress_began))
    progress_last=$progress_now
    progress_done=$((progress_done + 1))
    progress_weight_done=$((progress_weight_done + weight))
    line="${progress_indent}[$progress_done"
    if [ -z "$progress_total" ]; then
        line+="] $name: $what ($(progress_duration "$took")); $(progress_duration "$elapsed") so far"
    elif [ "$progress_done" -ge "$progress_total" ]; then
        line+="/$progress_total] $name: $what ($(progress_duration "$took")); done in $(progress_duration "$elapsed")"
    else
        local left=$((progress_weight_total - progress_weight_done))
        [ "$left" -lt 0 ] && left=0
        [ "$progress_weight_done" -gt 0 ] || left=0
        line+="/$progress_total] $name: $what ($(progress_duration "$took")); $((progress_total - progress_done)) left,"
        line+=" about $(progress_duration $((left > 0 ? elapsed * left / progress_weight_done : 0))) to go"
    fi
    [ "${POETRY_PROGRESS:-1}" = 0 ] || echo "$line" >&2
}
