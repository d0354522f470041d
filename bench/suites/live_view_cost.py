"""Live view cost: what `poetry_client --live` adds to a run of 1,000 downloads, against the same run
without it. Both runs write to a pseudo-terminal (120 x 40), so that only the view differs; both print
--json, whose CPU figure (the strategy's whole process: its loop, and the view's drawing thread) is
the measure. Two loads: a flood (--num-bytes 1 --delay 0: as many chunk events as the loop can take)
and a paced one (--num-bytes 10 --delay 0.01). Rounds alternate; medians count.
"""
import fcntl
import json
import os
import pty
import statistics
import struct
import subprocess
import termios
import threading

from harness.context import BenchError, Context
from harness.measure import chunks, cpu_seconds
from harness.processes import Server
from harness.table import Table

STRATEGIES = ["callbacks", "coroutines", "threads"]


def run_on_terminal(argv: list, timeout: float) -> dict:
    """Runs the client with its stdout on a fresh pseudo-terminal and returns its JSON, which follows
    the view's last frame (after its final "clear below" code)."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    output = bytearray()

    def drain() -> None:  # the terminal's buffer is small: a reader must keep it empty
        while True:
            try:
                data = os.read(controller, 65536)
            except OSError:  # EIO: the client has closed its side
                return
            if not data:
                return
            output.extend(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        done = subprocess.run([str(a) for a in argv], stdout=terminal, stderr=subprocess.PIPE, timeout=timeout,
                              env={**os.environ, "TERM": "xterm-256color", "NO_COLOR": ""})
    finally:
        os.close(terminal)
        reader.join()
        os.close(controller)
    text = output.decode("utf-8", "replace")
    if done.returncode != 0:
        raise BenchError(f"client exit {done.returncode}: {done.stderr.decode().strip()[-200:]}")
    return json.loads(text[text.rfind("\x1b[J") + 3:] if "\x1b[J" in text else text)


def run(ctx: Context) -> list[Table]:
    k = 50 if ctx.quick else 1000
    rounds = 1 if ctx.quick else 5
    poem = ctx.poem("science.txt")
    table = Table(
        f"Live view cost: {k} downloads of {poem.name} on a 120 x 40 pseudo-terminal, median of {rounds}; "
        "CPU of the client's whole process",
        ["load", "strategy", "chunks", "CPU s without", "CPU s with --live", "x without", "us/chunk added"],
    )
    loads = {"flood (--num-bytes 1 --delay 0)": [1, 0], "paced (--num-bytes 10 --delay 0.01)": [10, 0.01]}
    for load, (num_bytes, delay) in loads.items():
        with Server([ctx.server, "-q", "--num-bytes", num_bytes, "--delay", delay, poem], ctx.work, "poems") as server:
            for strategy in STRATEGIES:
                base = [ctx.client, "--strategy", strategy, "--connections", k, "--json",
                        "--ports-file", server.ports_file]
                without, with_live, counts = [], [], []
                for _ in range(rounds):
                    plain = run_on_terminal(base, 120)
                    live = run_on_terminal([*base, "--live"], 120)
                    if plain["totals"]["complete"] != k or live["totals"]["complete"] != k:
                        raise BenchError(f"{strategy}: not every download complete")
                    without.append(cpu_seconds(plain) / max(chunks(plain), 1))
                    with_live.append(cpu_seconds(live) / max(chunks(live), 1))
                    counts.append(chunks(live))
                n = statistics.median(counts)
                per_chunk_without, per_chunk_with = statistics.median(without), statistics.median(with_live)
                table.add(load, strategy, n, per_chunk_without * n, per_chunk_with * n,
                          per_chunk_with / per_chunk_without if per_chunk_without else None,
                          1e6 * (per_chunk_with - per_chunk_without))
    table.note("CPU per chunk is compared (a flood's reads coalesce differently from run to run); the CPU "
               "columns are it times the median chunk count")
    return [table]
