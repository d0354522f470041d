#!/usr/bin/env python3
"""Reference slow poetry server: plain Python asyncio, standard library only.

The baseline for the benchmarks: what a user would write instead of our C++ poetry_server. Each
client gets POEM in chunks of --num-bytes, chunk k leaving at (accept time + k * --delay), the first
at once; the connection closes after the last chunk. On SIGTERM or SIGINT it stops and prints a
summary, including how late the chunks left against that schedule.

    poetry_server.py [--port P] [--num-bytes N] [--delay S] [--iface ADDR] [--ports-file FILE] [-q] POEM
"""
import argparse
import array
import asyncio
import contextlib
import json
import os
import resource
import signal


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line on stderr, exit status 2
        self.exit(2, f"{self.prog}: {message}\n")


def number(convert, low, high):
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{text!r} is not a number from {low} to {high}")
        return value
    return parse


class Stats:
    def __init__(self):
        self.served = self.dropped = self.interrupted = self.bytes_sent = 0
        self.lateness = array.array("d")  # seconds each chunk's write was issued after its due time


async def discard_input(reader):
    with contextlib.suppress(OSError):
        while await reader.read(65536):
            pass


async def send_poem(reader, writer, poem, args, stats):
    loop = asyncio.get_running_loop()
    start = loop.time()
    host, port = writer.get_extra_info("peername")[:2]
    peer = f"{host}:{port}"
    log = (lambda text: None) if args.quiet else print
    log(f"Client {peer} connected")
    discard = asyncio.create_task(discard_input(reader))
    sent = 0
    try:
        for k, offset in enumerate(range(0, len(poem), args.num_bytes)):
            due = start + k * args.delay
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            stats.lateness.append(loop.time() - due)
            chunk = poem[offset:offset + args.num_bytes]
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
        writer.close()
        await writer.wait_closed()
    except OSError as e:  # reset, broken pipe...: this client only
        stats.dropped += 1
        log(f"Client {peer} dropped after {sent} of {len(poem)} bytes: {e.strerror or e}")
    except asyncio.CancelledError:
        # The server is stopping. Not re-raised: 3.11's start_server logs a cancelled client task.
        stats.interrupted += 1
        log(f"Client {peer} interrupted after {sent} of {len(poem)} bytes: server stopping")
    else:
        stats.served += 1
        log(f"Client {peer}: sent {sent} bytes in {loop.time() - start:.2f} s")
    finally:
        stats.bytes_sent += sent
        discard.cancel()
        writer.close()


def write_ports_file(path, entry):
    temporary = f"{path}.tmp.{os.getpid()}"
    with open(temporary, "w") as out:
        json.dump([entry], out, indent=2, sort_keys=True)
        out.write("\n")
    os.replace(temporary, path)


def summary(stats, uptime):
    text = (f"Stopped after {uptime:.2f} s: served {stats.served} clients, dropped {stats.dropped}, "
            f"interrupted {stats.interrupted}; sent {stats.bytes_sent} bytes")
    if late := sorted(stats.lateness):
        def ms(p):
            return 1000 * late[min(len(late) - 1, int(p * len(late)))]
        text += (f"; {len(late)} chunks left late by p50 {ms(0.5):.1f} ms, p99 {ms(0.99):.1f} ms, "
                 f"max {1000 * late[-1]:.1f} ms")
    return text


async def serve(poem, args):
    loop = asyncio.get_running_loop()
    started = loop.time()
    stats = Stats()
    sessions = set()

    async def on_client(reader, writer):
        sessions.add(asyncio.current_task())
        try:
            await send_poem(reader, writer, poem, args, stats)
        finally:
            sessions.discard(asyncio.current_task())

    server = await asyncio.start_server(on_client, args.iface, args.port, backlog=4096)
    host, port = server.sockets[0].getsockname()[:2]
    if args.ports_file:
        write_ports_file(args.ports_file, {"host": host, "port": port, "poem": args.poem, "bytes": len(poem),
                                           "num_bytes": args.num_bytes, "delay": args.delay})
    if not args.quiet:
        print(f"Serving {args.poem} ({len(poem)} bytes) on {host}:{port}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    for task in sessions:
        task.cancel()
    await asyncio.gather(*sessions, return_exceptions=True)
    print(summary(stats, loop.time() - started), flush=True)


def main():
    parser = Parser(prog="poetry_server.py", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=number(int, 0, 65535), default=0, metavar="P",
                        help="0 = a free port (default)")
    parser.add_argument("--num-bytes", type=number(int, 1, 2**31), default=10, metavar="N",
                        help="bytes per chunk (default 10)")
    parser.add_argument("--delay", type=number(float, 0, 86400), default=0.7, metavar="S",
                        help="seconds between chunks (default 0.7)")
    parser.add_argument("--iface", default="127.0.0.1", metavar="ADDR")
    parser.add_argument("--ports-file", metavar="FILE", help="once listening, write the listener here (JSON)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio",
                        help="the event loop: asyncio's own (default) or uvloop (python3-uvloop), the same code")
    parser.add_argument("poem", metavar="POEM")
    args = parser.parse_args()
    try:
        with open(args.poem, "rb") as f:
            poem = memoryview(f.read())  # read once; every client gets slices of it, never copies
    except OSError as e:
        parser.exit(2, f"{parser.prog}: poem file {args.poem}: {e.strerror}\n")
    if not poem:
        parser.exit(2, f"{parser.prog}: poem file {args.poem}: is empty\n")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            parser.exit(2, f"{parser.prog}: --loop uvloop needs uvloop (Debian: python3-uvloop)\n")
        uvloop.install()
    try:
        asyncio.run(serve(poem, args))
    except OSError as e:  # cannot listen, cannot write the ports file
        where = f"{e.filename}: " if e.filename else ""
        parser.exit(2, f"{parser.prog}: {where}{e.strerror or e}\n")


if __name__ == "__main__":
    main()
