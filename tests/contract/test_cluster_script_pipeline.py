"""The scripts of one event-loop turn go to a Redis Cluster as one pipeline per master
(server/hub/redis_cluster_pipelining.py), on the session's real 3-master cluster: each caller
gets its own reply; a call whose slot moved meanwhile (MOVED) or whose master lost its scripts
(NOSCRIPT) is made again on its own and lands where the room now is."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis

from server.hub.backend import Enrolment, PutResult
from server.hub.redis_cluster import RedisClusterBackend
from tests.contract.test_redis_cluster import _migrate_slot
from tests.support.redis_cluster import RedisCluster

pytestmark = pytest.mark.redis


@pytest.fixture
async def worker(redis_cluster: RedisCluster) -> AsyncIterator[RedisClusterBackend]:
    backend = RedisClusterBackend(redis_cluster.url, namespace=f"kkq{uuid.uuid4().hex[:8]}")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.disconnect()


def master_of(cluster: RedisCluster, code: str) -> int:
    return cluster.master_of_slot(cluster.keyslot(f"{{{code}}}"))


def pipelines(worker: RedisClusterBackend) -> int:
    assert worker._pipeline is not None
    return worker._pipeline.pipelines


async def test_a_turns_calls_go_as_one_pipeline_per_master_each_with_its_own_reply(
    worker: RedisClusterBackend, redis_cluster: RedisCluster
) -> None:
    codes = [f"{500000 + i}" for i in range(40)]
    for code in codes:
        assert await worker.create_room(code, b"doc")
    # The first call of the turn goes at once; the 39 after it, per master, as one pipeline.
    masters = {master_of(redis_cluster, code) for code in codes[1:]}
    assert len(masters) == 3
    before = pipelines(worker)
    enrolled = await asyncio.gather(
        *(worker.enrol(code, 10, f"d{code}", [(f"p{code}", f"Naam {code}")], "t") for code in codes)
    )
    assert [e.outcome for e in enrolled] == [Enrolment.OK] * len(codes)
    assert [e.name for e in enrolled] == [f"Naam {code}" for code in codes]
    assert pipelines(worker) - before == len(masters)
    for code in codes:  # each enrolment is in its own room, on its own master
        assert list((await worker.hgetall(code, "players")).values()) == [f"Naam {code}".encode()]


async def test_a_pipelined_call_whose_slot_moved_is_made_again_where_the_room_is_now(
    worker: RedisClusterBackend, redis_cluster: RedisCluster
) -> None:
    codes = [f"{600000 + i}" for i in range(60)]
    for code in codes:
        assert await worker.create_room(code, b"doc")
        await worker.hset(code, "meta", "open", b"q1")
    moving = codes[1]
    source = master_of(redis_cluster, moving)
    neighbours = [c for c in codes[2:] if master_of(redis_cluster, c) == source][:5]
    assert len(neighbours) == 5
    target = next(n.port for n in redis_cluster.nodes if n.port != source)
    # The room moves; the worker's slot table still says `source`.
    await asyncio.to_thread(
        _migrate_slot, redis_cluster, redis_cluster.keyslot(f"{{{moving}}}"), target
    )
    before = pipelines(worker)
    results = await asyncio.gather(
        worker.put_if_open(codes[0], b"q1", "answers", "first", b"A"),  # the turn's first call
        worker.put_if_open(moving, b"q1", "answers", "anna", b"B"),
        *(worker.put_if_open(c, b"q1", "answers", "anna", b"C") for c in neighbours),
    )
    assert results == [PutResult.OK] * 7
    assert pipelines(worker) - before == 1  # the moved room's call went in the pipeline
    assert master_of(redis_cluster, moving) == target
    assert await worker.hgetall(moving, "answers") == {"anna": b"B"}
    for code in neighbours:
        assert await worker.hgetall(code, "answers") == {"anna": b"C"}


async def test_a_master_that_lost_its_scripts_gets_them_again(
    worker: RedisClusterBackend, redis_cluster: RedisCluster
) -> None:
    codes = [f"{700000 + i}" for i in range(30)]
    for code in codes:
        assert await worker.create_room(code, b"doc")
    master = master_of(redis_cluster, codes[1])
    on_master = [c for c in codes[1:] if master_of(redis_cluster, c) == master]
    assert len(on_master) >= 3
    with redis.Redis(port=master, socket_timeout=5) as admin:
        admin.script_flush()  # as after a restart of that master
    bumped = await asyncio.gather(worker.bump(codes[0]), *(worker.bump(c) for c in on_master))
    assert bumped == [1] * (1 + len(on_master))
    assert await worker.bump(on_master[0]) == 2
