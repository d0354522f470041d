"""Servers started for one measurement and stopped after it, and clients run with a time bound.

Every server is told to write a ports file (both poetry_server and the Python reference can), so
that its free port is read, never guessed. Its CPU time and peak memory come from /proc while it
still runs, after the clients are done.
"""
import json
import os
import pathlib
import signal
import subprocess

from .context import BenchError

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Server:
    """`with Server(argv, work) as server:` a server on a free port; stopped (SIGTERM) on exit."""

    def __init__(self, argv: list[str], work: pathlib.Path, name: str = "server"):
        self.argv = [str(a) for a in argv]
        self.ports_file = work / f"{name}.ports.json"
        self.log = work / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.port = 0

    def __enter__(self) -> "Server":
        self.ports_file.unlink(missing_ok=True)
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                self.argv + ["--ports-file", str(self.ports_file)], stdout=log, stderr=subprocess.STDOUT
            )
        for _ in range(200):
            if self.ports_file.exists():
                self.port = json.loads(self.ports_file.read_text())[0]["port"]
                return self
            if self.process.poll() is not None:
                raise BenchError(f"{self.argv[0]} did not start: {self.last_line()}")
            try:
                self.process.wait(0.05)
            except subprocess.TimeoutExpired:
                pass
        self.stop()
        raise BenchError(f"{self.argv[0]} wrote no ports file in 10 s")

    def __exit__(self, *exc) -> None:
        self.stop()

    def usage(self) -> tuple[float, float]:
        """(CPU seconds, user + system, and peak resident MB) of the running server."""
        stat = pathlib.Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        peak_kb = 0
        for line in pathlib.Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak_kb = int(line.split()[1])
        return cpu, peak_kb / 1024

    def stop(self) -> str:
        """Stops the server (SIGTERM, then SIGKILL after 10 s) and returns its last log line."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.last_line()

    def last_line(self) -> str:
        lines = self.log.read_text(errors="replace").strip().splitlines() if self.log.exists() else []
        return lines[-1] if lines else ""


def run_json(argv: list, timeout: float) -> dict:
    """Runs a client that prints one JSON document; exit status 1 (some download failed) is a result."""
    argv = [str(a) for a in argv]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, text=True)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{pathlib.Path(argv[0]).name} took more than {timeout:.0f} s") from None
    if done.returncode not in (0, 1) or not done.stdout.strip():
        reason = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise BenchError(f"{pathlib.Path(argv[0]).name}: {reason[0]}")
    return json.loads(done.stdout)


def read_all(ctx, port: int, expected: int) -> dict:
    """One bench_read_all client (bytes, seconds, mb_per_s, its own cpu_s), which must get all `expected`
    bytes from 127.0.0.1:`port`."""
    done = subprocess.run([ctx.driver("bench_read_all"), str(port)], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise BenchError(f"bench_read_all: {done.stderr.strip()}")
    result = json.loads(done.stdout)
    if result["bytes"] != expected:
        raise BenchError(f"bench_read_all got {result['bytes']} bytes of {expected}")
    return result
