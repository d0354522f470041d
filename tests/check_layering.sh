#!/usr/bin/env bash
# What the compiler does not check about the library's layering. Which layer may include which is the
# compiler's job (each layer has its own include directory: see lib/CMakeLists.txt and the header_check
# targets). Left here: only the epoll backend may include <sys/epoll.h>, so that the rest of the
# library builds where epoll does not exist.
set -euo pipefail
lib="$(cd "$(dirname "$0")/../lib" && pwd)"
failures=0
while IFS= read -r file; do
    if [ "${file#"$lib"/}" != "selectors/src/epoll_selector.cpp" ]; then
        echo "layering: ${file#"$lib"/} includes <sys/epoll.h>; only the epoll backend may" >&2
        failures=$((failures + 1))
    fi
done < <(grep -rl '#include <sys/epoll.h>' "$lib" || true)
if [ "$failures" -ne 0 ]; then
    exit 1
fi
echo "layering: only the epoll backend includes <sys/epoll.h>"
