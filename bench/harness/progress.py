"""A progress line per finished step, on stderr, for the long scripts: bench/run (its suites, and each
suite's runs) and tests/faults_report.py (its test binaries and their cases). experiments/progress.sh
is the same for the bash experiments, line for line (tests/test_progress.py compares the two):

    [3/12] classic: threads (9.1 s); 9 left, about 1m20s to go
    [12/12] classic: threads 1 (0.7 s); done in 2m31s
    [3] name: what (9.1 s); 27 s so far          (when the number of steps is not known)

The time to go is the time so far divided by the weight of the steps done, times the weight of the
steps left (each step weighs 1 unless told otherwise). Nothing goes to stdout, so the tables there
stay as they were. POETRY_PROGRESS=0 silences it; POETRY_PROGRESS_DEPTH (set by a script for the
scripts it runs, as experiments/figures does) indents a line two spaces a level.
"""
import os
import sys
import time


def enabled() -> bool:
    return os.environ.get("POETRY_PROGRESS", "1") != "0"


def duration(seconds: float) -> str:
    """'0.4 s', '9.1 s', '42 s', '1m20s', '1h02m': tenths below 10 s, whole seconds above."""
    tenths = int(seconds * 10 + 0.5)
    if tenths < 100:
        return f"{tenths // 10}.{tenths % 10} s"
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole // 60 % 60:02d}m"


def remaining(elapsed: float, weight_done: float, weight_total: float) -> float:
    """Seconds to go, at the pace so far: elapsed x (weight left / weight done)."""
    if weight_done <= 0:
        return 0.0
    return elapsed * max(weight_total - weight_done, 0) / weight_done


class Progress:
    """`progress = Progress("bench/run", 7)`, then `progress.step("server_cost")` after each step.

    total None counts up without an estimate; total_weight defaults to total (every step weighs 1);
    level indents the lines beyond POETRY_PROGRESS_DEPTH (a suite's runs under bench/run's suites).
    """

    def __init__(self, name: str, total: int | None, *, total_weight: float | None = None, level: int = 0,
                 stream=None, clock=time.monotonic):
        self.name = name
        self.total = total
        self.total_weight = total if total_weight is None else total_weight
        self.indent = "  " * (int(os.environ.get("POETRY_PROGRESS_DEPTH", "0") or 0) + level)
        self.stream = stream
        self.clock = clock
        self.enabled = enabled()
        self.done = 0
        self.weight_done = 0.0
        self.started = self.last = clock()

    def step(self, what: str, weight: float = 1) -> str:
        """Counts a finished step, prints its line (unless silenced) and returns it."""
        now = self.clock()
        took, elapsed = now - self.last, now - self.started
        self.last = now
        self.done += 1
        self.weight_done += weight
        line = f"{self.indent}[{self.done}"
        if self.total is None:
            line += f"] {self.name}: {what} ({duration(took)}); {duration(elapsed)} so far"
        elif self.done >= self.total:
            line += f"/{self.total}] {self.name}: {what} ({duration(took)}); done in {duration(elapsed)}"
        else:
            to_go = remaining(elapsed, self.weight_done, self.total_weight)
            line += (f"/{self.total}] {self.name}: {what} ({duration(took)}); {self.total - self.done} left, "
                     f"about {duration(to_go)} to go")
        if self.enabled:
            stream = self.stream or sys.stderr
            print(line, file=stream, flush=True)
        return line
