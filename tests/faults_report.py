#!/usr/bin/env python3
"""Regenerates the measured parts of tests/FAULTS.md from the tests themselves.

Runs the fault matrix and the exhaustion suites of a build, reads what they print ("outcome: {json}"
per matrix case, "figure: ..." per exhaustion case), and rewrites the blocks of FAULTS.md between
<!-- faults_report: NAME --> and <!-- /faults_report --> markers. A failing test leaves the file
untouched and exits 1. On stderr, a progress line per test binary and beneath it one per test case,
with the time to go (bench/harness/progress.py; POETRY_PROGRESS=0 silences them).

    tests/faults_report.py [--build-dir build/default]
"""
import argparse
import datetime
import json
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "bench"))

from harness.machine import machine  # noqa: E402
from harness.progress import Progress  # noqa: E402

REPORT = HERE / "FAULTS.md"

# Suite binary -> the FAULTS.md block its lines go to.
SUITES = {
    "test_fault_matrix": "matrix",
    "test_exhaustion": "server_exhaustion",
    "test_client_exhaustion": "client_exhaustion",
}


# Boost.Test's log at --log_level=test_suite: how many cases will run, and each case as it ends (a data
# case's samples are cases "_0", "_1", ... in a suite named after it). Messages print bare, as at
# --log_level=message.
RUNNING = re.compile(r'^Running (\d+) test cases?\.\.\.$')
ENTERING_SUITE = re.compile(r'^.*: Entering test suite "(.*)"$')
LEAVING_CASE = re.compile(r'^.*: Leaving test case "(.*)"; testing time')


def case_name(suite: str, case: str) -> str:
    """'a_churn_of_short_conn.../_3' for a data case's sample, the case's own name otherwise, cut short."""
    def cut(text: str, width: int) -> str:
        return text if len(text) <= width else text[:width - 3] + "..."
    return cut(suite, 24) + "/" + case if case.startswith("_") else cut(case, 40)


def run_suite(build_dir: pathlib.Path, name: str) -> list[str]:
    """The binary's output, read as it comes, with a progress line per case that ends."""
    binary = build_dir / "tests" / name
    lines, suite, progress = [], "", None
    with subprocess.Popen([str(binary), "--log_level=test_suite", "--color_output=no", "--report_level=short"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as run:
        for line in run.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            if found := RUNNING.match(line):
                progress = Progress(name, int(found.group(1)), level=1)
            elif found := ENTERING_SUITE.match(line):
                suite = found.group(1)
            elif (found := LEAVING_CASE.match(line)) and progress:
                progress.step(case_name(suite, found.group(1)))
    if run.returncode != 0:
        sys.stderr.write("\n".join(lines) + "\n")
        raise SystemExit(f"{name} failed (exit {run.returncode}): FAULTS.md left as it was")
    return lines


def matrix_block(lines: list[str]) -> str:
    outcomes = [json.loads(line[len("outcome: "):]) for line in lines if line.startswith("outcome: ")]
    if not outcomes:
        raise SystemExit("test_fault_matrix printed no outcomes")
    strategies = list(dict.fromkeys(o["strategy"] for o in outcomes))
    faults = list(dict.fromkeys(f'{o["fault"]} {o["value"]}' for o in outcomes))
    cell = {(o["strategy"], f'{o["fault"]} {o["value"]}'): o for o in outcomes}

    rows = ["| strategy | " + " | ".join(f"`{fault}`" for fault in faults) + " |",
            "|---|" + "---|" * len(faults)]
    for strategy in strategies:
        cells = []
        for fault in faults:
            o = cell[(strategy, fault)]
            cells.append(f'{o["exit"]} · {o["status"]} {o["bytes"]} B · {o["seconds"]:.2f} s')
        rows.append(f"| {strategy} | " + " | ".join(cells) + " |")

    # The messages, per fault, with the strategies that gave each (they differ only in wording).
    messages = []
    for fault in faults:
        by_message: dict[str, list[str]] = {}
        for strategy in strategies:
            error = cell[(strategy, fault)]["error"]
            if error is not None:
                by_message.setdefault(error, []).append(strategy)
        for error, who in by_message.items():
            whom = "every strategy" if len(who) == len(strategies) else ", ".join(who)
            messages.append(f'- `{fault}`: "{error}" ({whom})')
    return "\n".join(rows) + "\n\nThe faulty download's error, in the report and the JSON:\n\n" + "\n".join(messages)


def figures_block(lines: list[str]) -> str:
    figures = [line[len("figure: "):] for line in lines if line.startswith("figure: ")]
    if not figures:
        raise SystemExit("no figures printed")
    return "\n".join(f"- {figure}" for figure in figures)


def build_type(build_dir: pathlib.Path) -> str:
    cache = build_dir / "CMakeCache.txt"
    for line in cache.read_text().splitlines() if cache.exists() else []:
        if line.startswith("CMAKE_BUILD_TYPE:"):
            return line.split("=", 1)[1] or "no build type"
    return "unknown build type"


def machine_block(build_dir: pathlib.Path) -> str:
    return (f"Figures from {datetime.date.today().isoformat()}, on {machine()}, "
            f"the build in {build_dir.name}/ ({build_type(build_dir)}).")


def replace_block(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- faults_report: {name} -->\n).*?(<!-- /faults_report -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"FAULTS.md has no block '{name}'")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=pathlib.Path, default=ROOT / "build" / "default")
    args = parser.parse_args()

    blocks = {"machine": machine_block(args.build_dir.resolve())}
    progress = Progress("faults_report", len(SUITES))
    for suite, block in SUITES.items():
        lines = run_suite(args.build_dir.resolve(), suite)
        blocks[block] = matrix_block(lines) if block == "matrix" else figures_block(lines)
        progress.step(suite)
    text = REPORT.read_text()
    for name, body in blocks.items():
        text = replace_block(text, name, body)
    REPORT.write_text(text)
    print(f"wrote {REPORT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
