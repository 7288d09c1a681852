"""A /healthz prober in a process of its own, so the generator's event loop cannot delay it.

    python -m bench.probe --port 8000 --every 0.02

Every `--every` seconds (whether or not the previous probe was answered) it opens a new TCP
connection (as a load balancer's health check does, so
with several workers it lands on any of them), sends `GET /healthz` and prints one line,
`<time.time() sent> <latency ms> <status> <connect ms>` (status 0: no answer within
`--timeout`; connect: until the kernel had accepted the TCP connection), until it
gets SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
import time
from types import FrameType


def probe_once(port: int, timeout: float, connected: list[float]) -> int:
    """The HTTP status of one /healthz on a fresh connection (0 on failure); appends to
    `connected` when the TCP connection was established (`time.perf_counter()`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        connected.append(time.perf_counter())
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n", 1)[0].split()
    return int(head[1]) if len(head) > 1 and head[1].isdigit() else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.probe")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--every", type=float, default=0.02)
    p.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args(argv)
    running = True

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    out = sys.stdout
    lock = threading.Lock()

    def one() -> None:
        sent = time.time()
        t0 = time.perf_counter()
        connected: list[float] = []
        try:
            status = probe_once(args.port, args.timeout, connected)
        except OSError:
            status = 0
        took = (time.perf_counter() - t0) * 1000
        connect = (connected[0] - t0) * 1000 if connected else took
        with lock:
            out.write(f"{sent:.4f} {took:.2f} {status} {connect:.2f}\n")
            out.flush()

    # A probe starts every `every` s whether or not the previous one was answered (each in a
    # thread of its own), so a slow answer does not thin out the samples taken while it waits.
    threads: list[threading.Thread] = []
    next_at = time.monotonic()
    while running:
        thread = threading.Thread(target=one, daemon=True)
        thread.start()
        threads = [t for t in threads if t.is_alive()] + [thread]
        next_at += args.every
        time.sleep(max(0.0, next_at - time.monotonic()))
    for thread in threads:
        thread.join(args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
