#!/usr/bin/env bash
# Runs the README's proxy example (the shell block after the "proxy example" marker) twice in a row,
# as written but for its two ports, 8080 and 9000, which become free ones (a test never assumes a
# fixed port is free), in a scratch folder that looks like the repository's root. Checks what it
# prints: the direct GET and the proxied one, whose first byte cannot come before the proxy's
# --first-byte-delay (0.3 s), and no ports file left behind.
#
#   tests/check_proxy_example.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check_proxy_example: $*" >&2; exit 1; }

source "$root/tests/readme_block.sh"
block=$(readme_block "proxy example" "$root")
[ -n "$block" ] || fail "no proxy example block in README.md"
grep -q 8080 <<<"$block" && grep -q 9000 <<<"$block" || fail "the example no longer uses ports 8080 and 9000"

scratch_root "$work" "$build" "$root"

free_ports() {  # two ports that nothing listens on now (bound, then closed)
    python3 -c 'import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in sockets))'
}

for run in 1 2; do
    read -r service proxy < <(free_ports)
    script=$(sed "s/8080/$service/g; s/9000/$proxy/g" <<<"$block")
    (cd "$work" && timeout 60 bash -e -c "$script") >"$work/run$run.out" 2>&1 ||
        { cat "$work/run$run.out" >&2; fail "run $run of the example failed"; }
    [ ! -e "$work/proxy.json" ] || fail "run $run left the proxy's ports file behind"
    python3 - "$work/run$run.out" <<'PY' || { cat "$work/run$run.out" >&2; fail "run $run printed the wrong figures"; }
import re, sys
text = open(sys.argv[1]).read()
found = dict(re.findall(r"^(direct|proxied): +first byte ([0-9.]+) s", text, re.M))
totals = dict(re.findall(r"^(direct|proxied): .* all ([0-9.]+) s", text, re.M))
assert set(found) == {"direct", "proxied"}, text
assert float(found["proxied"]) >= 0.29, found          # --first-byte-delay 0.3
assert float(totals["proxied"]) >= float(found["proxied"]), totals  # (the jitter may shorten pauses to 0)
PY
done
echo "check_proxy_example: the README's proxy example ran twice as written"
