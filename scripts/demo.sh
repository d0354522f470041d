#!/usr/bin/env bash
# The main job of `make demo`, run after the build. Until poetry_server and poetry_client exist
# (issues 3 and 4), it says what is built and what will run here.
set -euo pipefail
cat <<'MSG'
make demo: the library (lib/: net, selectors, loop, coro) is built; `make test` runs its tests.

What will run here once poetry_server and poetry_client exist: a server streaming every poem in
poems/ on free loopback ports (one port per poem), then the client downloading all of them at once
with the coroutines strategy, printing each chunk as it arrives and the time it took.
MSG
