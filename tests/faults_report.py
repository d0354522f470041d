#!/usr/bin/env python3
"""Regenerates the measured parts of tests/FAULTS.md from the tests themselves.

Runs the fault matrix and the exhaustion suites of a build (--log_level=message), reads what they
print ("outcome: {json}" per matrix case, "figure: ..." per exhaustion case), and rewrites the blocks
of FAULTS.md between <!-- faults_report: NAME --> and <!-- /faults_report --> markers. A failing test
leaves the file untouched and exits 1.

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
REPORT = HERE / "FAULTS.md"

# Suite binary -> the FAULTS.md block its lines go to.
SUITES = {
    "test_fault_matrix": "matrix",
    "test_exhaustion": "server_exhaustion",
    "test_client_exhaustion": "client_exhaustion",
}


def run_suite(build_dir: pathlib.Path, name: str) -> list[str]:
    binary = build_dir / "tests" / name
    print(f"running {binary.relative_to(ROOT) if binary.is_relative_to(ROOT) else binary} ...", file=sys.stderr)
    run = subprocess.run([str(binary), "--log_level=message", "--color_output=no", "--report_level=short"],
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        sys.stderr.write(run.stdout + run.stderr)
        raise SystemExit(f"{name} failed (exit {run.returncode}): FAULTS.md left as it was")
    return run.stdout.splitlines()


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
    for suite, block in SUITES.items():
        lines = run_suite(args.build_dir.resolve(), suite)
        blocks[block] = matrix_block(lines) if block == "matrix" else figures_block(lines)
    text = REPORT.read_text()
    for name, body in blocks.items():
        text = replace_block(text, name, body)
    REPORT.write_text(text)
    print(f"wrote {REPORT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
