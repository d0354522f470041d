#!/usr/bin/env python3
"""One HTTP/1.0 GET on 127.0.0.1:PORT, recording when each read came: appends (setting, seconds since
the request, bytes so far) rows to CSV, and prints one Markdown table row (with the header if CSV was
new): the first byte, the whole response, the body's bytes against the file's, and how it ended.

    http_get.py PORT PATH SETTING FILE_SIZE CSV
"""
import csv
import os
import socket
import sys
import time


def main() -> int:
    port, path, setting, size, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    new = not os.path.exists(out)
    rows, received, ending = [], b"", "closed"
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        while True:
            try:
                data = connection.recv(65536)
            except ConnectionResetError:
                ending = "reset"
                break
            if not data:
                break
            received += data
            rows.append((setting, round(time.monotonic() - start, 4), len(received)))
    body = received.partition(b"\r\n\r\n")[2]
    with open(out, "a", newline="") as file:
        writer = csv.writer(file)
        if new:
            writer.writerow(["setting", "seconds", "bytes"])
        writer.writerows(rows)
    if new:
        print("| setting | first byte (s) | all (s) | body bytes | ended |")
        print("|---|---|---|---|---|")
    first = f"{rows[0][1]:.2f}" if rows else "-"
    last = f"{rows[-1][1]:.2f}" if rows else "-"
    print(f"| `{setting}` | {first} | {last} | {len(body)} of {size} | {ending} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
