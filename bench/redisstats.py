"""What Redis did per phase of a bench run: `INFO commandstats cpu` read at every phase boundary.

Two measures, per phase, divided by what happened in the phase (phones joined, answers
acknowledged, rooms moved on) for the per-operation costs in docs/PERFORMANCE.md and the model
of docs/SCALING.md:

- **the process's CPU** (`used_cpu_sys + used_cpu_user` of `INFO cpu`): everything Redis spent,
  reading and writing sockets included. This is what a core has to carry.
- **the commands' time** (`INFO commandstats`), per command: which commands and how often. A
  script's time (`evalsha`) includes the commands it calls, and Redis counts those again under
  their own names, so the sum over commands counts a script's inner commands twice; and it
  leaves out the sockets' work. It says where the time goes, not how much there is.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

Stats = dict[str, tuple[int, int]]  # command -> (calls, usec)


@dataclass(frozen=True)
class Reading:
    """One reading of one Redis, or the sum over a cluster's masters."""

    commands: Stats
    cpu_s: float  # the process's CPU time so far (user + system)

    def minus(self, before: Reading) -> Reading:
        return Reading(delta(self.commands, before.commands), self.cpu_s - before.cpu_s)

    def plus(self, other: Reading) -> Reading:
        commands = dict(self.commands)
        for name, (calls, usec) in other.commands.items():
            c0, u0 = commands.get(name, (0, 0))
            commands[name] = (c0 + calls, u0 + usec)
        return Reading(commands, self.cpu_s + other.cpu_s)


EMPTY = Reading({}, 0.0)


def read(url: str, timeout: float = 2.0) -> Reading:
    """`INFO commandstats cpu` of the Redis at `url` (plain RESP over one short connection, so
    that reading it adds no client library state to the bench). Empty when Redis cannot be
    read."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout) as s:
        s.sendall(b"INFO commandstats cpu\r\n")  # several sections: Redis 7
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return EMPTY
            data += chunk
        header, _, rest = data.partition(b"\r\n")
        if not header.startswith(b"$"):
            return EMPTY
        size = int(header[1:])
        while len(rest) < size:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        text = rest[:size].decode()
        return Reading(parse(text), cpu_seconds(text))
    return EMPTY


def read_all(urls: list[str]) -> Reading:
    """The sum over several Redis nodes (a cluster's masters)."""
    total = EMPTY
    for url in urls:
        total = total.plus(read(url))
    return total


def cpu_seconds(text: str) -> float:
    """`used_cpu_sys` + `used_cpu_user` of an `INFO cpu` text (0.0 without them)."""
    values = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    total = 0.0
    for name in ("used_cpu_sys", "used_cpu_user"):
        with contextlib.suppress(KeyError, ValueError):
            total += float(values[name])
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


def summary(d: Stats, per: int, cpu_s: float | None = None) -> dict[str, Any]:
    """A phase's commands, most called first, with calls and the commands' time per operation
    (`redis_usec_per_op`, see the module's note), and the process's CPU per operation
    (`redis_cpu_us_per_op`) when `cpu_s` was read."""
    per = max(1, per)
    calls = sum(c for c, _ in d.values())
    usec = sum(u for _, u in d.values())
    out: dict[str, Any] = {
        "operations": per,
        "calls": calls,
        "calls_per_op": round(calls / per, 2),
        "redis_usec_per_op": round(usec / per, 1),
    }
    if cpu_s is not None:
        out["cpu_s"] = round(cpu_s, 3)
        out["redis_cpu_us_per_op"] = round(cpu_s * 1e6 / per, 1)
    out["by_command"] = {
        name: {"calls": c, "per_op": round(c / per, 2), "usec": u}
        for name, (c, u) in sorted(d.items(), key=lambda kv: -kv[1][0])
    }
    return out
