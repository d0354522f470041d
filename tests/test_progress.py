#!/usr/bin/env python3
"""The progress lines of the long scripts: bench/harness/progress.py's arithmetic and wording on a
clock the test sets, experiments/progress.sh giving the same lines for the same steps (its clock set
the same way), and tests/check_progress.py telling good lines from bad. Registered with CTest as
progress_lines (label unit); or run it directly."""
import io
import os
import pathlib
import subprocess
import sys
import unittest
from unittest import mock

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from harness.progress import Progress, duration, remaining  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from check_progress import check  # noqa: E402

# (what, weight, seconds since the start when it finished): a script's steps, for both helpers; the
# weights count only when a total weight is given (8, their sum), else every step weighs 1.
STEPS = [("blocking", 1, 3.0), ("threads", 2, 9.0), ("asio", 1, 12.5), ("all", 4, 100.25)]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def python_lines(total, total_weight=None, env=None):
    clock, out = Clock(), io.StringIO()
    with mock.patch.dict(os.environ, env or {}, clear=False):
        progress = Progress("classic", total, total_weight=total_weight, stream=out, clock=clock)
        for what, weight, at in STEPS:
            clock.now = 1000.0 + at
            progress.step(what, weight if total_weight else 1)
    return out.getvalue().splitlines()


def bash_lines(total="", total_weight="", env=None):
    """The same steps through progress.sh, its clock replaced by one the script sets."""
    script = [f'source "{ROOT}/experiments/progress.sh"', "name=classic",
              '_progress_now() { progress_now=$clock; }', "clock=1000000000",
              f"progress_start {total} {total_weight}"]
    for what, weight, at in STEPS:
        script += [f"clock=$((1000000000 + {round(at * 1e6)}))",
                   f"progress_step {what} {weight if total_weight else 1}"]
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POETRY_PROGRESS")}
    done = subprocess.run(["bash", "-euc", "\n".join(script)], capture_output=True, text=True, check=True,
                          env={**environment, **(env or {})})
    assert done.stdout == "", "progress.sh wrote to stdout"
    return done.stderr.splitlines()


class Arithmetic(unittest.TestCase):
    def test_duration(self):
        for seconds, text in [(0, "0.0 s"), (0.04, "0.0 s"), (0.05, "0.1 s"), (9.1, "9.1 s"), (9.96, "10 s"),
                              (42.4, "42 s"), (59.5, "1m00s"), (80, "1m20s"), (151, "2m31s"), (3599.4, "59m59s"),
                              (3720, "1h02m")]:
            self.assertEqual(duration(seconds), text, seconds)

    def test_remaining_is_the_pace_so_far_times_what_is_left(self):
        self.assertEqual(remaining(30, 3, 12), 90)      # 10 s a step, 9 steps left
        self.assertEqual(remaining(30, 6, 8), 10)       # weighted: 5 s a unit, 2 units left
        self.assertEqual(remaining(30, 12, 12), 0)
        self.assertEqual(remaining(0, 0, 12), 0)        # nothing done yet: no guess
        self.assertEqual(remaining(30, 13, 12), 0)      # more than planned: never negative


class Lines(unittest.TestCase):
    def test_counts_down_to_done_with_the_total_time(self):
        self.assertEqual(python_lines(4), [
            "[1/4] classic: blocking (3.0 s); 3 left, about 9.0 s to go",
            "[2/4] classic: threads (6.0 s); 2 left, about 9.0 s to go",
            "[3/4] classic: asio (3.5 s); 1 left, about 4.2 s to go",
            "[4/4] classic: all (1m28s); done in 1m40s",
        ])

    def test_weights_make_the_estimate(self):
        lines = python_lines(4, total_weight=8)  # 3 units in 9 s: the 5 left take 15 s
        self.assertEqual(lines[1], "[2/4] classic: threads (6.0 s); 2 left, about 15 s to go")
        self.assertEqual(lines[2], "[3/4] classic: asio (3.5 s); 1 left, about 13 s to go")  # 4 x 12.5 / 4

    def test_without_a_total_it_counts_up(self):
        self.assertEqual(python_lines(None)[-1], "[4] classic: all (1m28s); 1m40s so far")

    def test_silenced_by_poetry_progress_0_and_indented_by_depth(self):
        self.assertEqual(python_lines(4, env={"POETRY_PROGRESS": "0"}), [])
        self.assertTrue(python_lines(4, env={"POETRY_PROGRESS_DEPTH": "1"})[0].startswith("  [1/4] "))

    def test_step_returns_its_line_even_when_silenced(self):
        with mock.patch.dict(os.environ, {"POETRY_PROGRESS": "0"}):
            self.assertEqual(Progress("x", 1, clock=Clock()).step("y"), "[1/1] x: y (0.0 s); done in 0.0 s")


class SameLinesFromBash(unittest.TestCase):
    def test_with_a_total(self):
        self.assertEqual(bash_lines(4), python_lines(4))

    def test_with_weights(self):
        self.assertEqual(bash_lines(4, 8), python_lines(4, total_weight=8))

    def test_without_a_total(self):
        self.assertEqual(bash_lines(), python_lines(None))

    def test_silenced_and_indented(self):
        self.assertEqual(bash_lines(4, env={"POETRY_PROGRESS": "0"}), [])
        self.assertEqual(bash_lines(4, env={"POETRY_PROGRESS_DEPTH": "2"}),
                         python_lines(4, env={"POETRY_PROGRESS_DEPTH": "2"}))


class TheCheck(unittest.TestCase):
    """tests/check_progress.py, which the experiments' and bench/run's checks run on real output."""
    GOOD = ["[1/2] bench/run: server_scale (2.3 s); 1 left, about 2.3 s to go",
            "  [1/2] loop_cost: asio (2.0 s); 1 left, about 2.0 s to go",
            "  [2/2] loop_cost: epoll (2.0 s); done in 4.0 s",
            "[2/2] bench/run: loop_cost (4.0 s); done in 6.3 s"]

    def test_good_lines_pass(self):
        self.assertEqual(check(self.GOOD + ["a stray line"], "bench/run", 2, ["| a | table |"]), [])

    def test_what_it_catches(self):
        def problems(stderr, count=2, stdout=None):
            return check(stderr, "bench/run", count, stdout)
        self.assertTrue(problems(self.GOOD[:-1]))                        # never done
        self.assertTrue(problems(self.GOOD, count=3))                    # the wrong total
        self.assertTrue(problems([self.GOOD[0], self.GOOD[3]] + self.GOOD[1:2]))  # a series left at 1 of 2
        self.assertTrue(problems([self.GOOD[0].replace("about", "roughly")] + self.GOOD[1:]))
        self.assertTrue(problems(self.GOOD, stdout=[self.GOOD[0]]))     # on stdout
        self.assertTrue(check(self.GOOD, "bench/run", 0, None))         # wanted silence
        self.assertEqual(check(["no progress here"], "bench/run", 0, None), [])


if __name__ == "__main__":
    unittest.main()
