"""Event-loop cost: CPU per received chunk for the loop strategies and for each selector backend, on
a workload of many small chunks (1,000 downloads, --num-bytes 1 --delay 0). The wall clock is noisy
on a shared machine, so a second figure counts instructions with valgrind's callgrind: the marginal
instructions per chunk between a run with N and one with 2N downloads (which cancels start-up),
with a small delay so that every chunk arrives on its own.
"""
import json
import re
import shutil
import subprocess

from harness.context import BenchError, Context
from harness.measure import chunks, cpu_seconds
from harness.processes import Server, run_json
from harness.progress import Progress
from harness.table import Table

# (label, client arguments)
RUNS = [
    ("callbacks (epoll)", ["--strategy", "callbacks"]),
    ("futures (epoll)", ["--strategy", "futures"]),
    ("coroutines (epoll)", ["--strategy", "coroutines", "--selector", "epoll"]),
    ("coroutines (poll)", ["--strategy", "coroutines", "--selector", "poll"]),
    ("coroutines (select)", ["--strategy", "coroutines", "--selector", "select"]),
    ("asio", ["--strategy", "asio"]),
]


def instructions(ctx: Context, args: list, k: int, source: list) -> tuple[int, int]:
    """(instructions, chunks) of one client run under callgrind."""
    out = ctx.work / "callgrind.out"
    argv = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", ctx.client, *args,
            "--connections", k, "-q", "--json", *source]
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300)
    collected = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not collected:
        raise BenchError(f"callgrind run failed: {done.stderr.strip().splitlines()[-1:]}")
    out.unlink(missing_ok=True)
    return int(collected.group(1)), chunks(json.loads(done.stdout))


def run(ctx: Context) -> list[Table]:
    k = 20 if ctx.quick else 1000
    small = 2 if ctx.quick else 10
    poem = ctx.poem("science.txt")
    has_valgrind = shutil.which("valgrind") is not None
    table = Table(
        f"Event-loop cost: {k} downloads, --num-bytes 1 --delay 0, {poem.name}; callgrind: {small} vs "
        f"{2 * small} downloads, --num-bytes 10 --delay 0.005",
        ["run", "chunks", "bytes/chunk", "CPU s", "CPU us/chunk", "instructions/chunk"],
    )
    with Server([ctx.server, "-q", "--num-bytes", 1, "--delay", 0, poem], ctx.work, "flood") as flood, \
         Server([ctx.server, "-q", "--num-bytes", 10, "--delay", 0.005, poem], ctx.work, "paced") as paced:
        progress = Progress("loop_cost", len(RUNS), level=1)
        for label, args in RUNS:
            result = run_json([ctx.client, *args, "--connections", k, "-q", "--json",
                               "--ports-file", flood.ports_file], 120)
            n = chunks(result)
            per_chunk = None
            if has_valgrind:
                source = ["--ports-file", paced.ports_file]
                few, few_chunks = instructions(ctx, args, small, source)
                more, more_chunks = instructions(ctx, args, 2 * small, source)
                per_chunk = round((more - few) / max(more_chunks - few_chunks, 1))
            table.add(label, n, result["totals"]["bytes"] / max(n, 1), cpu_seconds(result),
                      1e6 * cpu_seconds(result) / max(n, 1), per_chunk)
            progress.step(label)
    if not has_valgrind:
        table.note("valgrind is not installed: no instruction counts (scripts/install-deps.sh installs it)")
    table.note("a chunk is one read that returned data; with --delay 0 a read may carry several 1-byte sends")
    return [table]
