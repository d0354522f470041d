#!/usr/bin/env bash
# docs/library.md's examples are copies of code that the package_consumer test compiles and runs, so
# they cannot drift from it: every ```cpp block in the guide follows a line
#   <!-- example: tests/package/consumer/FILE -->
# and must appear in FILE verbatim, as whole consecutive lines. An unmarked block fails too, so that a
# new example cannot skip the check.
# Usage: check_doc_examples.sh SOURCE_DIR
set -euo pipefail
root=$1
doc="$root/docs/library.md"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Each block goes to $work/N, and "N FILE LINE" (LINE: the block's fence in the guide) to $work/list.
awk -v work="$work" '
    /^<!-- example: [^ ]+ -->$/ { source = $3; previous = $0; next }
    inside && /^```/ { inside = 0; close(block); next }
    inside { print > block; next }
    /^```cpp/ {
        if (previous !~ /^<!-- example: /) { print "unmarked " FNR > (work "/list"); next }
        count++; block = work "/" count; inside = 1
        printf "" > block
        print count " " source " " FNR > (work "/list")
    }
    { previous = $0 }
    END { if (inside) print "unterminated " FNR > (work "/list") }
' "$doc"

status=0 checked=0
while read -r block source line; do
    case $block in
        unmarked) echo "library.md:$source: a cpp block without an <!-- example: FILE --> line before it" >&2
            status=1; continue ;;
        unterminated) echo "library.md: a cpp block is not closed" >&2; status=1; continue ;;
    esac
    if [ ! -f "$root/$source" ]; then
        echo "library.md:$line: $source does not exist" >&2
        status=1
        continue
    fi
    # Newlines around both sides: the block must start and end at line boundaries.
    text=$'\n'"$(cat "$root/$source")"$'\n' example=$'\n'"$(cat "$work/$block")"$'\n'
    if [ "$example" = $'\n\n' ] || [[ "$text" != *"$example"* ]]; then
        echo "library.md:$line: this example is not in $source as written:" >&2
        cat "$work/$block" >&2
        status=1
    fi
    checked=$((checked + 1))
done < <(cat "$work/list" 2>/dev/null)

if [ "$checked" -eq 0 ]; then
    echo "library.md: no marked examples found (has the marker changed?)" >&2
    exit 1
fi
[ "$status" -eq 0 ] && echo "library.md: $checked examples, each verbatim in its consumer source"
exit "$status"
