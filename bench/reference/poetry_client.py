#!/usr/bin/env python3
"""Reference slow poetry client: plain Python asyncio, standard library only.

The baseline for the benchmarks: what a user would write instead of our C++ poetry_client. Downloads
every ADDRESS (PORT or HOST:PORT, the host defaulting to 127.0.0.1) --connections times at once, each
until the server closes, and reports like the C++ client: one line per download and a summary, or
with --json the same document the C++ client prints. Times are seconds since the run started; cpu
and peak memory are this process's (cpu counted over the run, as the C++ client does).
Exit status: 0 when every poem arrived whole, 1 otherwise, 2 for usage errors.

    poetry_client.py [--connections K] [--json] [--chunk-times] [--ports-file FILE] [ADDRESS...]
"""
import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import sys
import time


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line on stderr, exit status 2
        self.exit(2, f"{self.prog}: {message}\n")


def parse_address(text):
    host, _, port = text.rpartition(":")
    try:
        port = int(port)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not PORT or HOST:PORT")
    return (host.strip("[]") or "127.0.0.1", port, None)  # None: the poem's size is unknown


def read_ports_file(path):
    """(host, port, poem size) for each listener in poetry_server's --ports-file."""
    with open(path) as f:
        return [(entry["host"], int(entry["port"]), entry.get("bytes")) for entry in json.load(f)]


def outcome(size, expected, error):
    """(status, error) the way the C++ client decides them."""
    if error:
        return ("partial" if size else "failed"), error
    if size == 0:
        return "failed", "connection closed before any poetry arrived"
    if expected is not None and size < expected:
        return "partial", f"connection closed after {size} of {expected} bytes"
    if expected is not None and size > expected:
        return "failed", f"got {size} bytes, more than the poem's {expected}"
    return "complete", None


def describe_error(e):
    """One line: "Connection refused" rather than asyncio's "Connect call failed ('127.0.0.1', 1)"."""
    if isinstance(e, socket.gaierror) or not e.errno:
        return e.strerror or str(e)
    return os.strerror(e.errno)


async def download(task, host, port, expected, started, chunk_times):
    def now():
        return time.monotonic() - started
    poem = bytearray()  # kept, as a user's client would (and the C++ one does)
    chunks, times = 0, []
    connected = first_byte = last_byte = error = writer = None
    try:
        reader, writer = await asyncio.open_connection(host, port)
        connected = now()
        while data := await reader.read(65536):
            last_byte = now()
            first_byte = last_byte if first_byte is None else first_byte
            poem += data
            chunks += 1
            if chunk_times:
                times.append([last_byte, len(data)])
    except OSError as e:
        error = f"{'connect' if writer is None else 'read'}: {describe_error(e)}"
    finished = now()
    if writer is not None:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    status, error = outcome(len(poem), expected, error)
    result = {"task": task, "address": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
              "bytes": len(poem), "chunks": chunks, "connected": connected, "first_byte": first_byte,
              "last_byte": last_byte, "finished": finished, "status": status, "error": error}
    if chunk_times:
        result["chunk_times"] = times
    return result


def describe(r):
    where = f"Task {r['task']}: {r['address']}"
    got = f"{r['bytes']} bytes in {r['chunks']} chunks"
    if r["status"] == "complete":
        return f"{where}: got the whole poem, {got}, {r['finished']:.2f} s"
    return f"{where}: {r['status']} ({got}): {r['error']}"


def peak_rss_bytes():
    """This process's peak resident memory (VmHWM), as the C++ client measures it. Not ru_maxrss:
    Linux carries that over exec from the parent, so a child of a big benchmark runner reports the
    runner's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


async def run(targets, args):
    usage_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    downloads = [(host, port, size) for host, port, size in targets for _ in range(args.connections)]
    results = await asyncio.gather(*(download(i, host, port, size, started, args.chunk_times)
                                     for i, (host, port, size) in enumerate(downloads, start=1)))
    wall = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    count = {status: sum(r["status"] == status for r in results)
             for status in ("complete", "partial", "failed")}
    totals = {"downloads": len(results), **count, "bytes": sum(r["bytes"] for r in results), "wall": wall,
              "cpu_user": usage.ru_utime - usage_before.ru_utime,
              "cpu_sys": usage.ru_stime - usage_before.ru_stime,
              "peak_memory_bytes": peak_rss_bytes()}
    return {"strategy": "python-asyncio", "tasks": results, "totals": totals}


def main():
    parser = Parser(prog="poetry_client.py", description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=1, metavar="K",
                        help="download each address K times at once")
    parser.add_argument("--json", action="store_true", help="print the C++ client's JSON report")
    parser.add_argument("--chunk-times", action="store_true", help="with --json: [seconds, bytes] per read")
    parser.add_argument("--ports-file", metavar="FILE",
                        help="take the addresses (and poem sizes) from poetry_server's --ports-file")
    parser.add_argument("addresses", nargs="*", type=parse_address, metavar="ADDRESS")
    args = parser.parse_args()
    targets = list(args.addresses)
    if args.ports_file:
        try:
            targets = read_ports_file(args.ports_file) + targets
        except OSError as e:
            parser.error(f"--ports-file {args.ports_file}: {e.strerror}")
        except (ValueError, TypeError, KeyError) as e:
            parser.error(f"--ports-file {args.ports_file}: not a list of {{host, port, bytes}} ({e})")
    if not targets:
        parser.error("give an ADDRESS or --ports-file")
    if args.connections < 1:
        parser.error("--connections must be at least 1")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    report = asyncio.run(run(targets, args))
    totals = report["totals"]
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        print()
    else:
        for task in report["tasks"]:
            print(describe(task))
        cpu = totals["cpu_user"] + totals["cpu_sys"]
        timing = f"in {totals['wall']:.2f} s (cpu {cpu:.2f} s)"
        if totals["complete"] == totals["downloads"]:
            print(f"Got {totals['downloads']} poems {timing}")
        else:
            print(f"Got {totals['complete']} of {totals['downloads']} poems {timing}; "
                  f"{totals['partial']} partial, {totals['failed']} failed")
    sys.exit(0 if totals["complete"] == totals["downloads"] else 1)


if __name__ == "__main__":
    main()
