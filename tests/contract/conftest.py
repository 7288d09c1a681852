"""Fixtures that run the backend contract against the memory backend, a real redis-server and a
real 3-master Redis Cluster (`cluster` is the parametrised fixture; `Cluster` below is the set of
workers of one test, whatever the backend)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from server.hub.backend import Backend
from server.hub.bokaal import BokaalBook
from server.hub.memory import MemoryBackend
from server.hub.redis import RedisBackend
from server.hub.redis_cluster import RedisClusterBackend
from server.hub.rooms import Hub, HubSettings
from tests.support.redis_server import RedisServer, require_redis_server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the whole session; each test gets its own key namespace."""
    with RedisServer(require_redis_server()) as server:
        yield server


@pytest.fixture
async def admin(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A plain client of the session's redis-server, for a test's own reads and writes."""
    client = Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


class FakeClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Cluster:
    """The backends of one test that share state: several Redis workers on one namespace, or
    the one memory backend (memory is a single process, so every "worker" is the same object)."""

    def __init__(self, kind: str, data_dir: Path, url: str | None) -> None:
        self.kind = kind
        self.data_dir = data_dir
        self.url = url
        self.namespace = f"kkt{uuid.uuid4().hex[:10]}"
        self.room_ttl: float = 12 * 3600
        self.workers: list[Backend] = []
        # The memory backend's rooms expire on this clock; Redis keeps its own time.
        self.clock = FakeClock()

    async def worker(self) -> Backend:
        if self.kind == "memory":
            if not self.workers:
                self.workers.append(
                    MemoryBackend(self.data_dir, room_ttl=self.room_ttl, clock=self.clock)
                )
                await self.workers[0].connect()
            return self.workers[0]
        assert self.url is not None
        kind = RedisClusterBackend if self.kind == "cluster" else RedisBackend
        backend = kind(self.url, room_ttl=self.room_ttl, namespace=self.namespace)
        await backend.connect()
        self.workers.append(backend)
        return backend

    async def wait(self, seconds: float) -> None:
        """Let `seconds` pass for the backend's key expiry: on memory the fake clock moves at
        once; Redis expires keys on its own clock, so there time really passes."""
        if self.kind == "memory":
            self.clock.now += seconds
            await asyncio.sleep(0)
        else:
            await asyncio.sleep(seconds)

    async def close(self) -> None:
        workers, self.workers = self.workers, []
        await asyncio.gather(*(w.disconnect() for w in workers))


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("cluster", marks=pytest.mark.redis),
    ]
)
async def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cluster]:
    url = None
    if request.param == "redis":
        url = request.getfixturevalue("redis_server").url
    elif request.param == "cluster":
        url = request.getfixturevalue("redis_cluster").url
    cluster = Cluster(request.param, tmp_path / "data", url)
    try:
        yield cluster
    finally:
        await cluster.close()


@pytest.fixture
async def backend(cluster: Cluster) -> Backend:
    return await cluster.worker()


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float, step: float = 0.1
) -> None:
    """Poll `check` until true; only for what runs on a real clock (key TTLs, liveness)."""
    async with asyncio.timeout(within):
        while True:
            if await check():
                return
            await asyncio.sleep(step)


@pytest.fixture
async def hub_and_clock(cluster: Cluster) -> AsyncIterator[tuple[Hub, Any]]:
    """A hub on the test's backend with a clock the test moves and a short reconnect grace
    (the `Clock`, `GRACE` and backend of tests/contract/test_attendance.py)."""
    from tests.contract.test_attendance import GRACE, Clock, _backend

    clock = Clock()
    backend = _backend(cluster)
    settings = HubSettings(coalesce_s=0.01, reconnect_grace_s=GRACE)
    async with Hub(backend, BokaalBook(backend), settings, clock=clock) as hub:
        yield hub, clock
