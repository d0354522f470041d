"""Sets the lessons' own figures beside ours, with why they differ, for the experiments that retell them.

Usage: lessons.py classic CSV DELAY NUM_BYTES POEM...
       lessons.py crawler CSV REQUEST_S
  classic: CSV is classic.csv (summarise.py's rows); DELAY the server's --delay, NUM_BYTES its
           --num-bytes list (200,50,50), POEM its poem files. Lesson 002, three slow servers.
  crawler: CSV is crawler.csv, labelled "N 10", "N 20", ...; REQUEST_S the server's --first-byte-delay,
           standing in for one request's round trip. Lesson 001, a crawler of N pages.
Prints a Markdown table on stdout: each row of the CSV with the lesson's figure (quoted as the issue
and docs/lessons.md give them) and a reason computed from the schedule. For classic: the server sends
chunk k of a poem at its start plus k x DELAY and closes after the last, so a poem of c chunks takes
(c - 1) x DELAY; one after another takes the sum, all at once the longest. For crawler: each page is one
chunk after REQUEST_S, so N pages take N x REQUEST_S one after another, REQUEST_S all at once.
"""
import csv
import math
import pathlib
import sys

# Lesson 002's figures for its three slow servers; the key is (extra client flags, strategy).
CLASSIC = {
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
    if len(num_bytes) == 1:  # one --num-bytes for every poem, as the server takes it
        num_bytes = num_bytes * len(sizes)
    chunks = [math.ceil(size / n) for size, n in zip(sizes, num_bytes)]
    return [(c - 1) * delay for c in chunks]


def reason(flags: str, strategy: str, wall: float, cpu: float, times: list[float]) -> str:
    total, longest = sum(times), max(times)
    if flags == "--workers 1":
        return (f"one thread at a time, as the lesson's thread code really runs (it joins each thread "
                f"inside the loop that starts them): the sum, {total:.2f} s, like blocking; the lesson "
                f"printed about 10 s for that code")
    if flags == "--workers 4":
        if len(times) <= 4:
            return (f"a pool of 4 for {len(times)} downloads has a worker to spare: one process each, the "
                    f"longest poem, {longest:.2f} s")
        return f"a pool of 4 for {len(times)} downloads: four at a time"
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


# Lesson 001's crawler, N = 10 and N = 20 pages, as it printed them (seconds).
CRAWLER = {
    "blocking": {10: "0.928", 20: "1.732"},
    "threads": {10: "0.112", 20: "0.154"},
    "nonblocking": {10: "1.060", 20: "2.033"},
    "callbacks": {10: "0.039 (epoll)", 20: "0.042 (epoll)"},
    "coroutines": {10: "0.058 (generators on select)", 20: "0.095 (generators on select)"},
}


def crawler_reason(strategy: str, pages: int, wall: float, cpu: float, request: float) -> str:
    if strategy in SEQUENTIAL:
        text = f"one page after another: {pages} x {request:.3f} s = {pages * request:.3f} s by the schedule"
        if strategy == "nonblocking":
            text += f", spinning all the while ({cpu:.2f} s of CPU)"
        return text
    text = f"all pages at once: one request, {request:.3f} s, whatever N"
    if wall > request + 0.05:
        text += f"; {wall - request:.3f} s more here"
        if strategy == "processes":
            text += f", the cost of starting {pages} processes ({cpu:.2f} s of CPU)"
    if strategy == "callbacks" and pages in CRAWLER["callbacks"]:
        lesson = CRAWLER["callbacks"][pages].split()[0]
        text += (f". The lesson's {lesson} s is less than one of its own requests (0.093 s on average "
                 f"when blocking): its site answered faster than that, which a fixed delay cannot show")
    return text


def classic(argv: list[str]) -> None:
    path, delay = pathlib.Path(argv[0]), float(argv[1])
    num_bytes = [int(n) for n in argv[2].split(",")]
    times = poem_seconds(argv[3:], num_bytes, delay)
    print("| run | strategy | ours: wall s | CPU s | lesson 002 | why |")
    print("|---|---|---|---|---|---|")
    for row in csv.DictReader(open(path)):
        label = row["label"]
        flags = label.split(", ", 1)[1] if ", " in label else ""
        wall, cpu = float(row["wall_s"]), float(row["cpu_s"])
        lesson = CLASSIC.get((flags, row["strategy"]), "-")
        print(f"| {label} | {row['strategy']} | {wall:.2f} | {cpu:.2f} | {lesson} | "
              f"{reason(flags, row['strategy'], wall, cpu, times)} |")


def crawler(argv: list[str]) -> None:
    path, request = pathlib.Path(argv[0]), float(argv[1])
    print("| pages | strategy | ours: wall s | CPU s | lesson 001: s | why |")
    print("|---|---|---|---|---|---|")
    for row in csv.DictReader(open(path)):
        pages = int(row["label"].split()[-1])
        wall, cpu = float(row["wall_s"]), float(row["cpu_s"])
        lesson = CRAWLER.get(row["strategy"], {}).get(pages, "-")
        print(f"| {pages} | {row['strategy']} | {wall:.3f} | {cpu:.3f} | {lesson} | "
              f"{crawler_reason(row['strategy'], pages, wall, cpu, request)} |")


def main() -> int:
    experiments = {"classic": (classic, 4), "crawler": (crawler, 2)}
    if len(sys.argv) < 2 or sys.argv[1] not in experiments or len(sys.argv) - 2 < experiments[sys.argv[1]][1]:
        print("usage: lessons.py classic CSV DELAY NUM_BYTES POEM... | lessons.py crawler CSV REQUEST_S",
              file=sys.stderr)
        return 2
    function, _ = experiments[sys.argv[1]]
    function(sys.argv[2:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
