"""The Redis backend: room state, presence, deadlines and fan-out shared by many workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import secrets
import socket
import time
import zlib
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.connection import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.hub.backend import (
    NO_ARRIVAL,
    Arriving,
    Backend,
    Enrolled,
    Enrolment,
    Put,
    PutResult,
    Snapshot,
    Write,
)
from server.hub.due_watch import DueWatch
from server.hub.inbox import Inbox
from server.hub.live_workers import LiveWorkers
from server.hub.redis_pipelining import ScriptPipeline
from server.hub.redis_replies import Presence, RoomReplies, texts
from server.hub.redis_replies import raw_bytes as _raw
from server.hub.redis_replies import text as _text
from server.hub.redis_scripts import SCRIPTS
from server.hub.redis_subscription import SUBSCRIBE_WAIT, Channels, Subscription
from server.hub.room import DEVICES, NAMES, PLAYERS, TOKENS
from server.hub.tasks import stop_tasks

log = logging.getLogger(__name__)

# A worker proves it is alive by refreshing its key; presence held by a worker whose key has
# expired is not counted, so a crashed worker's players go offline within about LIVENESS_TTL.
LIVENESS_TTL = 5.0
LIVENESS_EVERY = 1.5
# The presence a worker holds is written back a slice of its rooms at a time, each room once every
# PRESENCE_SLICES beats, which heals a presence write Redis lost (a failover) without rewriting
# every socket's field every 1.5 s; for REASSERT_FOR s after its liveness key was found gone (other
# workers may have pruned its fields, and one may still prune after the key is back: check, then
# delete, a round trip apart) it writes all of it on every beat.
PRESENCE_SLICES = 5
REASSERT_FOR = 30.0
# Commands of one worker share this many connections; a burst beyond it (hundreds of phones
# joining or reconnecting at once) waits up to POOL_WAIT for a free one. redis-py's default pool
# (100 connections in redis-py 8) raises "Too many connections" at once instead.
POOL_SIZE = 64
POOL_WAIT = 10.0
CLAIM_LIMIT = 1000

# Same rule as FileStore, so a store key that works on Redis also works on the memory backend.
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class RedisBackend(Backend):
    name = "redis"
    batches = True
    # The command a script publishes a room's message with: a cluster's subscribers listen to
    # sharded channels, and its scripts SPUBLISH (the channel carries the room's hash tag, so it
    # is the slot of the script's keys).
    publish_command = "PUBLISH"
    unanswered_is_alive = False  # a liveness question that fails fails the read
    unavailable: tuple[type[BaseException], ...] = (
        RedisConnectionError,
        RedisTimeoutError,
        OSError,
    )

    def __init__(
        self,
        url: str,
        room_ttl: float = 12 * 3600,
        namespace: str = "kk",
        worker_id: str | None = None,
    ) -> None:
        self._url = url
        self._ttl_ms = _ms(room_ttl)
        self._ns = namespace
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._client: Redis | RedisCluster | None = None
        self._scripts: dict[str, AsyncScript] = {}
        # One Redis: the scripts of one loop turn as one pipeline (None: each script alone).
        self._pipeline: ScriptPipeline | None = None
        self._due_watch = DueWatch()
        self._tasks: list[asyncio.Task[None]] = []
        # Fan-out: rooms we want, per-room confirmations, and the one subscription that serves
        # them (the cluster backend: one per master).
        self._rooms: set[str] = set()
        self._confirmed: dict[str, asyncio.Event] = {}
        self._queue = Inbox()
        self._channels = Channels(
            self.worker_id, self._channel, self._code_of, self._confirmed, self._queue
        )
        self._subscription: Subscription | None = None
        self._hb_channel = f"{namespace}:hb:{self.worker_id}".encode()
        # Presence this worker holds; written back on every liveness beat (see _beat_liveness).
        self._own: dict[str, set[str]] = {}
        self._beats = 0
        self._reassert_until = 0.0  # time.monotonic(): write all presence back until then
        # Presence of sockets that closed while Redis was unreachable: removed on the next
        # liveness beat, else a phone that left during an outage would count as online (and keep
        # its question open) for as long as this worker lives.
        self._left: dict[str, set[str]] = {}
        self._live = LiveWorkers(self._is_live, unanswered_alive=self.unanswered_is_alive)
        self._replies = RoomReplies()  # a render's unchanged replies are not converted again
        # Enrolments whose reply did not arrive: (room, token digest, socket); see enrol.
        self._unsure: list[tuple[str, str, str]] = []

    # ---- keys ------------------------------------------------------------------------------------
    def _room(self, code: str) -> str:
        return f"{self._ns}:room:{{{code}}}:"

    def _channel(self, code: str) -> bytes:
        return f"{self._ns}:ch:{{{code}}}".encode()

    def _worker_key(self, worker_id: str) -> str:
        return f"{self._ns}:worker:{worker_id}"

    @property
    def _rooms_key(self) -> str:
        return f"{self._ns}:rooms"

    @property
    def _deadlines_key(self) -> str:
        return f"{self._ns}:deadlines"

    def _deadline_group(self, code: str) -> int:
        """The group of the due set that holds room `code`'s deadline (DueWatch)."""
        return 0

    def _deadline_keys(self, code: str) -> tuple[str, str]:
        """The due set that holds room `code`'s deadline, and the key (in the same slot) of the
        newest document version it was scheduled from."""
        return self._deadlines_key, f"{self._ns}:deadlines:v:{code}"

    def _store_key(self, collection: str, key: str | None = None) -> str:
        if not _SAFE.match(collection) or (key is not None and not _SAFE.match(key)):
            raise ValueError(f"unsafe store key {collection}/{key}")
        return f"{self._ns}:store:{collection}"

    @property
    def client(self) -> Redis | RedisCluster:
        if self._client is None:
            raise RuntimeError("RedisBackend is not connected")
        return self._client

    async def _run(self, script: str, code: str, *args: bytes | str | int | float) -> object:
        if self._pipeline is not None:
            return await self._pipeline.run(self._scripts[script], [self._room(code)], args)
        return await self._scripts[script](keys=[self._room(code)], args=list(args))

    # ---- lifetime --------------------------------------------------------------------------------
    async def connect(self) -> None:
        # redis.from_url does not pass Redis()'s default Retry to its pool (a pooled connection
        # gets Retry(NoBackoff(), 0)), so without this one command after a Redis restart fails.
        # 8 tries at 0.1, 0.2, 0.4, 0.8, 1, 1, 1, 1 s ride out a restart of a few seconds.
        retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=8)
        # No health_check_interval: redis-py runs that PING check inside the handshake of a
        # reconnect (before HELLO) with a retry loop of its own, which reconnects from within
        # the handshake. A connection idle for longer than the interval (every connection after
        # a partition of that length) then nests retry loops inside retry loops (8 x 8 x 8
        # attempts with backoff): each request held its pooled connection for minutes, every
        # other request queued behind them, and both workers stopped answering after the
        # partition healed. socket_timeout and the command retry find a dead connection anyway;
        # keepalive keeps idle ones from being dropped by the network.
        pool = BlockingConnectionPool.from_url(
            self._url,
            max_connections=POOL_SIZE,
            timeout=POOL_WAIT,
            retry=retry,
            health_check_interval=0,
            socket_keepalive=True,
            socket_timeout=3,
            socket_connect_timeout=2,
        )
        self._client = Redis(connection_pool=pool)
        self._client.auto_close_connection_pool = True  # the client owns its pool
        self._register_scripts()
        self._pipeline = ScriptPipeline(self._client)
        try:
            await self._client.ping()
            await self._beat_liveness()
        except BaseException:
            await self.disconnect()
            raise
        # The subscriber gets no socket_timeout (an idle subscription is normal) and no retries:
        # a failure must surface in its listener, which rebuilds the subscription and resyncs.
        subscriber = Redis.from_url(
            self._url, retry=Retry(NoBackoff(), 0), socket_timeout=None, socket_connect_timeout=2
        )
        hb_channel = self._hb_channel
        subscription = Subscription(
            self._channels, subscriber, lambda: hb_channel, self._client.publish
        )
        subscription.rooms.update(self._rooms)
        self._subscription = subscription
        subscription.start()
        self._tasks = [
            asyncio.create_task(self._liveness(), name=f"redis-liveness-{self.worker_id}"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(subscription.ready.wait(), SUBSCRIBE_WAIT)

    def _register_scripts(self) -> None:
        """Hook shared with the cluster backend (server/hub/redis_cluster.py)."""
        for name, source in SCRIPTS.items():
            source = source.replace("redis.call('PUBLISH'", f"redis.call('{self.publish_command}'")
            self._scripts[name] = self.client.register_script(source)

    async def disconnect(self) -> None:
        tasks, self._tasks = self._tasks, []
        await stop_tasks(tasks)
        await self._live.stop()
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            await subscription.stop()
        if self._client is not None and tasks:
            # A clean shutdown takes our players offline at once instead of after LIVENESS_TTL.
            try:
                async with asyncio.timeout(2):
                    async with self._client.pipeline(transaction=False) as pipe:
                        for table in (self._own, self._left):
                            for code, fields in table.items():
                                if fields:
                                    pipe.hdel(self._room(code) + "presence", *fields)
                        pipe.delete(self._worker_key(self.worker_id))
                        await pipe.execute()
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("redis: could not clear presence of %s: %s", self.worker_id, exc)
        self._own.clear()
        self._left.clear()
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            await pipeline.stop()
        if self._client is not None:
            await self._client.aclose()
        self._client = None

    # ---- room documents --------------------------------------------------------------------------
    async def create_room(self, code: str, doc: bytes) -> bool:
        created = await self._run("create", code, doc, self._ttl_ms) == 1
        if created:
            await self.client.sadd(self._rooms_key, code)
            # A room of this code that expired may have left its newest scheduled version.
            await self.client.delete(self._deadline_keys(code)[1])
        return created

    async def load_room(self, code: str) -> tuple[int, bytes] | None:
        prefix = self._room(code)
        doc, version = await self.client.mget(prefix + "doc", prefix + "ver")
        if doc is None or version is None:
            return None
        return int(version), _raw(doc)

    async def save_room(
        self, code: str, version: int, doc: bytes, writes: Sequence[Write] = ()
    ) -> bool:
        records = [part for write in writes for part in write]
        return await self._run("save", code, version, doc, self._ttl_ms, "", "", "", *records) != 0

    async def save_and_publish(
        self,
        code: str,
        version: int,
        doc: bytes,
        writes: Sequence[Write],
        empty: str,
        message: bytes,
    ) -> tuple[bool, bool]:
        records = [part for write in writes for part in write]
        channel = self._channel(code)
        reply = await self._run(
            "save", code, version, doc, self._ttl_ms, channel, empty, message, *records
        )
        return reply != 0, reply == 2

    async def touch(self, code: str) -> None:
        await self._run("touch", code, self._ttl_ms)

    async def room_count(self) -> int:
        # The set only grows at create; expired rooms are weeded out here, where it is cheap
        # enough (/healthz) and keeps every room write free of a cross-slot key.
        codes = [_text(c) for c in await self.client.smembers(self._rooms_key)]
        if not codes:
            return 0
        async with self.client.pipeline(transaction=False) as pipe:
            for code in codes:
                pipe.exists(self._room(code) + "doc")
            alive = await pipe.execute()
        gone = [code for code, exists in zip(codes, alive, strict=True) if not exists]
        if gone:
            await self.client.srem(self._rooms_key, *gone)
        return len(codes) - len(gone)

    async def bump(self, code: str) -> int:
        return int(str(await self._run("bump", code, self._ttl_ms)))

    async def changed(self, code: str, urgent: bool = False, table: str | None = None) -> int:
        marked = "" if table is None else "=" + table
        args = (self._ttl_ms, self._channel(code), "1" if urgent else "", marked)
        return int(str(await self._run("changed", code, *args)))

    async def seq(self, code: str) -> int:
        value = await self.client.get(self._room(code) + "seq")
        return int(value) if value is not None else 0

    # ---- per-room tables -------------------------------------------------------------------------
    async def hset(self, code: str, table: str, key: str, value: bytes) -> None:
        await self._run("write", code, "set", table, key, value, self._ttl_ms)

    async def hsetnx(self, code: str, table: str, key: str, value: bytes) -> bool:
        return await self._run("write", code, "setnx", table, key, value, self._ttl_ms) == 1

    async def hget(self, code: str, table: str, key: str) -> bytes | None:
        value = await self.client.hget(f"{self._room(code)}t:{table}", key)
        return _raw(value) if value is not None else None

    async def replace_and_read(
        self, code: str, table: str, key: str, value: bytes, read: str
    ) -> tuple[bytes | None, dict[str, bytes]]:
        args = (table, key, value, read, self._ttl_ms)
        reply = await self._run("replace_and_read", code, *args)
        assert isinstance(reply, list) and len(reply) == 2
        replaced, rows = reply
        records = {_text(rows[i]): _raw(rows[i + 1]) for i in range(0, len(rows), 2)}
        return (None if replaced is None else _raw(replaced)), records

    async def hgetall(self, code: str, table: str) -> dict[str, bytes]:
        return texts(await self.client.hgetall(f"{self._room(code)}t:{table}"))

    async def hlen(self, code: str, table: str) -> int:
        return int(await self.client.hlen(f"{self._room(code)}t:{table}"))

    async def hdel(self, code: str, table: str, key: str) -> None:
        await self._run("write", code, "del", table, key, b"", self._ttl_ms)

    async def put_many_if_open(
        self, code: str, gate: bytes, puts: Sequence[Put]
    ) -> list[PutResult]:
        args: list[bytes | str | int] = [gate, self._ttl_ms]
        for put in puts:
            args += [put.table, put.key, put.value, "1" if put.overwrite else "0"]
        reply = await self._run("put_if_open", code, *args)
        assert isinstance(reply, list)
        return [PutResult(_text(r)) for r in reply]

    async def enrol(
        self,
        code: str,
        limit: int,
        token_digest: str,
        names: Sequence[tuple[str, str]],
        tag: str,
        arrival: Arriving = NO_ARRIVAL,
    ) -> Enrolled:
        channel = self._channel(code) if arrival.announce else b""
        args: list[bytes | str | int] = [self._ttl_ms, limit, token_digest, tag]
        args += [NAMES, TOKENS, PLAYERS, DEVICES, arrival.conn, self.worker_id, arrival.device]
        args += [channel, arrival.announce if channel else b""]
        for key, name in names:
            args += [key, name]
        try:
            reply = await self._run("enrol", code, *args)
        except BaseException:
            if arrival.conn:
                # The script may have run with its reply lost: its socket would then count as
                # online for as long as this worker lives. Removed on the next liveness beat.
                self._unsure.append((code, token_digest, arrival.conn))
            raise
        assert isinstance(reply, list)
        outcome, player, name, seq = reply
        enrolled = Enrolled(Enrolment(_text(outcome)), _text(player), _text(name), int(seq))
        if enrolled.outcome is Enrolment.OK and arrival.conn:
            # Held (and re-asserted on every liveness beat) from now on, as set_online does.
            self._own.setdefault(code, set()).add(f"{enrolled.player}|{arrival.conn}")
        return enrolled

    # ---- presence --------------------------------------------------------------------------------
    async def set_online(self, code: str, player: str, conn: str, online: bool) -> None:
        if "|" in player:
            raise ValueError("player ids must not contain '|'")
        field = f"{player}|{conn}"
        key = self._room(code) + "presence"
        if online:
            self._own.setdefault(code, set()).add(field)
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.hset(key, field, self.worker_id)
                pipe.pexpire(key, self._ttl_ms)
                await pipe.execute()
        else:
            fields = self._own.get(code)
            if fields is not None:
                fields.discard(field)
                if not fields:
                    del self._own[code]
            try:
                await self.client.hdel(key, field)
            except (RedisError, OSError) as exc:
                self._left.setdefault(code, set()).add(field)
                log.warning("redis: %s goes offline once Redis is back: %s", field, exc)

    async def load_following(
        self, code: str, table: str, keys: Sequence[str], via: str
    ) -> tuple[tuple[int, bytes] | None, list[tuple[str, bytes] | None]]:
        reply = await self._run("follow", code, table, via, *keys)
        assert isinstance(reply, list)
        doc, version, *pairs = reply
        room = (int(version), _raw(doc)) if doc is not None and version is not None else None
        found: list[tuple[str, bytes] | None] = []
        for i in range(0, len(pairs), 2):
            target, record = pairs[i], pairs[i + 1]
            found.append(None if target is None else (_text(target), _raw(record or b"")))
        return room, found

    async def arrive(
        self,
        code: str,
        online: Sequence[tuple[str, str]],
        put: Sequence[tuple[str, str, bytes]] = (),
        delete: Sequence[tuple[str, str]] = (),
    ) -> None:
        fields = []
        for player, conn in online:
            if "|" in player:
                raise ValueError("player ids must not contain '|'")
            fields.append(f"{player}|{conn}")
        args: list[bytes | str | int] = [self._ttl_ms, self.worker_id, len(fields), len(put)]
        args += fields
        for table, key, value in put:
            args += [table, key, value]
        for table, key in delete:
            args += [table, key]
        # Held (and re-asserted on every liveness beat) from now on, as set_online does.
        self._own.setdefault(code, set()).update(fields)
        await self._run("arrive", code, *args)

    async def online(self, code: str) -> set[str]:
        return await self._online_from(
            code, await self.client.hgetall(self._room(code) + "presence")
        )

    async def _online_from(self, code: str, raw: dict[Any, Any]) -> set[str]:
        """Players in the presence hash `raw` held by a live worker; prunes the others."""
        if not raw:
            return set()
        held = self._replies.converted((code, "presence"), raw, Presence.of)
        alive = await self._live_workers(set(held.players), code)
        players: set[str] = set()
        dead: list[bytes] = []
        for worker, holds in held.players.items():
            if worker in alive:
                players |= holds
            else:
                dead += held.fields[worker]
        if dead:
            # Lazy pruning. A worker that was only presumed dead re-asserts its entries as soon
            # as it finds its liveness key gone (see _beat_liveness).
            await self.client.hdel(self._room(code) + "presence", *dead)
        return players

    async def snapshot(
        self, code: str, tables: Sequence[str], fields: Sequence[tuple[str, str]] = ()
    ) -> Snapshot:
        """One pipeline (all keys share the room's hash tag, so a cluster serves it from one
        node) instead of a round trip per part: a render runs every 100 ms per room while
        answers arrive, and at 100 rooms per worker the round trips were most of its time."""
        prefix = self._room(code)
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.get(prefix + "seq")
            pipe.mget(prefix + "doc", prefix + "ver")
            for table in tables:
                pipe.hgetall(f"{prefix}t:{table}")
            for table, key in fields:
                pipe.hget(f"{prefix}t:{table}", key)
            pipe.hgetall(prefix + "presence")
            seq, (doc, version), *parts, presence = await pipe.execute()
        raw_tables, values = parts[: len(tables)], parts[len(tables) :]
        return Snapshot(
            seq=int(seq) if seq is not None else 0,
            room=(int(version), _raw(doc)) if doc is not None and version is not None else None,
            tables={
                table: self._replies.converted((code, table), raw, texts)
                for table, raw in zip(tables, raw_tables, strict=True)
            },
            online=await self._online_from(code, presence),
            fields={
                field: None if value is None else _raw(value)
                for field, value in zip(fields, values, strict=True)
            },
        )

    async def _live_workers(self, workers: set[str], code: str = "") -> set[str]:
        """Which of `workers` are alive (`code`: the room asking; the cluster backend asks the
        liveness keys on that room's master)."""
        keys = {w: self._liveness_key(w, code) for w in workers if w != self.worker_id}
        alive = await self._live.alive(keys)
        if self.worker_id in workers:
            alive.add(self.worker_id)
        return alive

    def _liveness_key(self, worker: str, code: str) -> str:
        """Hook: the key that says whether `worker` is alive, for room `code`."""
        return self._worker_key(worker)

    async def _is_live(self, key: str) -> bool:
        """Hook: whether the liveness key `key` exists."""
        return bool(await self.client.exists(key))

    async def _assert_alive(self) -> bool:
        """Renew this worker's liveness; False when it had expired. Hook: the cluster backend
        keeps one liveness key per group of slots (server/hub/redis_cluster.py)."""
        key = self._worker_key(self.worker_id)
        return await self.client.set(key, b"1", px=_ms(LIVENESS_TTL), get=True) is not None

    async def _beat_liveness(self) -> None:
        now = time.monotonic()
        if not await self._assert_alive() and self._own:
            # Our key had expired (a stall, a partition, a Redis outage), so other workers may
            # have pruned our players; the write-back below restores them.
            log.warning("redis: liveness of %s was lost; re-asserting presence", self.worker_id)
            self._reassert_until = now + REASSERT_FOR
        self._beats += 1
        turn = None if now < self._reassert_until else self._beats % PRESENCE_SLICES
        held = {
            code: set(fields)
            for code, fields in self._own.items()
            if turn is None or zlib.crc32(code.encode()) % PRESENCE_SLICES == turn
        }
        if held:
            async with self.client.pipeline(transaction=False) as pipe:
                for code, fields in held.items():
                    presence = self._room(code) + "presence"
                    pipe.hset(presence, mapping=dict.fromkeys(fields, self.worker_id))
                    pipe.pexpire(presence, self._ttl_ms)
                await pipe.execute()
            # A socket that closed meanwhile may have been deleted before we wrote it back.
            for code, fields in held.items():
                gone = fields - self._own.get(code, set())
                if gone:
                    self._left.setdefault(code, set()).update(gone)
        while self._unsure:
            code, digest, conn = self._unsure[0]
            player = await self.client.hget(f"{self._room(code)}t:{TOKENS}", digest)
            if player is not None:
                await self.client.hdel(self._room(code) + "presence", f"{_text(player)}|{conn}")
            self._unsure.pop(0)
        if self._left:
            left, self._left = self._left, {}
            try:
                async with self.client.pipeline(transaction=False) as pipe:
                    for code, fields in left.items():
                        pipe.hdel(self._room(code) + "presence", *fields)
                    await pipe.execute()
            except BaseException:
                for code, fields in left.items():
                    self._left.setdefault(code, set()).update(fields)
                raise

    async def _liveness(self) -> None:
        while True:
            await asyncio.sleep(LIVENESS_EVERY)
            self._live.refresh()
            try:
                await self._beat_liveness()
            except (RedisError, OSError) as exc:
                log.warning("redis: liveness refresh failed: %s", exc)

    # ---- deadlines -------------------------------------------------------------------------------
    async def schedule(
        self, code: str, at: float, earlier: bool = False, version: int | None = None
    ) -> None:
        due, newest = self._deadline_keys(code)
        self._due_watch.scheduled(self._deadline_group(code), at)
        if version is not None:
            args: list[str | float | int] = [code, at, version, self._ttl_ms]
            await self._scripts["schedule"](keys=[due, newest], args=args)
        elif not at:
            await self.client.zrem(due, code)
        else:
            await self.client.zadd(due, {code: at}, lt=earlier)

    async def claim_due(self, now: float, lease: float, ask_all: bool = False) -> list[str]:
        if not ask_all and not self._due_watch.should_ask(0, now):
            return []
        self._due_watch.asking(0, now)
        try:
            claimed, earliest = await self._scripts["claim"](
                keys=[self._deadlines_key], args=[now, now + lease, CLAIM_LIMIT]
            )
        except BaseException:
            self._due_watch.failed(0)
            raise
        self._due_watch.answered(0, earliest)
        codes = [c.decode() for c in claimed]
        if not codes:
            return []
        # A deadline belongs to its room: one whose room expired is dropped, not handed out.
        async with self.client.pipeline(transaction=False) as pipe:
            for code in codes:
                pipe.exists(self._room(code) + "doc")
            exists = await pipe.execute()
        gone = [code for code, alive in zip(codes, exists, strict=True) if not alive]
        if gone:
            await self.client.zrem(self._deadlines_key, *gone)
        return [code for code, alive in zip(codes, exists, strict=True) if alive]

    # ---- fan-out ---------------------------------------------------------------------------------
    async def publish(self, code: str, message: bytes) -> None:
        await self.client.publish(self._channel(code), message)

    async def subscribe(self, code: str) -> None:
        confirmed = self._confirmed.setdefault(code, asyncio.Event())
        if code not in self._rooms:
            self._rooms.add(code)
            if self._subscription is not None:
                await self._subscription.add(code)
        # Wait for Redis to confirm, so a publish right after this call is not missed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_WAIT)

    async def unsubscribe(self, code: str) -> None:
        if code not in self._rooms:
            return
        self._rooms.discard(code)
        self._confirmed.pop(code, None)
        if self._subscription is not None:
            await self._subscription.remove(code)

    async def next_published(self) -> tuple[str, bytes]:
        return await self._queue.get()

    def _code_of(self, channel: bytes) -> str | None:
        prefix = f"{self._ns}:ch:{{".encode()
        if channel.startswith(prefix) and channel.endswith(b"}"):
            return channel[len(prefix) : -1].decode()
        return None

    # ---- durable store ---------------------------------------------------------------------------
    async def store_put(
        self, collection: str, key: str, value: bytes, *, only_new: bool = False
    ) -> bool:
        if only_new:
            return bool(await self.client.hsetnx(self._store_key(collection, key), key, value))
        await self.client.hset(self._store_key(collection, key), key, value)
        return True

    async def store_get(self, collection: str, key: str) -> bytes | None:
        value = await self.client.hget(self._store_key(collection, key), key)
        return _raw(value) if value is not None else None

    async def store_all(self, collection: str) -> dict[str, bytes]:
        raw = await self.client.hgetall(self._store_key(collection))
        return {_text(k): _raw(v) for k, v in sorted(raw.items())}

    async def store_delete(self, collection: str, key: str) -> bool:
        return bool(await self.client.hdel(self._store_key(collection, key), key))
