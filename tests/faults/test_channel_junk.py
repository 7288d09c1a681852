"""Fault: anything that is not ours published on a room's channel (100 bytes of junk, 2 MB, a
msgpack list or number). Each worker logs and skips it; changes keep reaching phones on both
workers through pub/sub. The workers' 2 s resync poll is set to a minute here, so a listener that
died on the junk would show as views that never arrive."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import msgpack
import redis

from tests.conftest import FAST_QUIZ
from tests.support.multiworker import (
    close_all,
    hosted_room,
    join_spread,
    redis_and_workers,
    worker_pids,
)

QUIZ = {**FAST_QUIZ, "id": "test-kanaal-rommel"}
JUNK = [
    os.urandom(100) + b"\xc1",  # \xc1 is never valid msgpack
    b"\x00" * (2 * 1024 * 1024),
    msgpack.packb([1, 2, 3]),
    msgpack.packb(42),
    msgpack.packb({"seq": "not a number", "kick": ["not", "a", "player"]}),
]


async def test_junk_on_a_room_channel_is_skipped_and_delivery_goes_on(tmp_path: Path) -> None:
    env = {"KENNISKRING_RESYNC_MS": "60000"}
    with redis_and_workers(tmp_path, env=env) as (redis_server, server):
        workers = await worker_pids(server)
        room = await hosted_room(server, QUIZ, workers[0])
        phones, _ = await join_spread(server, room.code, workers, 4)
        try:
            client = redis.Redis.from_url(redis_server.url)
            try:
                for junk in JUNK:
                    receivers = client.publish(f"kk:ch:{{{room.code}}}", junk)
                    assert receivers == 2  # both workers hear the room's channel
            finally:
                client.close()
            # The next change reaches every phone on both workers through pub/sub.
            await room.host.control("start")
            await asyncio.gather(*(p.wait_view("question", timeout=10) for p in phones))
            assert (await phones[1].answer(0, choice=0))["type"] == "ack"
            await room.host.control("close")
            await asyncio.gather(*(p.wait_view("reveal", timeout=10) for p in phones))
        finally:
            await close_all([*phones, room.host])
        log = server.log_path.read_text()
        assert "skipped a message on its channel" in log
        assert "Traceback" not in log, log[-3000:]
