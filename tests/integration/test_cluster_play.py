"""Two uvicorn workers on a 3-master Redis Cluster: two rooms on different masters, phones of
both rooms on both workers, a whole quiz in both rooms at once, and every screen agrees."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import FAST_QUIZ
from tests.support.multiworker import (
    HostedRoom,
    close_all,
    export,
    hosted_rooms_on_shards,
    join_spread,
    screens_on,
    shard_of,
    wait_until,
    worker_pids,
    workers_on,
)
from tests.support.phones import Phone, WsClient
from tests.support.redis_cluster import RedisCluster

pytestmark = pytest.mark.redis

PHONES = 12  # per room, half on each worker


def _script(i: int, question: dict[str, Any]) -> dict[str, Any]:
    if question["type"] == "estimate":
        return {"value": [50, 47, 90, 10][i % 4]}
    return {"choice": (i * 7 + question["index"]) % len(question["options"])}


async def _play(room: HostedRoom, screens: list[WsClient], phones: list[Phone]) -> None:
    """The whole quiz in one room: every phone answers, both screens show the same."""
    host = room.host
    for screen in screens:
        await screen.wait_for(
            lambda f: f.get("type") == "view" and f.get("lobby", {}).get("count") == PHONES
        )
    await host.control("start")
    for index in range(3):
        views = await asyncio.gather(
            *(c.wait_view("question", index=index) for c in [*screens, *phones])
        )
        question = views[0]["question"]
        acks = await asyncio.gather(
            *(p.answer(index, **_script(i, question)) for i, p in enumerate(phones))
        )
        assert all(a["type"] == "ack" for a in acks), acks
        reveals = [await s.wait_view("reveal", index=index) for s in screens]
        assert reveals[0]["reveal"] == reveals[1]["reveal"]
        assert reveals[0]["answered"] == {"count": PHONES, "of": PHONES}
        await asyncio.gather(*(p.wait_view("reveal", index=index) for p in phones))
        marks = [len(s.frames) for s in screens]
        await host.control("scoreboard")
        boards = [
            await s.wait_for(lambda f: f.get("phase") == "scoreboard", since=mark)
            for s, mark in zip(screens, marks, strict=True)
        ]
        assert boards[0]["scoreboard"] == boards[1]["scoreboard"]
        await host.control("next")
    podiums = [await s.wait_view("podium") for s in screens]
    assert podiums[0]["podium"] == podiums[1]["podium"]


def _shard_subscribers(cluster: RedisCluster, code: str) -> int:
    """How many connections subscribe to the room's channel on its master (PUBSUB SHARDNUMSUB)."""
    client = redis.Redis(port=shard_of(cluster, code), socket_timeout=2)
    try:
        channel = f"kk:ch:{{{code}}}"
        reply = client.execute_command("PUBSUB", "SHARDNUMSUB", channel)
        return int(reply[1])
    finally:
        client.close()


async def test_two_rooms_on_two_masters_play_on_two_workers(
    tmp_path: Path, redis_cluster: RedisCluster
) -> None:
    with workers_on(tmp_path, redis_cluster.url) as server:
        workers = await worker_pids(server)
        rooms = await hosted_rooms_on_shards(server, redis_cluster, FAST_QUIZ, 2, workers[0])
        assert len({shard_of(redis_cluster, r.code) for r in rooms}) == 2
        clients: list[Any] = [r.host for r in rooms]
        try:
            screens = [await screens_on(server, r.code, workers) for r in rooms]
            clients += [s for pair in screens for s in pair]
            joined = [
                await join_spread(server, r.code, workers, PHONES, name=f"Kamer{k}")
                for k, r in enumerate(rooms)
            ]
            phones = [p for p, _ in joined]
            clients += [p for group in phones for p in group]
            assert all({*on} == set(workers) for _, on in joined)
            # Each room's channel is subscribed on its own master, once per worker.
            for room in rooms:
                await wait_until_subscribed(redis_cluster, room.code, len(workers))

            await asyncio.gather(*(_play(r, screens[k], phones[k]) for k, r in enumerate(rooms)))
            for k, room in enumerate(rooms):
                results = export(server, room.code, room.secret)
                by_name = {p["name"]: p for p in results["players"]}
                assert len(by_name) == PHONES
                assert all(len(p["answers"]) == 3 for p in by_name.values())

                def settled(k: int = k, by_name: dict[str, Any] = by_name) -> bool:
                    return all(
                        p.me is not None and p.me.get("score") == by_name[f"Kamer{k} {i}"]["score"]
                        for i, p in enumerate(phones[k])
                    )

                await wait_until(settled, 5, "phones' me frames to match the export")
        finally:
            await close_all(clients)


async def wait_until_subscribed(cluster: RedisCluster, code: str, want: int) -> None:
    async with asyncio.timeout(10):
        while await asyncio.to_thread(_shard_subscribers, cluster, code) != want:
            await asyncio.sleep(0.05)
