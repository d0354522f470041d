#!/usr/bin/env python3
"""Reference TCP proxy: plain Python asyncio (or uvloop), standard library only.

What a user would write instead of `poetry_server --upstream` when all that is wanted is a relay: each
client gets its own connection to UPSTREAM, and bytes are copied both ways with read(65536) and
write + drain until each side ends, its end passed on with write_eof. No pacing and no faults: the
benchmark compares unpaced relays. Stops on SIGTERM or SIGINT.

    proxy.py --upstream HOST:PORT [--port P] [--ports-file FILE] [--loop asyncio|uvloop]
"""
import argparse
import asyncio
import contextlib
import json
import os
import signal


async def pipe(reader, writer):
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def relay(client_reader, client_writer, host, port):
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, upstream_writer), pipe(upstream_reader, client_writer))
    for writer in (client_writer, upstream_writer):
        writer.close()


async def main(args):
    host, _, port = args.upstream.rpartition(":")
    server = await asyncio.start_server(lambda r, w: relay(r, w, host or "127.0.0.1", int(port)),
                                        "127.0.0.1", args.port)
    bound = server.sockets[0].getsockname()
    if args.ports_file:
        temporary = f"{args.ports_file}.tmp.{os.getpid()}"
        with open(temporary, "w") as out:
            json.dump([{"host": bound[0], "port": bound[1], "upstream": args.upstream, "pid": os.getpid()}], out)
        os.replace(temporary, args.ports_file)
    stop = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(number, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ports-file")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    arguments = parser.parse_args()
    if arguments.loop == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(main(arguments))
