"""The Redis Cluster backend: RedisBackend's rooms, scripts and presence on a Redis Cluster,
with deadlines, room registry and worker liveness kept per slot group, and the fan-out on sharded
pub/sub (SPUBLISH / SSUBSCRIBE, Redis >= 7.0).

Selected by a `redis+cluster://host:port[,host:port…]` REDIS_URL (`rediss+cluster://` for TLS);
see docs/DEPLOYING.md and docs/REDIS_KEYS.md.

What changes against one Redis:

- Commands go through `_ClusterClient`, redis-py's `redis.asyncio.RedisCluster` (which follows
  MOVED/ASK and re-reads the slot table after a connection error or CLUSTERDOWN) made gentler to
  the healthy masters while one fails over (see its docstring). Every room script touches only
  the keys of its room's `{code}` slot, so RedisBackend's scripts run unchanged; `snapshot` is one
  more such script (a cluster pipeline refuses MGET).
- Slot groups: the slot space is cut in SLOT_GROUPS ranges; group b's keys carry a hash tag whose
  slot lies in range b. A room belongs to the group of its slot, so its deadline (`{ns}:due:…`),
  its registry entry (`{ns}:rooms:…`) and the liveness keys its presence is checked against
  (`{ns}:live:…`) are on its own master (except in the few groups that straddle two masters'
  ranges). No node holds every deadline; a master that fails over delays only its own groups:
  `claim_due` and `room_count` do not wait for it.
- Fan-out: a room's messages are SPUBLISHed on its channel `{ns}:ch:{code}`, which only the master
  of the room's slot carries; the scripts that publish (`changed`, `enrol`) SPUBLISH inside the
  script, as the channel is in the script's slot. Each worker keeps one `_Shard` per master that
  serves a room it subscribed: its own connection, its own heartbeat channel (a channel whose
  slot that master serves) and RedisBackend's rebuild-and-resync discipline. redis-py 8.1 has an
  asyncio `ClusterPubSub` with SSUBSCRIBE (redis-py PR #3736), but it reads its per-node
  connections in turn (`get_sharded_message(timeout=t)` waits t on each node before looking at
  the next), moves subscriptions only when the command client re-reads its slot table, and has
  no notion of a subscription gone deaf. So the shards here are managed by hand, with plain
  per-node `PubSub` connections, and re-resolved when a shard fails, when Redis unsubscribes a
  channel by itself (its slot moved), and once a second against the client's slot table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.exceptions import ClusterError, RedisClusterException, RedisError, SlotNotCoveredError

from server.hub.backend import Snapshot
from server.hub.heartbeat import HEARTBEAT_DEADLINE, HEARTBEAT_EVERY, Heartbeat
from server.hub.inbox import RESYNC
from server.hub.redis import (
    BUILD_TIMEOUT,
    CLAIM_LIMIT,
    LIVE_CACHE_FOR,
    LIVENESS_EVERY,
    LIVENESS_TTL,
    SUBSCRIBE_WAIT,
    RedisBackend,
    _ms,
    _raw,
    _Rebuild,
    _ReconnectWatch,
    _text,
)
from server.hub.tasks import stop_tasks

log = logging.getLogger(__name__)

SCHEMES = ("redis+cluster://", "rediss+cluster://")
# Deadlines, the room registry and worker liveness are kept per group of slots: group b holds the
# rooms whose slot lies in [b * SPAN, (b + 1) * SPAN), in keys whose hash tag lies in that range
# too. Masters own contiguous slot ranges, so a room and its group's keys are mostly on the same
# master (with `redis-cli --cluster create`'s 3 even ranges: all but the two groups that straddle
# a boundary), and a master that fails over delays only the groups on it.
SLOT_GROUPS = 16
SPAN = 16384 // SLOT_GROUPS


def _tag_in(lo: int, hi: int) -> str:
    n = 0
    while not lo <= key_slot(f"g{n}".encode()) < hi:
        n += 1
    return f"g{n}"


GROUP_TAGS = [_tag_in(b * SPAN, (b + 1) * SPAN) for b in range(SLOT_GROUPS)]
# A liveness key renewal that takes longer than this is given up (its master is failing over):
# the other groups' keys must be renewed well within LIVENESS_TTL.
RENEW_TIMEOUT = 1.0
# claim_due waits this long for the groups' claims; a group still claiming (its master failing
# over) hands its rooms out at a later call.
CLAIM_WAIT = 0.5
# How often the slot table is compared with where our rooms are subscribed, and the least time
# between two slot-table refreshes asked for by failing shards.
RECONCILE_EVERY = 1.0
REFRESH_AT_MOST_EVERY = 0.25
# A command that failed on a master waits this long before its next try; with RETRIES tries it
# rides out about 5 s of failover (the time RedisBackend's retries ride out a restart).
FAILED_NODE_PAUSE = 0.25
RETRIES = 20
POOL_SIZE = 64  # connections per master, as RedisBackend's pool for one Redis
COMMANDS_AT_ONCE = 48  # commands in flight per worker (see _ClusterClient); the rest: pipelines

# RedisBackend's claim, also returning each deadline, so the buckets' claims can be merged in
# deadline order: [code, at, code, at, …].
_CLAIM_SCORED = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[3])
for i = 1, #due, 2 do redis.call('ZADD', KEYS[1], ARGV[2], due[i]) end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {due, first[2] or false}
"""

# A render's reads of one room (RedisBackend.snapshot's pipeline): seq, doc, ver (false when
# missing), one flat [field, value, …] list per table, one value (false when missing) per single
# field, then the presence hash. ARGV: the number of tables, the tables, then table, key pairs.
_SNAPSHOT = """
local p = KEYS[1]
local out = {}
for i, k in ipairs({'seq', 'doc', 'ver'}) do out[i] = redis.call('GET', p .. k) end
local n = tonumber(ARGV[1])
for i = 2, n + 1 do out[#out + 1] = redis.call('HGETALL', p .. 't:' .. ARGV[i]) end
for i = n + 2, #ARGV, 2 do out[#out + 1] = redis.call('HGET', p .. 't:' .. ARGV[i], ARGV[i + 1]) end
out[#out + 1] = redis.call('HGETALL', p .. 'presence')
return out
"""


def _pairs(flat: list[bytes]) -> dict[str, bytes]:
    return {_text(flat[i]): _raw(flat[i + 1]) for i in range(0, len(flat), 2)}


def is_cluster_url(url: str) -> bool:
    return url.startswith(SCHEMES)


def startup_nodes(url: str) -> tuple[str, list[tuple[str, int]]]:
    """`redis+cluster://[user:pw@]h1:p1,h2:p2/?opts` → (`redis://[user:pw@]h1:p1/?opts`, all
    (host, port) pairs). The first URL carries credentials and options for every node."""
    scheme, _, rest = url.partition("+cluster://")
    if not rest:
        raise ValueError(f"geen cluster-URL: {url}")
    parts = urlsplit(f"{scheme}://{rest}")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    nodes: list[tuple[str, int]] = []
    for entry in hosts.split(","):
        host, _, port = entry.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"REDIS_URL: host:port verwacht, niet {entry!r} ({url})")
        nodes.append((host.strip("[]"), int(port)))
    first = f"{userinfo}@{hosts.split(',')[0]}" if userinfo else hosts.split(",")[0]
    return urlunsplit((parts.scheme, first, parts.path, parts.query, "")), nodes


class _ClusterClient(RedisCluster):
    """redis-py's RedisCluster, kinder to the masters that are fine while one fails over.

    Stock redis-py 8.1, after a command to a dead master fails, (1) re-reads the slot table *and*
    the COMMAND table in the next command of every room (`initialize()`: 20–120 ms of one
    worker's time on a loaded 2-core machine, many times a second while that master's rooms
    keep trying), and (2) after a failed pipeline or a CLUSTERDOWN "closes" the client to force
    that re-read, dropping the connections to every master, also those with commands in flight.
    Here:

    - the re-read is of the slot table only (the COMMAND table does not change in a failover),
      at most every REFRESH_AT_MOST_EVERY, and only a command that failed waits for it; every
      other command goes on with the table it has while one runs in the background;
    - a command that failed on a node pauses FAILED_NODE_PAUSE before it tries again, so its
      retries span a failover (as RedisBackend's backoff spans a restart) instead of spinning;
    - `aclose()` while running only marks the table for a re-read; at shutdown the backend sets
      `closing` first, and `aclose()` closes;
    - a command waits for a free connection instead of failing: redis-py's cluster pool raises
      MaxConnectionsError at once when a node's `max_connections` are in use (a burst of
      thousands of answers did that to 15 % of them), so at most COMMANDS_AT_ONCE commands are
      in flight (fewer than a node's connections, whichever nodes they go to; pipelines keep
      the rest), as RedisBackend's BlockingConnectionPool makes a burst wait.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight = asyncio.Semaphore(COMMANDS_AT_ONCE)
        self.closing = False
        self._refreshed_at = float("-inf")
        self._refresh: asyncio.Task[None] | None = None

    async def initialize(
        self,
        additional_startup_nodes_info: list[tuple[str, int]] | None = None,
        last_failed_node_name: str | None = None,
    ) -> RedisCluster:
        if self.closing or self.nodes_manager.default_node is None:
            # The first start, or after redis-py gave up on every node: redis-py's own.
            return await super().initialize(additional_startup_nodes_info, last_failed_node_name)
        if not self._initialize:
            return self
        if last_failed_node_name is None:
            self.refresh_soon()
            return self
        await asyncio.sleep(FAILED_NODE_PAUSE)
        task = self.refresh_soon()
        if task is not None:
            await asyncio.shield(task)
        return self

    def refresh_soon(self) -> asyncio.Task[None] | None:
        """Re-read the slot table in the background (or join the re-read already running)."""
        if self._refresh is not None and not self._refresh.done():
            return self._refresh
        if time.monotonic() - self._refreshed_at < REFRESH_AT_MOST_EVERY:
            return None
        self._refreshed_at = time.monotonic()
        self._refresh = asyncio.create_task(self._reread(), name="redis-cluster-slots")
        return self._refresh

    async def _reread(self) -> None:
        try:
            async with asyncio.timeout(BUILD_TIMEOUT):
                await self.nodes_manager.initialize()
            self._initialize = False
        except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
            log.debug("redis: cluster slot table not re-read: %s", exc)
        finally:
            self._refreshed_at = time.monotonic()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self._in_flight:
            return await super().execute_command(*args, **kwargs)

    async def aclose(self) -> None:
        if self.closing or self.nodes_manager.default_node is None:
            if self._refresh is not None:
                await stop_tasks([self._refresh])
            await super().aclose()
        else:
            self._initialize = True  # re-read the slot table; keep the healthy connections


class RedisClusterBackend(RedisBackend):
    name = "redis-cluster"
    publish_command = "SPUBLISH"  # in scripts too: subscribers listen to sharded channels
    unavailable: tuple[type[BaseException], ...] = (
        *RedisBackend.unavailable,
        ClusterError,
        RedisClusterException,
    )

    def __init__(
        self,
        url: str,
        room_ttl: float = 12 * 3600,
        namespace: str = "kk",
        worker_id: str | None = None,
    ) -> None:
        super().__init__(url, room_ttl=room_ttl, namespace=namespace, worker_id=worker_id)
        self._seed_url, self._seeds = startup_nodes(url)
        self._cluster: _ClusterClient | None = None
        self._shards: dict[str, _Shard] = {}  # node name "host:port" → its subscription
        self._assigned: dict[str, str] = {}  # room code → node name of the shard serving it
        self._reconcile_wake = asyncio.Event()
        self._refresh_wanted = False
        self._liveness_lost = False
        self._claims: dict[int, asyncio.Task[list[tuple[float, str]]]] = {}
        self._live_in_group: dict[tuple[str, int], tuple[bool, float]] = {}

    # ---- keys ------------------------------------------------------------------------------------
    def _bucket(self, code: str) -> int:
        """The slot group of room `code`."""
        return key_slot(code.encode()) // SPAN

    def _due_key(self, bucket: int) -> str:
        return f"{self._ns}:due:{{{GROUP_TAGS[bucket]}}}"

    def _deadline_group(self, code: str) -> int:
        return self._bucket(code)

    def _deadline_keys(self, code: str) -> tuple[str, str]:
        due = self._due_key(self._bucket(code))
        return due, f"{due}:v:{code}"

    def _registry_key(self, bucket: int) -> str:
        return f"{self._ns}:rooms:{{{GROUP_TAGS[bucket]}}}"

    def _live_key(self, bucket: int, worker_id: str) -> str:
        return f"{self._ns}:live:{{{GROUP_TAGS[bucket]}}}:{worker_id}"

    @property
    def cluster(self) -> _ClusterClient:
        if self._cluster is None:
            raise RuntimeError("RedisClusterBackend is not connected")
        return self._cluster

    # ---- lifetime --------------------------------------------------------------------------------
    async def connect(self) -> None:
        # As RedisBackend: retries ride out a short outage. RedisCluster itself re-reads the slot
        # table after a connection error, follows MOVED/ASK and waits out CLUSTERDOWN.
        cluster = _ClusterClient.from_url(
            self._seed_url,
            startup_nodes=[ClusterNode(host, port) for host, port in self._seeds[1:]],
            retry=Retry(NoBackoff(), retries=RETRIES),  # the pause is _ClusterClient's
            # A master that is failing over leaves its slots uncovered for a moment; the other
            # masters' rooms go on.
            require_full_coverage=False,
            max_connections=POOL_SIZE,
            health_check_interval=10,
            socket_timeout=3,
            socket_connect_timeout=2,
        )
        assert isinstance(cluster, _ClusterClient)
        self._client = self._cluster = cluster
        self._register_scripts()
        self._scripts["claim_scored"] = self._cluster.register_script(_CLAIM_SCORED)
        self._scripts["snapshot"] = self._cluster.register_script(_SNAPSHOT)
        try:
            await self._cluster.initialize()
            await self._renew_live_keys()
            await self._beat_liveness()
        except BaseException:
            await self.disconnect()
            raise
        self._pubsub_ready.set()  # there is no one subscription to wait for: shards come later
        self._tasks = [
            asyncio.create_task(self._reconcile(), name=f"redis-shards-{self.worker_id}"),
            asyncio.create_task(self._liveness(), name=f"redis-liveness-{self.worker_id}"),
        ]

    async def disconnect(self) -> None:
        claims, self._claims = list(self._claims.values()), {}
        await stop_tasks(claims)
        shards, self._shards = list(self._shards.values()), {}
        self._assigned.clear()
        await asyncio.gather(*(shard.stop() for shard in shards), return_exceptions=True)
        if self._cluster is not None and self._tasks:
            # A clean shutdown: our players go offline at once (RedisBackend.disconnect drops
            # their presence), and so does our liveness.
            with contextlib.suppress(RedisError, RedisClusterException, OSError, TimeoutError):
                async with asyncio.timeout(2):
                    await asyncio.gather(
                        *(
                            self._cluster.delete(self._live_key(b, self.worker_id))
                            for b in range(SLOT_GROUPS)
                        )
                    )
        if self._cluster is not None:
            self._cluster.closing = True
        await super().disconnect()
        self._cluster = None

    # ---- rooms registry and deadlines, per bucket ------------------------------------------------
    async def create_room(self, code: str, doc: bytes) -> bool:
        created = await self._run("create", code, doc, self._ttl_ms) == 1
        if created:
            await self.cluster.sadd(self._registry_key(self._bucket(code)), code)
            # A room of this code that expired may have left its newest scheduled version.
            await self.client.delete(self._deadline_keys(code)[1])
        return created

    async def room_count(self) -> int:
        """Rooms in the groups that answer within RENEW_TIMEOUT: /healthz stays up (and quick)
        while one master fails over; only when no group answers is it an outage."""

        async def count(bucket: int) -> int:
            async with asyncio.timeout(RENEW_TIMEOUT):
                key = self._registry_key(bucket)
                codes = [_text(c) for c in await self.cluster.smembers(key)]
                if not codes:
                    return 0
                alive = await self._rooms_exist(codes)
                gone = [code for code in codes if not alive[code]]
                if gone:
                    await self.cluster.srem(key, *gone)
                return len(codes) - len(gone)

        counts = await asyncio.gather(
            *(count(b) for b in range(SLOT_GROUPS)), return_exceptions=True
        )
        answered = [c for c in counts if not isinstance(c, BaseException)]
        if not answered:
            error = counts[0]
            assert isinstance(error, BaseException)
            raise error
        return sum(answered)

    async def _rooms_exist(self, codes: list[str]) -> dict[str, bool]:
        async with self.cluster.pipeline(transaction=False) as pipe:
            for code in codes:
                pipe.exists(self._room(code) + "doc")
            found = await pipe.execute()
        return {code: bool(exists) for code, exists in zip(codes, found, strict=True)}

    async def claim_due(self, now: float, lease: float, ask_all: bool = False) -> list[str]:
        """Every group is claimed on its own master, as a task of its own: a group whose master
        is failing over is still being claimed (its retries wait for the failover) while the
        others' claims come back within CLAIM_WAIT; what it claims is handed out by a later call.
        Only when no group could be claimed at all does the error reach the caller. A group is
        asked only when this worker knows of a tick due in it, or after DueWatch's idle ask."""
        for bucket in range(SLOT_GROUPS):
            if bucket in self._claims:
                continue
            if ask_all or self._due_watch.should_ask(bucket, now):
                self._due_watch.asking(bucket, now)
                self._claims[bucket] = asyncio.create_task(
                    self._claim_bucket(bucket, now, lease), name=f"redis-claim-{bucket}"
                )
        if not self._claims:
            return []  # no group to ask now (DueWatch)
        await asyncio.wait(self._claims.values(), timeout=CLAIM_WAIT)
        due: list[tuple[float, str]] = []
        errors: list[BaseException] = []
        for bucket, task in list(self._claims.items()):
            if not task.done():
                continue
            del self._claims[bucket]
            error = task.exception()
            if error is not None:
                errors.append(error)
            else:
                due.extend(task.result())
        if errors and len(errors) == SLOT_GROUPS:
            raise errors[0]
        for error in errors:
            log.debug("redis: a deadline group was not claimed: %s", error)
        return [code for _, code in sorted(due)]

    async def _claim_bucket(self, bucket: int, now: float, lease: float) -> list[tuple[float, str]]:
        key = self._due_key(bucket)
        try:
            claimed, earliest = await self._scripts["claim_scored"](
                keys=[key], args=[now, now + lease, CLAIM_LIMIT]
            )
        except BaseException:
            self._due_watch.failed(bucket)
            raise
        self._due_watch.answered(bucket, earliest)
        at = {_text(claimed[i]): float(claimed[i + 1]) for i in range(0, len(claimed), 2)}
        codes = list(at)
        if not codes:
            return []
        # A deadline belongs to its room: one whose room expired is dropped, not handed out.
        alive = await self._rooms_exist(codes)
        gone = [code for code in codes if not alive[code]]
        if gone:
            await self.cluster.zrem(key, *gone)
        return [(at[code], code) for code in codes if alive[code]]

    # ---- reading for a render -------------------------------------------------------------------
    async def snapshot(
        self, code: str, tables: Sequence[str], fields: Sequence[tuple[str, str]] = ()
    ) -> Snapshot:
        """What RedisBackend reads in one pipeline, here in one read-only script on the room's
        master: a cluster pipeline refuses MGET, and a failing one makes redis-py drop the
        connections to every master (see _ClusterClient)."""
        args: list[str | int] = [len(tables), *tables]
        for table, key in fields:
            args += [table, key]
        reply = await self._scripts["snapshot"](keys=[self._room(code)], args=args)
        seq, doc, version, *parts, presence = reply
        raw_tables, values = parts[: len(tables)], parts[len(tables) :]
        return Snapshot(
            seq=int(seq) if seq else 0,
            room=(int(version), _raw(doc)) if doc and version else None,
            tables={table: _pairs(raw) for table, raw in zip(tables, raw_tables, strict=True)},
            online=await self._online_from(code, _pairs(presence)),
            fields={
                field: _raw(value) if isinstance(value, (bytes, str)) else None
                for field, value in zip(fields, values, strict=True)
            },
        )

    # ---- liveness: one key per slot group ------------------------------------------------------
    # A worker renews its key in every group; a room asks the key of its own group, which is on
    # (mostly) the same master as the room. So a master that fails over leaves every other
    # master's rooms with a valid answer, and the renewals run apart from the presence write-back
    # (RedisBackend._beat_liveness), which may wait for the failing master.
    async def _liveness(self) -> None:
        await asyncio.gather(self._keep_alive(), super()._liveness())

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(LIVENESS_EVERY)
            await self._renew_live_keys()

    async def _renew_live_keys(self) -> None:
        async def renew(bucket: int) -> bool:
            async with asyncio.timeout(RENEW_TIMEOUT):
                key = self._live_key(bucket, self.worker_id)
                return await self.cluster.set(key, b"1", px=_ms(LIVENESS_TTL), get=True) is not None

        renewed = await asyncio.gather(
            *(renew(b) for b in range(SLOT_GROUPS)), return_exceptions=True
        )
        failed = [r for r in renewed if isinstance(r, BaseException)]
        if failed:
            log.debug("redis: %d liveness keys not renewed: %s", len(failed), failed[0])
        if any(r is False for r in renewed):
            self._liveness_lost = True

    async def _assert_alive(self) -> bool:
        lost, self._liveness_lost = self._liveness_lost, False
        return not lost

    async def _live_workers(self, workers: set[str], code: str = "") -> set[str]:
        """As RedisBackend's, asking the liveness keys of `code`'s slot group. An unanswered
        check (that group's master is failing over) counts as alive: not proof of death."""
        bucket = self._bucket(code)
        now = time.monotonic()
        alive: set[str] = set()
        unknown: list[str] = []
        for worker in workers:
            cached = self._live_in_group.get((worker, bucket))
            if worker == self.worker_id:
                alive.add(worker)
            elif cached is not None and cached[0] and now - cached[1] < LIVE_CACHE_FOR:
                alive.add(worker)
            else:
                unknown.append(worker)
        if unknown:
            found = await asyncio.gather(
                *(self.cluster.exists(self._live_key(bucket, w)) for w in unknown),
                return_exceptions=True,
            )
            for worker, exists in zip(unknown, found, strict=True):
                if isinstance(exists, BaseException):
                    alive.add(worker)
                    continue
                self._live_in_group[(worker, bucket)] = (bool(exists), now)
                if exists:
                    alive.add(worker)
        return alive

    # ---- fan-out: sharded pub/sub ----------------------------------------------------------------
    async def publish(self, code: str, message: bytes) -> None:
        await self.cluster.spublish(self._channel(code), message)

    def _master_of(self, code: str) -> ClusterNode:
        node = self.cluster.get_node_from_key(self._channel(code).decode())
        if node is None:
            raise SlotNotCoveredError(f"no master known for room {code}")
        return node

    async def subscribe(self, code: str) -> None:
        confirmed = self._confirmed.setdefault(code, asyncio.Event())
        if code not in self._rooms:
            self._rooms.add(code)
            try:
                node = self._master_of(code)
            except (RedisClusterException, RedisError) as exc:
                # No master known for the slot right now: the reconciler places it later.
                log.debug("redis: subscribe %s deferred: %s", code, exc)
                self._wake_reconcile(refresh=True)
            else:
                await self._shard(node).add(code)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_WAIT)

    async def unsubscribe(self, code: str) -> None:
        if code not in self._rooms:
            return
        self._rooms.discard(code)
        self._confirmed.pop(code, None)
        name = self._assigned.pop(code, None)
        shard = self._shards.get(name) if name is not None else None
        if shard is not None:
            await shard.remove(code)

    def _shard(self, node: ClusterNode) -> _Shard:
        shard = self._shards.get(node.name)
        if shard is None:
            shard = self._shards[node.name] = _Shard(self, node.name, node.host, int(node.port))
            shard.start()
        return shard

    def _wake_reconcile(self, *, refresh: bool) -> None:
        if refresh:
            self._refresh_wanted = True
        self._reconcile_wake.set()

    def _heartbeat_channel(self, node_name: str) -> bytes | None:
        """A channel of ours whose slot `node_name` serves now (None if it serves none)."""
        nodes = self.cluster.nodes_manager
        for n in range(4096):
            channel = f"{self._ns}:hb:{{{self.worker_id}.{n}}}".encode()
            with contextlib.suppress(RedisClusterException, RedisError):
                if nodes.get_node_from_slot(key_slot(channel)).name == node_name:
                    return channel
        return None

    async def _reconcile(self) -> None:
        """Keep every subscribed room on the shard of its room's current master."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._reconcile_wake.wait(), RECONCILE_EVERY)
            self._reconcile_wake.clear()
            try:
                if self._refresh_wanted:
                    task = self.cluster.refresh_soon()
                    # Re-read at most every REFRESH_AT_MOST_EVERY: else on the next round.
                    self._refresh_wanted = task is None
                    if task is not None:
                        await asyncio.shield(task)
                await self._place_rooms()
            except asyncio.CancelledError:
                raise
            except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
                log.warning("redis: cluster slot table not refreshed: %s", exc)
                self._refresh_wanted = True
            except Exception:
                log.exception("redis: reconciling shard subscriptions failed")

    async def _place_rooms(self) -> None:
        moves: list[tuple[str, str | None, ClusterNode]] = []
        for code in list(self._rooms):
            try:
                node = self._master_of(code)
            except (RedisClusterException, RedisError):
                self._refresh_wanted = True
                continue
            current = self._assigned.get(code)
            if current != node.name:
                moves.append((code, current, node))
        for code, old, node in moves:
            if old is not None and old in self._shards:
                log.info("redis: room %s moves from shard %s to %s", code, old, node.name)
                await self._shards[old].remove(code)
            if code in self._rooms:  # not unsubscribed meanwhile
                await self._shard(node).add(code, moved=old is not None)
        # A shard without rooms (its master failed over, or its rooms left) is closed.
        for name, shard in list(self._shards.items()):
            if not shard.rooms:
                del self._shards[name]
                await shard.stop()


class _Shard:
    """The subscription of one worker to one master: its rooms' channels and a heartbeat."""

    def __init__(self, backend: RedisClusterBackend, name: str, host: str, port: int) -> None:
        self.backend = backend
        self.name = name
        self.rooms: set[str] = set()
        # The seed URL's scheme, credentials and options, pointed at this master.
        self.client = Redis.from_url(
            _node_url(backend._seed_url, host, port),
            retry=Retry(NoBackoff(), 0),
            socket_timeout=None,
            socket_connect_timeout=2,
        )
        self.pubsub: PubSub | None = None
        self.lock = asyncio.Lock()
        self.ready = asyncio.Event()
        self.was_ready = False
        self.generation = 0
        self.deaf_generation = -1
        self.heartbeat = Heartbeat()  # of the current subscription
        self.hb_channel: bytes | None = None
        self.resync_on_confirm: set[str] = set()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self._listen(), name=f"redis-shard-{self.name}"),
            asyncio.create_task(self._heartbeat(), name=f"redis-shard-hb-{self.name}"),
        ]

    async def stop(self) -> None:
        tasks, self.tasks = self.tasks, []
        await stop_tasks(tasks)
        await self.client.aclose()

    async def add(self, code: str, *, moved: bool = False) -> None:
        backend = self.backend
        self.rooms.add(code)
        backend._assigned[code] = self.name
        if moved:
            self.resync_on_confirm.add(code)
        async with self.lock:
            pubsub = self.pubsub
            if pubsub is None:
                return  # the listener subscribes it when it (re)builds
            try:
                await asyncio.wait_for(pubsub.ssubscribe(backend._channel(code)), SUBSCRIBE_WAIT)
            except (RedisError, OSError, TimeoutError) as exc:
                log.debug("redis: ssubscribe %s on %s deferred: %s", code, self.name, exc)

    async def remove(self, code: str) -> None:
        self.rooms.discard(code)
        self.resync_on_confirm.discard(code)
        async with self.lock:
            pubsub = self.pubsub
            if pubsub is None:
                return
            try:
                await asyncio.wait_for(
                    pubsub.sunsubscribe(self.backend._channel(code)), SUBSCRIBE_WAIT
                )
            except (RedisError, OSError, TimeoutError) as exc:
                log.debug("redis: sunsubscribe %s on %s deferred: %s", code, self.name, exc)

    # -- the listener: build, pump, tear down, again ---------------------------------------------
    async def _listen(self) -> None:
        backend, name = self.backend, self.name
        delay = 0.1
        resync = False
        while True:
            watch = _ReconnectWatch()
            try:
                pubsub, codes = await asyncio.wait_for(self._build(watch), BUILD_TIMEOUT)
            except (RedisError, OSError, TimeoutError, _Rebuild) as exc:
                (log.warning if delay == 0.1 else log.debug)(
                    "redis: cannot subscribe %s on %s: %s: %s",
                    backend.worker_id, self.name, type(exc).__name__, exc,
                )  # fmt: skip
                backend._wake_reconcile(refresh=True)
            else:
                try:
                    await self._pump(pubsub, watch, codes, resync=resync)
                except (RedisError, OSError, _Rebuild) as exc:
                    log.warning(
                        "redis: rebuilding subscription of %s on %s: %s: %s",
                        backend.worker_id, self.name, type(exc).__name__, exc,
                    )  # fmt: skip
                    backend._wake_reconcile(refresh=True)
                except Exception:
                    log.exception("redis: listener of %s on %s failed", backend.worker_id, name)
                finally:
                    await self._teardown(pubsub)
                if self.was_ready:
                    delay = 0.1
            resync = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _build(self, watch: _ReconnectWatch) -> tuple[PubSub, set[str]]:
        backend = self.backend
        hb = backend._heartbeat_channel(self.name)
        if hb is None:
            raise _Rebuild("this node serves no slot (any more)")
        pubsub = self.client.pubsub()
        try:
            async with self.lock:
                codes = set(self.rooms)
                # One SSUBSCRIBE per channel (one command may not span slots); the heartbeat goes
                # last: Redis confirms in order, so its confirmation covers every room before it.
                for code in sorted(codes):
                    await pubsub.ssubscribe(backend._channel(code))
                await pubsub.ssubscribe(hb)
                if pubsub.connection is not None:
                    pubsub.connection.register_connect_callback(watch.on_connect)
                self.hb_channel = hb
                self.generation += 1
                self.heartbeat.restart(asyncio.get_running_loop().time())
                self.was_ready = False
                self.pubsub = pubsub
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise
        return pubsub, codes

    async def _teardown(self, pubsub: PubSub) -> None:
        async with self.lock:
            self.pubsub = None
            self.ready.clear()
            for code in self.rooms:
                event = self.backend._confirmed.get(code)
                if event is not None:
                    event.clear()
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await asyncio.wait_for(pubsub.aclose(), SUBSCRIBE_WAIT)  # type: ignore[no-untyped-call]

    async def _pump(
        self, pubsub: PubSub, watch: _ReconnectWatch, codes: set[str], *, resync: bool
    ) -> None:
        backend = self.backend
        loop = asyncio.get_running_loop()
        generation = self.generation
        heartbeat = self.heartbeat
        while True:
            if watch.connects:
                raise _Rebuild("redis-py re-opened the subscription connection by itself")
            if self.deaf_generation == generation:
                raise _Rebuild("our heartbeat reached no subscriber")
            if heartbeat.deaf(loop.time()):
                raise _Rebuild(f"a heartbeat went unheard for {HEARTBEAT_DEADLINE} s")
            try:
                async with asyncio.timeout(HEARTBEAT_DEADLINE):
                    message = await pubsub.get_message(timeout=0.25)
            except TimeoutError:
                raise _Rebuild("reading the subscription hung") from None
            if message is None:
                continue
            kind, channel = message["type"], message["channel"]
            if kind == "smessage":
                if channel == self.hb_channel:
                    heartbeat.heard(loop.time(), bytes(message["data"]))
                    continue
                heartbeat.heard(loop.time())
                code = backend._code_of(channel)
                if code is not None and code in self.rooms:
                    backend._queue.put((code, bytes(message["data"])))
            elif kind == "ssubscribe":
                if channel == self.hb_channel:
                    heartbeat.heard(loop.time())
                    if not self.ready.is_set():
                        self.was_ready = True
                        self.ready.set()
                        for code in codes & self.rooms:
                            self._confirm(code)
                        if resync:
                            log.info("redis: subscription of %s on %s rebuilt",
                                     backend.worker_id, self.name)  # fmt: skip
                            backend._queue.put(RESYNC)
                else:
                    code = backend._code_of(channel)
                    if code is not None and code in self.rooms:
                        self._confirm(code)
            elif kind == "sunsubscribe":
                code = backend._code_of(channel)
                if channel == self.hb_channel or (code is not None and code in self.rooms):
                    # Not ours: Redis drops shard subscriptions whose slot left this node (a
                    # failover that demoted it, a slot migration).
                    raise _Rebuild(f"Redis unsubscribed {channel!r}: its slot moved")

    def _confirm(self, code: str) -> None:
        event = self.backend._confirmed.get(code)
        if event is not None:
            event.set()
        if code in self.resync_on_confirm:
            # The room came from another shard: whatever was published in between is gone.
            self.resync_on_confirm.discard(code)
            self.backend._queue.put(RESYNC)

    async def _heartbeat(self) -> None:
        backend = self.backend
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY)
            generation, ready, channel = self.generation, self.ready.is_set(), self.hb_channel
            if channel is None:
                continue
            number, payload = self.heartbeat.next()
            sent = loop.time()
            try:
                async with asyncio.timeout(HEARTBEAT_DEADLINE):
                    receivers = await backend.cluster.spublish(channel, payload)
            except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
                log.debug("redis: heartbeat on %s not sent: %s", self.name, exc)
                continue
            if not ready or generation != self.generation:
                continue
            if receivers == 0:
                self.deaf_generation = generation
            else:
                self.heartbeat.delivered(number, sent)


def _node_url(seed_url: str, host: str, port: int) -> str:
    parts = urlsplit(seed_url)
    userinfo = parts.netloc.rpartition("@")[0]
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    netloc = f"{userinfo}@{address}" if userinfo else address
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
