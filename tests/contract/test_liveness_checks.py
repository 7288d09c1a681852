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

from server.hub.live_workers import ASKED_WITHIN, FRESH_FOR, USABLE_FOR
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


async def _set_liveness(backend: RedisBackend, worker: str, alive: bool) -> None:
    """Set or remove `worker`'s liveness key that rooms like CODE are checked against."""
    if isinstance(backend, RedisClusterBackend):
        key = backend._live_key(backend._bucket(CODE), worker)
        if alive:
            await backend.cluster.set(key, b"1", px=60_000)
        else:
            await backend.cluster.delete(key)
    elif alive:
        await backend.client.set(backend._worker_key(worker), b"1", px=60_000)
    else:
        await backend.client.delete(backend._worker_key(worker))


async def _questions_land(backend: RedisBackend) -> None:
    await asyncio.gather(*backend._live._checks.under_way(), return_exceptions=True)


async def test_a_worker_found_alive_lately_is_asked_about_behind_the_reads(
    two_workers: tuple[RedisBackend, RedisBackend, list[int]],
) -> None:
    """A room's read (a transition's, before its save) does not wait for the liveness
    question of a worker found alive lately: it is asked again in the background, and the
    liveness beat keeps asking about the workers rooms asked about, so after a quiet spell the
    answer is at hand. A dead worker is never taken from what is known."""
    reader, _, ports = two_workers
    for task in reader._tasks:  # the beats are driven by the test
        if task.get_name().startswith("redis-liveness-"):
            task.cancel()
    now = [1000.0]
    reader._live.clock = lambda: now[0]
    assert await reader.create_room(CODE, b"doc")
    await reader.set_online(CODE, "p3", "c3", True)
    await reader.client.hset(reader._room(CODE) + "presence", "p9|c9", "ghost")
    await _set_liveness(reader, "ghost", True)

    before = _exists_calls(ports)
    assert await reader.online(CODE) == {"p3", "p9"}
    assert _exists_calls(ports) - before == 1  # found alive: asked once

    # The beat asks again about what rooms asked about; a read a little later than FRESH_FOR
    # after the first question finds the beat's answer fresh and asks nothing.
    now[0] += FRESH_FOR / 2
    reader._live.refresh()
    await _questions_land(reader)
    assert _exists_calls(ports) - before == 2
    now[0] += FRESH_FOR * 0.9
    assert await reader.online(CODE) == {"p3", "p9"}
    await _questions_land(reader)
    assert _exists_calls(ports) - before == 2

    # The ghost dies without a word. A read past FRESH_FOR still counts it (nothing waited for),
    # and asks again behind it; the answer ("gone") is never taken from what is known: the next
    # read asks again and prunes its players.
    await _set_liveness(reader, "ghost", False)
    now[0] += FRESH_FOR
    assert await reader.online(CODE) == {"p3", "p9"}
    await _questions_land(reader)
    assert _exists_calls(ports) - before == 3
    assert await reader.online(CODE) == {"p3"}
    assert _exists_calls(ports) - before == 4
    assert await reader.client.hkeys(reader._room(CODE) + "presence") == [b"p3|c3"]

    # Found alive longer than USABLE_FOR ago (no beat, no read in between): a read waits for
    # the answer again.
    await reader.client.hset(reader._room(CODE) + "presence", "p8|c8", "ghost2")
    await _set_liveness(reader, "ghost2", True)
    assert await reader.online(CODE) == {"p3", "p8"}
    await _set_liveness(reader, "ghost2", False)
    now[0] += USABLE_FOR
    assert await reader.online(CODE) == {"p3"}

    # What no room asked about for ASKED_WITHIN is forgotten by the beat, not asked about.
    await reader.client.hset(reader._room(CODE) + "presence", "p7|c7", "ghost3")
    await _set_liveness(reader, "ghost3", True)
    assert await reader.online(CODE) == {"p3", "p7"}
    count = _exists_calls(ports)
    now[0] += ASKED_WITHIN + 1
    reader._live.refresh()
    await _questions_land(reader)
    assert _exists_calls(ports) == count
    await _set_liveness(reader, "ghost3", False)
    assert await reader.online(CODE) == {"p3"}  # forgotten: asked, not taken as alive
