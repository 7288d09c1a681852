"""Fault: Redis stalls for 10 s mid-question (every connection open, no byte flowing), made by a
TCP proxy between the two workers and Redis, while 50 phones answer.

The Redis client sends a command again when its reply times out, and the first copy still runs
once the bytes flow. Every phone must be told `ack` exactly when its answer was stored, and a
refusal only when it was not: the export and the replies agree, phone by phone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import FAST_QUIZ
from tests.support.multiworker import (
    close_all,
    export,
    hosted_room,
    join_spread,
    worker_pids,
)
from tests.support.phones import answer_frame
from tests.support.redis_server import RedisServer
from tests.support.servers import ServerProcess
from tests.support.tcpproxy import ProxyThread

PHONES = 50
BEFORE = 10
STALL_S = 10.0
QUIZ = {
    **FAST_QUIZ,
    "id": "test-redis-stall",
    "questions": [{**FAST_QUIZ["questions"][0], "time_limit": 120}],
}


@contextlib.contextmanager
def workers_behind_a_proxy(tmp_path: Path) -> Iterator[tuple[ProxyThread, ServerProcess]]:
    """A redis-server, the proxy in front of it, and `serve --workers 2` talking to the proxy."""
    redis = RedisServer()
    redis.start()
    proxy = ProxyThread(redis.port)
    server = ServerProcess(tmp_path, redis_url=proxy.url, workers=2)
    try:
        server.start()
        yield proxy, server
    finally:
        server.stop()
        proxy.close()
        redis.close()


async def test_answers_during_a_stall_are_acked_exactly_when_stored(tmp_path: Path) -> None:
    with workers_behind_a_proxy(tmp_path) as (proxy, server):
        workers = await worker_pids(server)
        room = await hosted_room(server, QUIZ, workers[0])
        phones, _ = await join_spread(server, room.code, workers, PHONES)
        try:
            await room.host.command("start")  # done: the stall holds no write of it
            await asyncio.gather(*(p.wait_view("question") for p in phones))

            # The first phones answer before the stall (the answer script is loaded and warm),
            # the others while no byte flows.
            early = list(range(BEFORE))
            for i in early:
                assert (await phones[i].answer(0, choice=i % 4))["type"] == "ack"
            proxy.stall()
            marks = [len(p.frames) for p in phones]
            await asyncio.gather(
                *(phones[i].send(answer_frame(0, i % 4)) for i in range(BEFORE, PHONES))
            )
            await asyncio.sleep(STALL_S)
            proxy.resume()
            replies = await asyncio.gather(
                *(phones[i].reply_since(marks[i], 60) for i in range(BEFORE, PHONES))
            )
            await room.host.control("close")
            await asyncio.gather(*(p.wait_view("reveal", timeout=30) for p in phones))
            stored = {
                player["name"]
                for player in export(server, room.code, room.secret)["players"]
                for answer in player["answers"]
                if answer["answer"]
            }
            assert {f"Speler {i}" for i in early} <= stored
            for i, reply in enumerate(replies, start=BEFORE):
                name = f"Speler {i}"
                assert reply is not None, f"{name} got no reply"
                if name in stored:
                    assert reply["type"] == "ack", (name, reply)
                else:
                    assert reply["type"] == "error", (name, reply)
            told = {r["type"] if r["type"] == "ack" else r["code"] for r in replies if r}
            print(f"\nreplies after a {STALL_S:.0f} s stall: {sorted(told)}; stored {len(stored)}")
        finally:
            await close_all([*phones, room.host])
