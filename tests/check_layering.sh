#!/usr/bin/env bash
# Each library layer may include only itself, the layers below it, detail/ and metrics/
# (net <- selectors <- loop <- coro; metrics/ is built with net and stands alone), and only the epoll backend may include <sys/epoll.h>.
# All layers share one include root, so the compiler alone would not notice a violation.
set -euo pipefail
lib="$(cd "$(dirname "$0")/../lib" && pwd)"
declare -A allowed=(
    [net]="detail metrics net"
    [selectors]="detail metrics net selectors"
    [loop]="detail metrics net selectors loop"
    [coro]="detail metrics net selectors loop coro"
    [detail]="detail"
    [metrics]="metrics"
)
failures=0
for layer in "${!allowed[@]}"; do
    for dir in "$lib/include/poetry/$layer" "$lib/src/$layer"; do
        [ -d "$dir" ] || continue
        while IFS=: read -r file line include; do
            used=$(sed -E 's|.*"poetry/([a-z_]+)/.*|\1|' <<<"$include")
            if [[ " ${allowed[$layer]} " != *" $used "* ]]; then
                echo "layering: ${file#"$lib"/}:$line: the $layer layer includes poetry/$used" >&2
                failures=$((failures + 1))
            fi
        done < <(grep -rnE '#include "poetry/[a-z_]+/' "$dir" || true)
    done
done
while IFS= read -r file; do
    if [ "${file#"$lib"/}" != "src/selectors/epoll_selector.cpp" ]; then
        echo "layering: ${file#"$lib"/} includes <sys/epoll.h>; only the epoll backend may" >&2
        failures=$((failures + 1))
    fi
done < <(grep -rl '#include <sys/epoll.h>' "$lib" || true)
if [ "$failures" -ne 0 ]; then
    exit 1
fi
echo "layering: every include respects net <- selectors <- loop <- coro"
