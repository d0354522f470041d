#!/usr/bin/env python3
"""Checks a long script's progress lines (bench/harness/progress.py, experiments/progress.sh) in what
it wrote: STDERR has NAME's lines [1/COUNT] to [COUNT/COUNT] in order at the left margin, each in the
full form and the last saying "done in"; every progress line there, indented ones (a suite's runs)
included, is well formed, and each indented series counts 1 to its own total; STDOUT, if given, has
none. COUNT 0: STDERR has no progress line at all (POETRY_PROGRESS=0). Exit status 1 with the reason.

    tests/check_progress.py STDERR NAME COUNT [STDOUT]
"""
import re
import sys

TIME = r"(\d+\.\d s|\d+ s|\d+m\d\ds|\d+h\d\dm)"
# Anything that looks like a progress line, well formed or not.
LOOKS_LIKE = re.compile(r"^\s*\[\d+(/\d+)?\] ")
LINE = re.compile(rf"^(?P<indent>(  )*)\[(?P<done>\d+)/(?P<total>\d+)\] (?P<name>[^:]+): .+ \({TIME}\); "
                  rf"(?P<rest>\d+ left, about {TIME} to go|done in {TIME})$")


def check(stderr: list[str], name: str, count: int, stdout: list[str] | None) -> list[str]:
    problems = []
    progress = [line for line in stderr if LOOKS_LIKE.match(line)]
    if count == 0:
        return [f"a progress line although none was wanted: {line!r}" for line in progress[:3]]
    series: dict[tuple[str, str], tuple[int, int]] = {}  # (indent, name) -> (last done, total), indented ones
    top = []
    for line in progress:
        found = LINE.match(line)
        if not found:
            problems.append(f"not a well-formed progress line: {line!r}")
            continue
        done, total = int(found["done"]), int(found["total"])
        if (done == total) != found["rest"].startswith("done in"):
            problems.append(f"'done in' on the last step only: {line!r}")
        if found["indent"] == "" and found["name"] == name:
            top.append((done, total))
        elif found["indent"]:
            key = (found["indent"], found["name"])
            last, last_total = series.get(key, (0, total))
            if done == 1 and key in series and last != last_total:
                problems.append(f"{key[1]}: a series stopped at [{last}/{last_total}]")
            elif done != 1 and (done != last + 1 or total != last_total):
                problems.append(f"out of order: {line!r} after [{last}/{last_total}]")
            series[key] = (done, total)
    problems += [f"{name}: a series stopped at [{last}/{total}]" for (_, name), (last, total) in series.items()
                 if last != total]
    if top != [(k, count) for k in range(1, count + 1)]:
        problems.append(f"{name}'s lines count {top[:3]}...{top[-1:]}, not 1 to {count} of {count}")
    for line in stdout or []:
        if LOOKS_LIKE.match(line):
            problems.append(f"a progress line on stdout: {line!r}")
            break
    return problems


def main() -> int:
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    stderr = open(sys.argv[1], errors="replace").read().splitlines()
    stdout = open(sys.argv[4], errors="replace").read().splitlines() if len(sys.argv) == 5 else None
    problems = check(stderr, sys.argv[2], int(sys.argv[3]), stdout)
    for problem in problems:
        print(f"check_progress: {sys.argv[1]}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
