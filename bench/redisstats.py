"""What Redis did per phase of a bench run: `INFO commandstats` read at every phase boundary.

Redis counts, per command, how often it ran and how many microseconds it took, including the
commands a Lua script calls (`evalsha` itself is counted too). The difference between two
readings is what the servers asked of Redis in between; divided by what happened in the phase
(phones joined, answers acknowledged, rooms moved on) it gives the per-operation cost written
into docs/PERFORMANCE.md ("What a phone costs Redis").
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any
from urllib.parse import urlparse

Stats = dict[str, tuple[int, int]]  # command -> (calls, usec)


def read(url: str, timeout: float = 2.0) -> Stats:
    """`INFO commandstats` of the Redis at `url` (plain RESP over one short connection, so that
    reading it adds no client library state to the bench). Empty when Redis cannot be read."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout) as s:
        s.sendall(b"INFO commandstats\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return {}
            data += chunk
        header, _, rest = data.partition(b"\r\n")
        if not header.startswith(b"$"):
            return {}
        size = int(header[1:])
        while len(rest) < size:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        return parse(rest[:size].decode())
    return {}


def read_all(urls: list[str]) -> Stats:
    """The sum over several Redis nodes (a cluster's masters)."""
    total: Stats = {}
    for url in urls:
        for name, (calls, usec) in read(url).items():
            c0, u0 = total.get(name, (0, 0))
            total[name] = (c0 + calls, u0 + usec)
    return total


def parse(text: str) -> Stats:
    """`cmdstat_hget:calls=3,usec=12,...` lines → {"hget": (3, 12)}."""
    out: Stats = {}
    for line in text.splitlines():
        if not line.startswith("cmdstat_"):
            continue
        name, _, fields = line[len("cmdstat_") :].partition(":")
        values = dict(f.split("=", 1) for f in fields.split(",") if "=" in f)
        with contextlib.suppress(KeyError, ValueError):
            out[name] = (int(values["calls"]), int(values["usec"]))
    return out


def delta(after: Stats, before: Stats) -> Stats:
    out: Stats = {}
    for name, (calls, usec) in after.items():
        c0, u0 = before.get(name, (0, 0))
        if calls - c0 > 0:
            out[name] = (calls - c0, usec - u0)
    return out


def summary(d: Stats, per: int) -> dict[str, Any]:
    """A phase's commands, most called first, with calls and Redis CPU per operation."""
    per = max(1, per)
    calls = sum(c for c, _ in d.values())
    usec = sum(u for _, u in d.values())
    return {
        "operations": per,
        "calls": calls,
        "calls_per_op": round(calls / per, 2),
        "redis_usec_per_op": round(usec / per, 1),
        "by_command": {
            name: {"calls": c, "per_op": round(c / per, 2), "usec": u}
            for name, (c, u) in sorted(d.items(), key=lambda kv: -kv[1][0])
        },
    }
