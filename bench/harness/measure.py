"""Figures computed from a client's --json: chunk lateness, CPU per chunk, percentiles."""


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[round(p * (len(ordered) - 1))]


def chunk_lateness_ms(tasks: list[dict], num_bytes: int, delay: float) -> list[float]:
    """How late each whole chunk arrived against its schedule, from each task's "chunk_times".

    Chunk k is due k x delay after the server accepted, which the client cannot see; since no chunk
    leaves early, the start is estimated as the earliest any chunk implies, min(arrival_k - k x delay).
    One read may carry several chunks (a late reader); each of them arrived at that read's time.
    """
    lateness = []
    for task in tasks:
        arrivals = []  # (chunk index, seconds)
        received = 0
        for when, size in task.get("chunk_times", []):
            first = received // num_bytes
            received += size
            arrivals += [(k, when) for k in range(first, received // num_bytes)]
        if not arrivals:
            continue
        start = min(when - k * delay for k, when in arrivals)
        lateness += [1000 * (when - (start + k * delay)) for k, when in arrivals]
    return lateness


def cpu_seconds(run: dict) -> float:
    return run["totals"]["cpu_user"] + run["totals"]["cpu_sys"]


def chunks(run: dict) -> int:
    return sum(task["chunks"] for task in run["tasks"])
