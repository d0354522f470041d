"""Sets the lessons' own figures beside ours, with why they differ: the classic experiment's table.

Usage: lessons.py CSV DELAY NUM_BYTES POEM...
  CSV        classic.csv as experiments/classic wrote it (summarise.py's rows)
  DELAY      the server's --delay, NUM_BYTES its --num-bytes list (200,50,50), POEM its poem files
Prints a Markdown table on stdout: each row of the CSV with the lesson's figure (lesson 002, three
slow servers, quoted as the issue and docs/lessons.md give them) and a reason computed from the
schedule: the server sends chunk k of a poem at its start plus k x DELAY and closes after the last, so
a poem of c chunks takes (c - 1) x DELAY; one after another takes the sum, all at once the longest.
"""
import csv
import math
import pathlib
import sys

# Lesson 002's figures for its three slow servers; the key is (extra client flags, strategy).
LESSON = {
    ("", "blocking"): "about 21 s",
    ("--workers 4", "processes"): "about 11 s (Pool(4))",
    ("", "threads"): "about 10 s",
    ("--workers 1", "threads"): "about 10 s",
    ("", "nonblocking"): "about 30 s",
    ("", "callbacks"): "about 11 s (epoll)",
}
SEQUENTIAL = {"blocking", "nonblocking"}


def poem_seconds(poems: list[str], num_bytes: list[int], delay: float) -> list[float]:
    sizes = [pathlib.Path(p).stat().st_size for p in poems]
    chunks = [math.ceil(size / n) for size, n in zip(sizes, num_bytes)]
    return [(c - 1) * delay for c in chunks]


def reason(flags: str, strategy: str, wall: float, cpu: float, times: list[float]) -> str:
    total, longest = sum(times), max(times)
    if flags == "--workers 1":
        return (f"one thread at a time, as the lesson's thread code really runs (it joins each thread "
                f"inside the loop that starts them): the sum, {total:.2f} s, like blocking; the lesson "
                f"printed about 10 s for that code")
    if flags == "--workers 4":
        return (f"a pool of 4 for 3 downloads has a worker to spare: one process each, the longest poem, "
                f"{longest:.2f} s")
    if strategy == "nonblocking":
        spinning = (f"one poem after another like blocking ({total:.2f} s by the schedule), but spinning: "
                    f"{cpu:.1f} s of CPU in {wall:.1f} s. ")
        if wall <= total * 1.05:
            return spinning + ("No slower here: our server's schedule is absolute, so a spinning client "
                               "cannot push its chunks back (the lesson's servers sleep after each send "
                               "and share the CPU with the spinning client, so their delays add up)")
        return spinning + (f"{wall - total:.1f} s slower than the schedule: the spinning took CPU that "
                           f"the server or the reading needed, as in the lesson")
    if strategy in SEQUENTIAL:
        return (f"one poem after another: the sum of the poems' times, {total:.2f} s by the schedule "
                f"(the lesson's poems and delay, not stated, gave 21 s)")
    if strategy == "threads":
        return (f"all at once: the longest poem, {longest:.2f} s by the schedule. The lesson printed about "
                f"10 s for threads, but its code joins each thread as it starts it: see --workers 1")
    return f"all at once: the longest poem, {longest:.2f} s by the schedule"


def main() -> int:
    if len(sys.argv) < 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path, delay = pathlib.Path(sys.argv[1]), float(sys.argv[2])
    num_bytes = [int(n) for n in sys.argv[3].split(",")]
    times = poem_seconds(sys.argv[4:], num_bytes, delay)
    print("| run | strategy | ours: wall s | CPU s | lesson 002 | why |")
    print("|---|---|---|---|---|---|")
    for row in csv.DictReader(open(path)):
        label = row["label"]
        flags = label.split(", ", 1)[1] if ", " in label else ""
        wall, cpu = float(row["wall_s"]), float(row["cpu_s"])
        lesson = LESSON.get((flags, row["strategy"]), "-")
        print(f"| {label} | {row['strategy']} | {wall:.2f} | {cpu:.2f} | {lesson} | "
              f"{reason(flags, row['strategy'], wall, cpu, times)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
