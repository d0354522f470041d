"""Server cost: every server mode against the floor, in one run. K clients download a 300-byte poem in
10-byte chunks (K = 2,000 at --delay 0.05, K = 10,000 at --delay 0.1: the issue's loads) from one
port, driven by bench_server_scale (one thread, the library's epoll loop), whose own CPU is reported
so that it is seen not to be the bottleneck. For each server: its CPU seconds and CPU per chunk, as
a ratio to the floor's (bench_minimal_sender: one thread, epoll, a heap of due times, one send per
chunk, nothing else); how late chunks left by its own account (p99); and its peak resident memory
above its idle size, per client. References a user would pick instead: Python asyncio and uvloop.

Each server runs REPEATS times, the servers interleaved round by round, and the median of each figure
is reported, so that a burst of noise on the machine does not decide a ratio.
"""
import json
import re
import resource
import statistics
import subprocess

from harness.context import BenchError, Context
from harness.processes import Server
from harness.progress import Progress
from harness.table import Table

NUM_BYTES = 10
POEM_BYTES = 300


def _idle_rss_mb(server: Server) -> float:
    for line in open(f"/proc/{server.process.pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _server_p99(summary: str) -> float | None:
    found = re.search(r"p99 ([\d.]+) ms", summary)
    return float(found.group(1)) if found else None


def measure(ctx: Context, argv: list, clients: int, delay: float, poem) -> dict:
    """One server, one load: the figures of one run."""
    with Server([*argv, "-q", "--num-bytes", NUM_BYTES, "--delay", delay, poem], ctx.work) as server:
        idle = _idle_rss_mb(server)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        driver = subprocess.run(
            [str(a) for a in (ctx.driver("bench_server_scale"), server.port, NUM_BYTES, delay, clients, POEM_BYTES)],
            capture_output=True, text=True, timeout=180)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu, peak = server.usage()
        summary = server.stop()
    if driver.returncode not in (0, 1) or not driver.stdout.strip():
        raise BenchError(f"bench_server_scale: {driver.stderr.strip() or driver.returncode}")
    result = json.loads(driver.stdout)
    chunks = clients * -(-POEM_BYTES // NUM_BYTES)
    return {
        "complete": result["complete"],
        "cpu": cpu,
        "us_per_chunk": cpu / chunks * 1e6,
        "p99": _server_p99(summary),
        "driver_p99": result["lateness_ms"]["p99"],
        "kb_per_client": max(peak - idle, 0.0) * 1024 / clients,
        "peak": peak,
        "driver_cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "wall": result["wall_s"],
    }


def run(ctx: Context) -> list[Table]:
    loads = [(200, 0.02)] if ctx.quick else [(2000, 0.05), (10000, 0.1)]
    repeats = 1 if ctx.quick else 3
    poem = ctx.work / "poem-300.txt"
    poem.write_bytes(ctx.poem("ecstasy.txt").read_bytes()[:POEM_BYTES])
    servers = {"floor (minimal sender)": ctx.minimal_sender}
    for mode in ["callbacks", "coroutines", "async"]:
        servers[mode] = [ctx.server, "--mode", mode]
    # Beyond one core: two loops on two threads. On 2 cores the load generator needs one of them.
    servers["callbacks, 2 threads"] = [ctx.server, "--mode", "callbacks", "--threads", "2"]
    servers["async, 2 threads"] = [ctx.server, "--mode", "async", "--threads", "2"]
    servers["threaded"] = [ctx.server, "--mode", "threaded"]
    servers["python asyncio"] = ctx.reference_server
    if ctx.uvloop_server:
        servers["python uvloop"] = ctx.uvloop_server
    def skipped(name: str, clients: int) -> bool:
        return name == "threaded" and clients > 2000  # 10,000 threads: measured by server_scale

    progress = Progress("server_cost", repeats * sum(not skipped(name, clients) for clients, _ in loads
                                                     for name in servers), level=1)
    tables = []
    for clients, delay in loads:
        table = Table(
            f"Server cost: {clients} clients, --num-bytes {NUM_BYTES} --delay {delay}, a {POEM_BYTES}-byte poem "
            f"(median of {repeats})",
            ["server", "complete", "CPU s", "µs/chunk", "x floor", "late p99 ms", "KB/client", "peak MB",
             "driver CPU s"])
        runs: dict[str, list[dict]] = {name: [] for name in servers}
        for repeat in range(1, repeats + 1):
            for name, argv in servers.items():
                if skipped(name, clients):
                    continue  # not worth the minutes here
                try:
                    runs[name].append(measure(ctx, argv, clients, delay, poem))
                except (BenchError, subprocess.TimeoutExpired) as error:
                    table.error(f"{name} at {clients}: {error}")
                progress.step(f"{name} at {clients}" + (f", round {repeat}" if repeats > 1 else ""))
        floor = None
        for name, results in runs.items():
            if not results:
                continue
            median = {key: statistics.median(r[key] for r in results if r[key] is not None)
                      if any(r[key] is not None for r in results) else None for key in results[0]}
            floor = floor or median["us_per_chunk"]
            table.add(name, int(median["complete"]), median["cpu"], median["us_per_chunk"],
                      median["us_per_chunk"] / floor if floor else None, median["p99"], median["kb_per_client"],
                      median["peak"], median["driver_cpu"])
        table.note("CPU: the server's user + system seconds over the whole run (start, load, stop); per chunk: "
                   f"divided by {clients} x {-(-POEM_BYTES // NUM_BYTES)} chunks")
        table.note("late p99: how late the server's chunks left against their schedule, by its own summary")
        table.note("KB/client: peak resident memory above the idle server's, divided by the clients")
        table.note("driver CPU: the load generator's own CPU seconds: it must not be the bottleneck")
        tables.append(table)
    return tables
