"""Server allocations: heap allocations per chunk and per client, by mode, counted by valgrind
(memcheck's "total heap usage", so the server binary is the one that ships, no special build). Three
runs per mode on a 300-byte poem: no client (the server's own start and stop), K clients in one
300-byte chunk each, and K clients in 30 chunks of 10 bytes each. Per client: (one chunk - none) / K;
per chunk: (30 chunks - one chunk) / (K x 29). The per-chunk path should allocate nothing.
"""
import re
import shutil
import subprocess

from harness.context import BenchError, Context
from harness.processes import Server
from harness.progress import Progress
from harness.table import Table

POEM_BYTES = 300


def _allocations(ctx: Context, mode: str, clients: int, num_bytes: int, poem) -> int:
    log = ctx.work / f"valgrind-{mode}-{clients}-{num_bytes}.txt"
    argv = ["valgrind", f"--log-file={log}", ctx.server, "--mode", mode, "-q", "--num-bytes", num_bytes,
            "--delay", "0.01", poem]
    with Server(argv, ctx.work, name=f"alloc-{mode}") as server:
        if clients:
            driver = subprocess.run(
                [str(a) for a in (ctx.driver("bench_server_scale"), server.port, num_bytes, 0.01, clients,
                                  POEM_BYTES)], capture_output=True, text=True, timeout=300)
            if driver.returncode != 0:
                raise BenchError(f"bench_server_scale: {driver.stderr.strip() or driver.returncode}")
    found = re.search(r"total heap usage: ([\d,]+) allocs", log.read_text())
    if not found:
        raise BenchError(f"valgrind reported no heap usage for --mode {mode}")
    return int(found.group(1).replace(",", ""))


def run(ctx: Context) -> list[Table]:
    clients = 10 if ctx.quick else 50
    modes = ["callbacks", "async"] if ctx.quick else ["callbacks", "coroutines", "async", "threaded"]
    table = Table(f"Server allocations: {clients} clients, a {POEM_BYTES}-byte poem, counted by valgrind",
                  ["mode", "start and stop", "per client", "per chunk"])
    if shutil.which("valgrind") is None:
        table.error("valgrind is not installed (scripts/install-deps.sh bench)")
        return [table]
    poem = ctx.work / "poem-300.txt"
    poem.write_bytes(ctx.poem("ecstasy.txt").read_bytes()[:POEM_BYTES])
    progress = Progress("server_allocations", len(modes), level=1)
    for mode in modes:
        try:
            idle = _allocations(ctx, mode, 0, POEM_BYTES, poem)
            one = _allocations(ctx, mode, clients, POEM_BYTES, poem)
            many = _allocations(ctx, mode, clients, 10, poem)
        except (BenchError, subprocess.TimeoutExpired) as error:
            table.error(f"{mode}: {error}")
            progress.step(f"{mode} failed")
            continue
        progress.step(mode)
        table.add(mode, idle, (one - idle) / clients, (many - one) / (clients * (POEM_BYTES // 10 - 1)))
    table.note("per chunk: what each further chunk of a session costs; a session's own allocations (its "
               "record, its peer's name, its coroutine frames) count per client")
    return [table]
