#!/usr/bin/env bash
# Keeps docs/lessons.md's "The concepts" true to its source: every decimal figure that section quotes
# (9.10, 1.527, 143.1, ...) must appear as a number of its own in docs/figures/measured.md, so that
# regenerating the figures without updating the section fails here. (Whole numbers such as "1,000
# downloads" are the experiments' sizes, not measurements, and are not checked.)
# Usage: check_lessons_figures.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
section=$(awk '/^## The concepts/ { inside = 1; next } /^## / { inside = 0 } inside' "$root/docs/lessons.md")
measured="$root/docs/figures/measured.md"
figures=$(grep -oE '[0-9]+\.[0-9]+' <<<"$section" || true)
count=$(grep -c . <<<"$figures" || true)
failures=0
if [ "$count" -lt 4 ]; then  # the section is gone or renamed, or its figures are no longer decimals
    echo "lessons figures: found only $count figures in docs/lessons.md's \"The concepts\"" >&2
    failures=1
fi
for figure in $figures; do
    if ! grep -qE "(^|[^0-9.])${figure//./\\.}([^0-9]|$)" "$measured"; then
        echo "lessons figures: docs/lessons.md's \"The concepts\" quotes $figure," \
            "which docs/figures/measured.md does not have" >&2
        failures=$((failures + 1))
    fi
done
[ "$failures" = 0 ] && echo "lessons figures: all $count figures of \"The concepts\" are in docs/figures/measured.md"
exit $((failures > 0))
