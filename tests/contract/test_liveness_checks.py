"""Who is online is read from the presence hash and checked against the liveness of the workers
that hold it. Renders that find that check stale at the same moment share one check per worker
(per slot group on a cluster) instead of each asking Redis (when 100 rooms opened a question
at once, one EXISTS per room). Real Redis and a real 3-master cluster; Redis's own command
counts are the judge."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis

from server.hub.redis import RedisBackend
from server.hub.redis_cluster import RedisClusterBackend

pytestmark = pytest.mark.redis

CODE = "314159"


@pytest.fixture(params=["redis", "cluster"])
async def two_workers(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[RedisBackend, RedisBackend, list[int]]]:
    """Two workers of one deployment, and the ports of the Redis servers under them."""
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        url, kind, ports = server.url, RedisBackend, [server.port]
    else:
        cluster = request.getfixturevalue("redis_cluster")
        url, kind = cluster.url, RedisClusterBackend
        ports = [node.port for node in cluster.nodes]
    namespace = f"kkl{uuid.uuid4().hex[:8]}"
    workers = [kind(url, namespace=namespace) for _ in range(2)]
    for worker in workers:
        await worker.connect()
    try:
        yield workers[0], workers[1], ports
    finally:
        await asyncio.gather(*(w.disconnect() for w in workers))


def _exists_calls(ports: list[int]) -> int:
    total = 0
    for port in ports:
        with redis.Redis(port=port, socket_timeout=5) as admin:
            stats = admin.info("commandstats")
        total += int(stats.get("cmdstat_exists", {}).get("calls", 0))
    return total


async def test_renders_that_find_the_liveness_check_stale_share_one_check(
    two_workers: tuple[RedisBackend, RedisBackend, list[int]],
) -> None:
    reader, holder, ports = two_workers
    assert await holder.create_room(CODE, b"doc")
    await holder.set_online(CODE, "p1", "c1", True)
    await holder.set_online(CODE, "p2", "c2", True)
    await reader.set_online(CODE, "p3", "c3", True)

    before = _exists_calls(ports)
    seen = await asyncio.gather(*(reader.online(CODE) for _ in range(40)))
    checks = _exists_calls(ports) - before

    # Every render sees every player, the holder's too (its worker is alive)...
    assert all(players == {"p1", "p2", "p3"} for players in seen)
    # ...after one check of the holder's liveness, not one per render.
    assert checks == 1

    # A worker that died without a word (no liveness key): never taken as dead from a cache, so
    # checked again, but not once per render (a few renders may land after a check and start
    # the next); its players are not online.
    await reader.client.hset(reader._room(CODE) + "presence", "p9|c9", "crashed-worker")
    before = _exists_calls(ports)
    seen = await asyncio.gather(*(reader.online(CODE) for _ in range(40)))
    assert all(players == {"p1", "p2", "p3"} for players in seen)
    assert _exists_calls(ports) - before < 10  # (a render per phone would be 40)
