"""The Redis backend under faults: a killed subscription, a Redis restart, a crashed worker."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from server.hub.backend import Arriving
from server.hub.bokaal import BokaalBook
from server.hub.heartbeat import HEARTBEAT_DEADLINE, HEARTBEAT_EVERY
from server.hub.inbox import RESYNC
from server.hub.redis import LIVENESS_TTL, POOL_SIZE, PRESENCE_SLICES, RedisBackend
from server.hub.rooms import Hub, HubSettings
from tests.contract.conftest import eventually
from tests.support.redis_server import RedisServer, free_port, require_redis_server

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
ROOM = "123456"


def namespace() -> str:
    return f"kkr{uuid.uuid4().hex[:10]}"


async def wait_for_resync(backend: RedisBackend, within: float) -> None:
    """Wait for the resync signal; no room message may arrive first (nothing was published)."""
    assert await asyncio.wait_for(backend.next_published(), within) == RESYNC


async def receive_after_publishing(backend: RedisBackend, payload: bytes, within: float) -> None:
    """Publish once and insist it arrives: the subscription is live again, by itself."""
    await backend.publish(ROOM, payload)
    async with asyncio.timeout(within):
        while (message := await backend.next_published()) == RESYNC:
            pass
    assert message == (ROOM, payload)


async def test_a_killed_subscription_is_rebuilt_with_a_resync() -> None:
    # Its own server: CLIENT KILL TYPE pubsub hits every subscriber on the server.
    with RedisServer(require_redis_server()) as server:
        backend = RedisBackend(server.url, namespace=namespace())
        admin = Redis.from_url(server.url)
        await backend.connect()
        try:
            await backend.subscribe(ROOM)
            await backend.publish(ROOM, b"before")
            assert await asyncio.wait_for(backend.next_published(), 3) == (ROOM, b"before")

            assert await admin.client_kill_filter(_type="pubsub") >= 1
            await wait_for_resync(backend, within=8)
            await receive_after_publishing(backend, b"after", within=3)

            # And again: recovery is not a one-off.
            assert await admin.client_kill_filter(_type="pubsub") >= 1
            await wait_for_resync(backend, within=8)
            await receive_after_publishing(backend, b"after again", within=3)
        finally:
            await backend.disconnect()
            await admin.aclose()


async def test_a_silently_deaf_subscription_is_rebuilt(redis_server: RedisServer) -> None:
    """The failure with no error at all (redis-py #3979, python-socketio #1581): the connection
    stays up but hears nothing. Only the worker's own heartbeat can notice that."""
    backend = RedisBackend(redis_server.url, namespace=namespace())
    await backend.connect()
    try:
        await backend.subscribe(ROOM)
        # Reach inside on purpose: drop every subscription on the live connection, which is
        # what a silently lost subscription looks like from the worker's side.
        assert backend._subscription is not None
        pubsub = backend._subscription.pubsub
        assert pubsub is not None
        await pubsub.unsubscribe()
        await wait_for_resync(backend, within=6)
        await receive_after_publishing(backend, b"heard again", within=3)
    finally:
        await backend.disconnect()


async def test_a_heartbeat_held_up_by_a_busy_pool_does_not_rebuild_the_subscription(
    redis_server: RedisServer, admin: Redis
) -> None:
    """Every pooled connection taken for longer than the heartbeat deadline (hundreds of phones
    joining at once): the heartbeat waits for a connection, but the subscription hears fine, so
    it is not rebuilt (a rebuild loses what is published meanwhile and re-reads every room)."""
    backend = RedisBackend(redis_server.url, namespace=namespace())
    await backend.connect()
    pool = backend.client.connection_pool
    try:
        await backend.subscribe(ROOM)
        await asyncio.sleep(HEARTBEAT_EVERY * 1.5)  # a heartbeat heard: the count starts
        taken = [await pool.get_connection() for _ in range(POOL_SIZE)]
        try:
            await asyncio.sleep(HEARTBEAT_DEADLINE + 1.5)
            # Another worker's message on the room's channel arrives meanwhile.
            await admin.publish(backend._channel(ROOM), b"while busy")
            assert await asyncio.wait_for(backend.next_published(), 3) == (ROOM, b"while busy")
        finally:
            for connection in taken:
                await pool.release(connection)
        await asyncio.sleep(HEARTBEAT_EVERY * 2)  # the heartbeats that waited go out and are heard
        await backend.publish(ROOM, b"after")
        assert await asyncio.wait_for(backend.next_published(), 3) == (ROOM, b"after")
    finally:
        await backend.disconnect()


async def test_a_redis_restart_is_ridden_out() -> None:
    with RedisServer(require_redis_server(), appendonly=True) as server:
        backend = RedisBackend(server.url, namespace=namespace())
        await backend.connect()
        try:
            assert await backend.create_room(ROOM, b"doc")
            await backend.hset(ROOM, "players", "p1", b"ann")
            await backend.store_put("quizzes", "q1", b"quiz")
            await backend.subscribe(ROOM)
            await backend.publish(ROOM, b"before")
            assert await asyncio.wait_for(backend.next_published(), 3) == (ROOM, b"before")

            # A crash, not a clean shutdown: appendfsync always still keeps every acknowledged
            # write. Redis comes back a second later on the same port.
            server.kill()

            async def restart_soon() -> None:
                await asyncio.sleep(1.0)
                await asyncio.to_thread(server.start)

            restarting = asyncio.create_task(restart_soon())
            # Issued while Redis is down: redis-py's Retry carries it over the gap.
            started = time.monotonic()
            loaded = await asyncio.wait_for(backend.load_room(ROOM), 15)
            await restarting
            assert loaded == (1, b"doc")
            assert time.monotonic() - started >= 0.9

            await wait_for_resync(backend, within=10)
            await receive_after_publishing(backend, b"after", within=3)
            assert await backend.hget(ROOM, "players", "p1") == b"ann"
            assert await backend.store_get("quizzes", "q1") == b"quiz"
            assert await backend.save_room(ROOM, 1, b"doc 2")
            assert await backend.load_room(ROOM) == (2, b"doc 2")
        finally:
            await backend.disconnect()


GHOST_WORKER = """
import asyncio, sys
from server.hub.redis import RedisBackend

async def main() -> None:
    url, namespace, room = sys.argv[1:4]
    backend = RedisBackend(url, namespace=namespace, worker_id="ghost")
    await backend.connect()
    await backend.set_online(room, "pghost", "c1", True)
    print("ready", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_players_of_a_crashed_worker_go_offline(
    redis_server: RedisServer, admin: Redis
) -> None:
    ns = namespace()
    backend = RedisBackend(redis_server.url, namespace=ns)
    await backend.connect()
    await backend.create_room(ROOM, b"doc")
    ghost = await asyncio.create_subprocess_exec(
        sys.executable, "-c", GHOST_WORKER, redis_server.url, ns, ROOM,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert ghost.stdout is not None
        assert await asyncio.wait_for(ghost.stdout.readline(), 20) == b"ready\n"
        await backend.set_online(ROOM, "p1", "c1", True)
        assert await backend.online(ROOM) == {"p1", "pghost"}

        ghost.kill()  # SIGKILL: no cleanup of any kind
        await ghost.wait()
        killed = time.monotonic()

        async def ghost_gone() -> bool:
            return "pghost" not in await backend.online(ROOM)

        await eventually(ghost_gone, within=LIVENESS_TTL + 3, step=0.2)
        assert time.monotonic() - killed <= LIVENESS_TTL + 2
        assert await backend.online(ROOM) == {"p1"}
        # Pruned, not merely hidden.
        fields = await admin.hkeys(f"{ns}:room:{{{ROOM}}}:presence")
        assert fields == [b"p1|c1"]
    finally:
        if ghost.returncode is None:
            ghost.kill()
            await ghost.wait()
        await backend.disconnect()


async def test_a_clean_disconnect_takes_players_offline_at_once(
    redis_server: RedisServer,
) -> None:
    ns = namespace()
    staying = RedisBackend(redis_server.url, namespace=ns)
    leaving = RedisBackend(redis_server.url, namespace=ns)
    await staying.connect()
    await leaving.connect()
    try:
        await staying.create_room(ROOM, b"doc")
        await leaving.set_online(ROOM, "p2", "c2", True)
        assert await staying.online(ROOM) == {"p2"}
        await leaving.disconnect()
        assert await staying.online(ROOM) == set()
    finally:
        await staying.disconnect()
        await leaving.disconnect()


async def test_a_worker_presumed_dead_restores_its_presence(
    redis_server: RedisServer, admin: Redis
) -> None:
    """A stalled or partitioned worker loses its liveness key and its players get pruned; once
    it runs again it must write them back, since their sockets are still open."""
    ns = namespace()
    worker = RedisBackend(redis_server.url, namespace=ns, worker_id="stalled")
    observer = RedisBackend(redis_server.url, namespace=ns)
    await worker.connect()
    await observer.connect()
    try:
        await worker.create_room(ROOM, b"doc")
        await worker.set_online(ROOM, "p1", "c1", True)
        await admin.delete(f"{ns}:worker:stalled")
        await admin.hdel(f"{ns}:room:{{{ROOM}}}:presence", "p1|c1")
        assert await observer.online(ROOM) == set()

        async def restored() -> bool:
            return await observer.online(ROOM) == {"p1"}

        await eventually(restored, within=5, step=0.2)
    finally:
        await worker.disconnect()
        await observer.disconnect()


async def _hset_calls(admin: Redis) -> int:
    stats = await admin.info("commandstats")
    return int(stats.get("cmdstat_hset", {}).get("calls", 0))


async def test_presence_is_written_back_a_slice_of_the_rooms_per_beat() -> None:
    """Rewriting every socket's presence on every beat cost 10 % of a busy worker's CPU with
    5,000 phones. Each room is written back once every PRESENCE_SLICES beats, which still heals
    a presence field Redis lost while the worker stayed alive; after the worker's liveness was
    lost, every room on every beat."""
    rooms = [str(300_000 + i) for i in range(20)]
    # Its own server: the test counts every HSET it serves.
    with RedisServer(require_redis_server()) as server:
        ns = namespace()
        backend = RedisBackend(server.url, namespace=ns, worker_id="beating")
        admin = Redis.from_url(server.url)
        await backend.connect()
        try:
            # The beats are driven by the test, one at a time.
            for task in backend._tasks:
                if task.get_name().startswith("redis-liveness-"):
                    task.cancel()
            for code in rooms:
                await backend.create_room(code, b"doc")
                await backend.set_online(code, "p1", "c1", True)
            lost = f"{ns}:room:{{{rooms[7]}}}:presence"
            await admin.hdel(lost, "p1|c1")  # as a failover loses a write
            await admin.config_resetstat()
            for _ in range(PRESENCE_SLICES):
                await backend._beat_liveness()
            assert await _hset_calls(admin) == len(rooms)  # each room once, not once per beat
            assert await admin.hget(lost, "p1|c1") == b"beating"

            await admin.delete(f"{ns}:worker:beating")  # presumed dead: pruning may follow
            await admin.config_resetstat()
            for _ in range(2):
                await backend._beat_liveness()
            assert await _hset_calls(admin) == 2 * len(rooms)
        finally:
            await backend.disconnect()
            await admin.aclose()


async def test_connect_without_redis_fails_and_leaves_nothing_open() -> None:
    backend = RedisBackend(f"redis://127.0.0.1:{free_port()}/0", namespace=namespace())
    with pytest.raises(RedisConnectionError):
        await asyncio.wait_for(backend.connect(), 15)
    await backend.disconnect()  # harmless after a failed connect


async def test_keys_carry_the_room_hash_tag_and_a_ttl(
    redis_server: RedisServer, admin: Redis
) -> None:
    """Every room key sits in one cluster slot and expires; docs/REDIS_KEYS.md lists them."""
    ns = namespace()
    backend = RedisBackend(redis_server.url, namespace=ns, room_ttl=600)
    await backend.connect()
    try:
        await backend.create_room(ROOM, b"doc")
        await backend.bump(ROOM)
        await backend.hset(ROOM, "players", "p1", b"ann")
        await backend.set_online(ROOM, "p1", "c1", True)
        keys = sorted([k.decode() async for k in admin.scan_iter(match=f"{ns}:room:*")])
        prefix = f"{ns}:room:{{{ROOM}}}:"
        assert keys == sorted(
            prefix + suffix for suffix in ("doc", "ver", "seq", "t:players", "tables", "presence")
        )
        for key in keys:
            assert 0 < await admin.pttl(key) <= 600_000, key
    finally:
        await backend.disconnect()


async def test_a_socket_whose_enrolment_reply_was_lost_does_not_stay_online(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The join script ran (the player exists, its socket marked online) but its reply never
    came back: the hello fails, so that socket must not count as online for as long as the
    worker lives. The next liveness beat removes it."""
    backend = RedisBackend(redis_server.url, namespace=namespace())
    await backend.connect()
    try:
        await backend.create_room(ROOM, b"doc")
        run = backend._run

        async def reply_lost(script: str, code: str, *args: bytes | str | int | float) -> object:
            await run(script, code, *args)
            raise RedisConnectionError("the reply was lost")

        monkeypatch.setattr(backend, "_run", reply_lost)
        with pytest.raises(RedisConnectionError):
            await backend.enrol(ROOM, 10, "digest", [("bo", "Bo")], "aaaaaa", Arriving("c1"))
        monkeypatch.undo()
        assert len(await backend.online(ROOM)) == 1  # the script did run

        async def offline() -> bool:
            return await backend.online(ROOM) == set()

        await eventually(offline, within=5)
        assert await backend.hlen(ROOM, "players") == 1  # the player itself stays, offline
    finally:
        await backend.disconnect()


async def test_while_redis_is_down_only_a_poll_that_reached_it_reports_it_back() -> None:
    """The deadline loop reports the backend reachable after a poll that returned. A poll the
    worker answers from what it knows (server/hub/due_watch.py) proves nothing: while Redis is
    thought down every poll asks it, so no "reachable again" is logged while it is still down.
    (The hub's clock stands still: on their own the idle asks would never come due.)"""
    with RedisServer(require_redis_server()) as server:
        backend = RedisBackend(server.url, namespace=namespace())
        clock = lambda: 1_800_000_000.0  # noqa: E731
        async with Hub(backend, BokaalBook(backend), HubSettings(), clock=clock) as hub:
            await asyncio.sleep(0.3)  # the loop asked once; from now on it only knows
            server.kill()
            hub.outage.failed("a render", RedisConnectionError("Connection refused"))
            await asyncio.sleep(0.5)  # ten polls
            assert hub.outage.down
            await asyncio.to_thread(server.start)
            await eventually(lambda: _async(not hub.outage.down), within=20)


async def _async(value: bool) -> bool:
    return value
