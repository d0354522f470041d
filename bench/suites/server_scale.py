"""Server scale: K concurrent clients on one port, --num-bytes 10 --delay 0.1, driven by
`poetry_client --strategy asio --connections K -q --json --chunk-times`. For every server that can
take the load: downloads completed, chunk lateness as the clients saw it, the server's CPU seconds
and peak RSS, and CPU and memory as ratios to the Python asyncio reference at the same K.

Blocking mode is not run: it serves one client at a time, so K clients take K x 6.5 s.
"""
from harness.context import BenchError, Context
from harness.measure import chunk_lateness_ms, percentile
from harness.processes import Server, run_json
from harness.progress import Progress
from harness.table import Table

NUM_BYTES = 10


def run(ctx: Context) -> list[Table]:
    sizes = [50] if ctx.quick else [1000, 5000, 10000]
    delay = 0.01 if ctx.quick else 0.1
    poem = ctx.poem("science.txt")
    servers = {
        "python asyncio": ctx.reference_server,
        "async": [ctx.server, "--mode", "async"],
        "threaded": [ctx.server, "--mode", "threaded"],
    }
    table = Table(
        f"Server scale: --num-bytes {NUM_BYTES} --delay {delay}, {poem.name}, K clients at once",
        ["server", "K", "complete", "late p50 ms", "late p99 ms", "late max ms", "CPU s", "x python",
         "peak MB", "x python"],
    )
    progress = Progress("server_scale", len(sizes) * len(servers), level=1)
    for k in sizes:
        reference = None
        for name, argv in servers.items():
            try:
                with Server([*argv, "-q", "--num-bytes", NUM_BYTES, "--delay", delay, poem], ctx.work) as server:
                    result = run_json(
                        [ctx.client, "--strategy", "asio", "--connections", k, "-q", "--json", "--chunk-times",
                         "--ports-file", server.ports_file],
                        timeout=120,
                    )
                    cpu, peak = server.usage()
            except BenchError as error:
                table.error(f"{name} at K={k}: {error}")
                result = None
            progress.step(f"{name} at K={k}")
            if result is None:
                continue
            late = chunk_lateness_ms(result["tasks"], NUM_BYTES, delay)
            reference = reference or (cpu, peak)
            table.add(name, k, result["totals"]["complete"], percentile(late, 0.5), percentile(late, 0.99),
                      max(late, default=0.0), cpu, cpu / reference[0] if reference[0] else None, peak,
                      peak / reference[1])
    table.note("lateness: how late each chunk arrived at the client against its schedule, the schedule's "
               "start estimated from the earliest chunk; the client runs on the same machine")
    table.note("blocking mode is not run: it serves one client at a time")
    return [table]
