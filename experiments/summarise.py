"""Turns poetry_client --json (one strategy or --strategy all) into table rows on stdout and CSV rows.

Usage: summarise.py LABEL CSV_FILE < client.json
The CSV gets a header when it is new; each run appends one row per strategy, labelled, so that an
experiment that runs the client several times (several servers, sizes) builds one CSV.
"""
import csv
import json
import pathlib
import sys

FIELDS = ["label", "strategy", "downloads", "complete", "partial", "failed", "bytes", "wall_s", "cpu_s",
          "peak_mb", "last_first_byte_s"]


def rows(label: str, document: dict) -> list[dict]:
    runs = document.get("strategies", [document])
    out = []
    for run in runs:
        totals = run["totals"]
        first_bytes = [task["first_byte"] for task in run["tasks"] if task.get("first_byte") is not None]
        out.append({
            "label": label,
            "strategy": run["strategy"],
            "downloads": totals["downloads"],
            "complete": totals["complete"],
            "partial": totals["partial"],
            "failed": totals["failed"],
            "bytes": totals["bytes"],
            "wall_s": round(totals["wall"], 3),
            "cpu_s": round(totals["cpu_user"] + totals["cpu_sys"], 3),
            "peak_mb": round(totals["peak_memory_bytes"] / 2**20, 1),
            "last_first_byte_s": round(max(first_bytes), 3) if first_bytes else "",
        })
    return out


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: summarise.py LABEL CSV_FILE < client.json", file=sys.stderr)
        return 2
    label, path = sys.argv[1], pathlib.Path(sys.argv[2])
    try:
        document = json.load(sys.stdin)
    except json.JSONDecodeError as error:
        print(f"summarise.py: the client printed no JSON ({error})", file=sys.stderr)
        return 1
    new = not path.exists()
    with open(path, "a", newline="") as out:
        writer = csv.DictWriter(out, FIELDS)
        if new:
            writer.writeheader()
        for row in rows(label, document):
            writer.writerow(row)
            print(f"{row['label']:<24} {row['strategy']:<12} {row['complete']:>5}/{row['downloads']:<5} "
                  f"{row['wall_s']:>8.2f} s {row['cpu_s']:>7.2f} s CPU {row['peak_mb']:>7.1f} MB"
                  f"  first byte by {row['last_first_byte_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
