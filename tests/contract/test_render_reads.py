"""When a transition opens a round, every other worker shows it after one read of the room: the
transition announces the round's input table, and the render reads that table and the players
present at the opening along with the rest (with 100 rooms rendering in a worker, each further
read waited for all the other renders' turns). Two hubs on a real Redis and on a real Redis
Cluster; the second hub's backend counts its reads (it is the real backend underneath)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from server.activities import quiz as q
from server.hub.backend import Backend, Snapshot
from server.hub.bokaal import BokaalBook
from server.hub.redis import RedisBackend
from server.hub.redis_cluster import RedisClusterBackend
from server.hub.room import META, PRESENT, unpack
from server.hub.rooms import Hub, HubSettings
from tests.conftest import FAST_QUIZ
from tests.contract.test_attendance import Socket, until

pytestmark = pytest.mark.redis


class Reads:
    """What a backend was asked to read, per kind of read."""

    def __init__(self) -> None:
        self.snapshots: list[tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = []
        self.singles: list[str] = []  # hget / hgetall: a round trip of their own

    def clear(self) -> None:
        self.snapshots.clear()
        self.singles.clear()


def counting(kind: type[RedisBackend], reads: Reads, url: str, namespace: str) -> Backend:
    class Counting(kind):  # type: ignore[valid-type,misc]
        async def snapshot(
            self, code: str, tables: Sequence[str], fields: Sequence[tuple[str, str]] = ()
        ) -> Snapshot:
            reads.snapshots.append((tuple(tables), tuple(fields)))
            return await super().snapshot(code, tables, fields)

        async def hget(self, code: str, table: str, key: str) -> bytes | None:
            reads.singles.append(f"hget {table} {key}")
            return await super().hget(code, table, key)

        async def hgetall(self, code: str, table: str) -> dict[str, bytes]:
            reads.singles.append(f"hgetall {table}")
            return await super().hgetall(code, table)

    backend: Backend = Counting(url, namespace=namespace)
    return backend


@pytest.fixture(params=["redis", "cluster"])
async def two_workers(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Hub, Hub, Reads]]:
    if request.param == "redis":
        url, kind = request.getfixturevalue("redis_server").url, RedisBackend
    else:
        url, kind = request.getfixturevalue("redis_cluster").url, RedisClusterBackend
    namespace = f"kkr{uuid.uuid4().hex[:8]}"
    reads = Reads()
    first: Backend = kind(url, namespace=namespace)
    second = counting(kind, reads, url, namespace)
    settings = HubSettings(coalesce_s=0.01, resync_s=3600)
    async with (
        Hub(first, BokaalBook(first), settings) as a,
        Hub(second, BokaalBook(second), settings) as b,
    ):
        yield a, b, reads


def _phase(socket: Socket) -> Any:
    views = socket.views()
    return views[-1].get("phase") if views else None


async def test_the_other_worker_shows_a_new_question_after_one_read(
    two_workers: tuple[Hub, Hub, Reads],
) -> None:
    deciding, other, reads = two_workers
    quiz = {**FAST_QUIZ, "questions": [{**FAST_QUIZ["questions"][0], "points": 1000}]}
    code, secret = await deciding.create_room([("quiz", quiz)], "", "nl", "http://127.0.0.1")
    host = Socket(deciding)
    await deciding.hello(host.client, {"role": "host", "room": code, "secret": secret})
    here = Socket(other)
    await other.hello(here.client, {"role": "phone", "room": code, "name": "Daar"})
    await until(lambda: _phase(here) == q.LOBBY, "the lobby on the other worker")
    await until(lambda: not other.fanout._renderers, "the other worker's renders are done")
    reads.clear()
    await deciding.control(host.client, {"action": "start"})
    await until(lambda: _phase(here) == q.QUESTION, "the question on the other worker")
    # The question may come before the render (Fanout.show_saved); the render follows.
    await until(lambda: bool(reads.snapshots) and not other.fanout._renderers, "the render is done")
    loaded = await other.load(code)
    assert loaded is not None
    table = other.table_of(loaded[1])  # the open question's input table
    assert table
    # One read: the round's table and its `present` came along with the room.
    assert reads.snapshots == [(("players", "left", table), ((META, PRESENT),))]
    assert reads.singles == []
    present = await other.backend.hget(code, META, PRESENT)
    assert present is not None and set(unpack(present)) == {here.client.player}
    assert other.decoded.present(code, table) == {here.client.player}  # kept: no second read
