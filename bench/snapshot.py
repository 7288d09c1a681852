"""What one render's read of a room costs the worker: `RedisBackend.snapshot` in a room of N.

    python -m bench.snapshot [--players 100] [--reads 2000] [--no-reuse]

Starts a throwaway redis-server on a free loopback port, writes one room of `--players`
players (a document, the players table, everyone's presence) and reads it `--reads` times the
way a render does (the players, who left and the open question's inputs), on one connection,
one read after the other. Prints the worker's CPU per read (`time.process_time`: the client's
packing, the pool, parsing and the conversion of the replies) and the wall time. With
`--no-reuse` every reply is converted anew, as before server/hub/redis_replies.py. Loopback
only; the loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

import msgpack

from server.hub.redis import RedisBackend
from server.hub.redis_replies import RoomReplies

from .servers import RedisProc

T = TypeVar("T")


class NoReuse(RoomReplies):
    """Converts every reply, equal to the last one or not."""

    def converted(self, key: Hashable, reply: Any, convert: Callable[[Any], T]) -> T:
        return convert(reply)


async def measure(url: str, players: int, reads: int, reuse: bool) -> dict[str, float]:
    backend = RedisBackend(url)
    if not reuse:
        backend._replies = NoReuse()
    await backend.connect()
    try:
        client, code = backend.client, "424242"
        prefix = backend._room(code)
        doc = msgpack.packb({"state": ["x" * 40 for _ in range(60)]})
        await client.mset({prefix + "doc": doc, prefix + "ver": 1, prefix + "seq": 1})
        ids = [f"p{i:07d}" for i in range(players)]
        await client.hset(prefix + "t:players", mapping={p: f"Speler {p}" for p in ids})
        await client.hset(
            prefix + "presence", mapping={f"{p}|c{p}": backend.worker_id for p in ids}
        )
        tables = ("players", "left", "i0:answers:1:0")
        for _ in range(min(100, reads)):  # warm: the pool's connection, the scripts
            await backend.snapshot(code, tables)
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(reads):
            await backend.snapshot(code, tables)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        return {"cpu_us_per_read": cpu / reads * 1e6, "wall_us_per_read": wall / reads * 1e6}
    finally:
        await backend.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.snapshot", description=__doc__)
    parser.add_argument("--players", type=int, default=100)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--no-reuse", action="store_true")
    args = parser.parse_args()
    if not (1 <= args.players <= 10_000 and 1 <= args.reads <= 100_000):
        parser.error("--players 1–10,000 and --reads 1–100,000")
    with tempfile.TemporaryDirectory() as folder:
        redis = RedisProc(Path(folder))
        try:
            result = asyncio.run(measure(redis.url, args.players, args.reads, not args.no_reuse))
        finally:
            redis.stop()
    shown = {"players": args.players, "reads": args.reads, "reuse": not args.no_reuse}
    print(json.dumps(shown | {k: round(v, 1) for k, v in result.items()}))


if __name__ == "__main__":
    main()
