"""Proxy path: a 100 MB file at --delay 0 from poetry_server to one client, directly and through a proxy
in front of that server: `poetry_server --upstream` (its fast path: splice(2) through a pipe) in each
mode that proxies, and the relay a user would write instead, Python asyncio and uvloop. MB/s, the
ratio to the direct connection, and the proxy's CPU per MB; the reader's own CPU shows it is not the
bottleneck. Rounds alternate; medians count.
"""
import statistics

from harness.context import Context
from harness.processes import Server, read_all
from harness.progress import Progress
from harness.table import Table


def run(ctx: Context) -> list[Table]:
    megabytes = 10 if ctx.quick else 100
    rounds = 1 if ctx.quick else 7
    path = ctx.work / "big.bin"
    with open("/dev/urandom", "rb") as random, open(path, "wb") as out:
        for _ in range(megabytes):
            out.write(random.read(1000 * 1000))
    size = path.stat().st_size
    proxies = {f"poetry_server --mode {mode}": [ctx.server, "-q", "--mode", mode, "--delay", 0, "--num-bytes", 65536]
               for mode in ("callbacks", "coroutines", "async", "threaded")}
    proxies["python asyncio"] = ctx.reference_proxy
    if ctx.uvloop_proxy:
        proxies["python uvloop"] = ctx.uvloop_proxy
    speeds = {name: [] for name in ["direct", *proxies]}
    cpu_per_mb = {name: [] for name in proxies}
    reader_cpu = []
    with Server([ctx.server, "-q", "--delay", 0, "--num-bytes", 65536, path], ctx.work, "upstream") as upstream:
        progress = Progress("proxy_path", rounds, level=1)
        for round_number in range(1, rounds + 1):
            direct = read_all(ctx, upstream.port, size)
            speeds["direct"].append(direct["mb_per_s"])
            reader_cpu.append(direct["cpu_s"] / direct["seconds"])
            for name, argv in proxies.items():
                with Server([*argv, "--upstream", f"127.0.0.1:{upstream.port}"], ctx.work, "proxy") as proxy:
                    cpu_before, _ = proxy.usage()
                    result = read_all(ctx, proxy.port, size)
                    cpu_after, _ = proxy.usage()
                speeds[name].append(result["mb_per_s"])
                cpu_per_mb[name].append((cpu_after - cpu_before) / (size / 1e6))
                reader_cpu.append(result["cpu_s"] / result["seconds"])
            progress.step(f"round {round_number}")
    path.unlink()
    medians = {name: statistics.median(values) for name, values in speeds.items()}
    table = Table(f"Proxy path: {megabytes} MB at --delay 0, one client, median of {rounds}; the reader used at "
                  f"most {max(reader_cpu):.0%} of a core",
                  ["path", "MB/s", "x direct", "proxy CPU ms/MB"])
    table.add("direct (poetry_server, sendfile)", medians["direct"], 1.0, "")
    for name in proxies:
        table.add(f"through {name}", medians[name], medians[name] / medians["direct"],
                  statistics.median(cpu_per_mb[name]) * 1000)
    return [table]
