"""Fast path: --delay 0 --num-bytes 65536 on a generated 100 MB file to one client, in MB/s, for
poetry_server, the Python asyncio reference, and a plain sendfile(2) sender (the physical reference:
what the kernel moves over loopback). Senders alternate, nine rounds each, and the median counts.
"""
import statistics
import subprocess

from harness.context import Context
from harness import processes
from harness.processes import Server
from harness.progress import Progress
from harness.table import Table


def read_all(ctx: Context, port: int, expected: int) -> float:
    """MB/s of one bench_read_all client, which must get all `expected` bytes."""
    return processes.read_all(ctx, port, expected)["mb_per_s"]


def sendfile_run(ctx: Context, path, expected: int) -> float:
    with subprocess.Popen([ctx.driver("bench_sendfile_sender"), path], stdout=subprocess.PIPE, text=True) as sender:
        try:
            port = int(sender.stdout.readline())
            return read_all(ctx, port, expected)
        finally:
            sender.wait(30)


def run(ctx: Context) -> list[Table]:
    megabytes = 10 if ctx.quick else 100
    rounds = 1 if ctx.quick else 9  # a 100 MB transfer takes ~50 ms: one round is mostly noise
    path = ctx.work / "big.txt"
    with open("/dev/urandom", "rb") as random, open(path, "wb") as out:
        for _ in range(megabytes):
            out.write(random.read(1000 * 1000))
    size = path.stat().st_size
    args = ["-q", "--delay", 0, "--num-bytes", 65536, path]
    runs = {"poetry_server": [], "python asyncio": [], "sendfile": []}
    progress = Progress("fast_path", rounds, level=1)
    for round_number in range(1, rounds + 1):
        with Server([ctx.server, *args], ctx.work) as server:
            runs["poetry_server"].append(read_all(ctx, server.port, size))
        with Server([*ctx.reference_server, *args], ctx.work) as server:
            runs["python asyncio"].append(read_all(ctx, server.port, size))
        runs["sendfile"].append(sendfile_run(ctx, path, size))
        progress.step(f"round {round_number}")
    path.unlink()
    medians = {name: statistics.median(values) for name, values in runs.items()}
    table = Table(f"Fast path: {megabytes} MB, --delay 0 --num-bytes 65536, one client, median of {rounds}",
                  ["sender", "MB/s", "x sendfile", "x python"])
    for name, mb_per_s in medians.items():
        table.add(name, mb_per_s, mb_per_s / medians["sendfile"], mb_per_s / medians["python asyncio"])
    return [table]
