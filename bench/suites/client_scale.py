"""Client scale: each strategy at 10 / 100 / 1,000 / 10,000 concurrent downloads from one
poetry_server port (--num-bytes 10 --delay 0.1, science.txt: 65 chunks, 6.4 s for one download).
Wall time against the ideal (one download's time), CPU seconds and peak RSS, with CPU and memory as
ratios to the Python asyncio reference client at the same size. A strategy that cannot take a size
is skipped, with the reason.
"""
from harness.context import BenchError, Context
from harness.measure import cpu_seconds
from harness.processes import Server, run_json
from harness.progress import Progress
from harness.table import Table

STRATEGIES = ["blocking", "nonblocking", "processes", "threads", "callbacks", "futures", "coroutines", "asio"]
MAX_PROCESSES = 1000  # poetry_client refuses more without --workers


def skip_reason(strategy: str, k: int, single: float) -> str | None:
    if strategy in ("blocking", "nonblocking") and k > 10:
        return f"one download after another: about {k * single:.0f} s"
    if strategy == "processes" and k > MAX_PROCESSES:
        return f"{k} processes at once: the client refuses more than {MAX_PROCESSES} without --workers"
    return None


def run(ctx: Context) -> list[Table]:
    sizes = [10] if ctx.quick else [10, 100, 1000, 10000]
    delay = 0.01 if ctx.quick else 0.1
    poem = ctx.poem("science.txt")
    table = Table(
        f"Client scale: K downloads at once, --num-bytes 10 --delay {delay}, {poem.name}",
        ["strategy", "K", "complete", "wall s", "x ideal", "CPU s", "x python", "peak MB", "x python"],
    )
    # The one download, then at each size the reference and every strategy that can take it.
    progress = Progress("client_scale", 1 + sum(1 + sum(skip_reason(s, k, 0) is None for s in STRATEGIES)
                                                for k in sizes), level=1)
    with Server([ctx.server, "-q", "--num-bytes", 10, "--delay", delay, poem], ctx.work) as server:
        source = ["--ports-file", server.ports_file]
        single = run_json([ctx.client, "--strategy", "coroutines", "-q", "--json", *source], 60)["totals"]["wall"]
        table.note(f"ideal (one download, coroutines): {single:.2f} s")
        progress.step("one download")
        for k in sizes:
            bound = 120 + 2 * k * single / 100  # generous: a bound against hangs, not a target
            try:
                reference = run_json([*ctx.reference_client, "--connections", k, "--json", *source], bound)
            except BenchError as error:
                table.error(f"python asyncio at K={k}: {error}")
                reference = None
            progress.step(f"python asyncio at K={k}")
            runs = [("python asyncio", reference)] if reference else []
            for strategy in STRATEGIES:
                if reason := skip_reason(strategy, k, single):
                    table.note(f"{strategy} at K={k} skipped: {reason}")
                    continue
                try:
                    argv = [ctx.client, "--strategy", strategy, "--connections", k, "-q", "--json", *source]
                    runs.append((strategy, run_json(argv, bound + k * single * (strategy == "blocking"))))
                except BenchError as error:
                    table.error(f"{strategy} at K={k}: {error}")
                progress.step(f"{strategy} at K={k}")
            for name, result in runs:
                totals = result["totals"]
                cpu, peak = cpu_seconds(result), totals["peak_memory_bytes"] / 2**20
                ref_cpu = cpu_seconds(reference) if reference else 0
                ref_peak = reference["totals"]["peak_memory_bytes"] / 2**20 if reference else 0
                table.add(name, k, totals["complete"], totals["wall"], totals["wall"] / single, cpu,
                          cpu / ref_cpu if ref_cpu else None, peak, peak / ref_peak if ref_peak else None)
    return [table]
