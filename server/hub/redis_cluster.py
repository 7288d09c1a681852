"""The Redis Cluster backend: RedisBackend's rooms, scripts and presence on a Redis Cluster,
with deadlines, room registry and worker liveness kept per slot group, and the fan-out on sharded
pub/sub (SPUBLISH / SSUBSCRIBE, Redis >= 7.0).

Selected by a `redis+cluster://host:port[,host:port…]` REDIS_URL (`rediss+cluster://` for TLS);
see docs/DEPLOYING.md and docs/REDIS_KEYS.md.

What changes against one Redis:

- Commands go through `ClusterClient` (server/hub/redis_cluster_client.py), redis-py's
  `redis.asyncio.RedisCluster` (which follows MOVED/ASK and re-reads the slot table after a
  connection error or CLUSTERDOWN) made gentler to the healthy masters while one fails over (see
  its docstring). Every room script touches only
  the keys of its room's `{code}` slot, so RedisBackend's scripts run unchanged; `snapshot` is one
  more such script (a cluster pipeline refuses MGET).
- Slot groups: the slot space is cut in SLOT_GROUPS ranges; group b's keys carry a hash tag whose
  slot lies in range b. A room belongs to the group of its slot, so its deadline (`{ns}:due:…`),
  its registry entry (`{ns}:rooms:…`) and the liveness keys its presence is checked against
  (`{ns}:live:…`) are on its own master (except in the few groups that straddle two masters'
  ranges). No node holds every deadline; a master that fails over delays only its own groups:
  `claim_due` and `room_count` do not wait for it.
- Fan-out: a room's messages are SPUBLISHed on its channel `{ns}:ch:{code}`, which only the master
  of the room's slot carries; the scripts that publish (`changed`, `enrol`, `save`) SPUBLISH
  inside the script, as the channel is in the script's slot. Each worker keeps one
  `ShardSubscription` (server/hub/redis_subscription.py) per master that serves a room it
  subscribed: its own connection, its own heartbeat channel (a channel whose slot that master
  serves) and the rebuild-and-resync discipline of one Redis's subscription. redis-py 8.1 has an
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
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.crc import key_slot
from redis.exceptions import ClusterError, RedisClusterException, RedisError, SlotNotCoveredError

from server.hub.backend import Snapshot
from server.hub.redis import (
    CLAIM_LIMIT,
    LIVENESS_EVERY,
    LIVENESS_TTL,
    RedisBackend,
    _ms,
)
from server.hub.redis_cluster_client import (
    POOL_SIZE,
    RETRIES,
    ClusterClient,
    node_url,
    startup_nodes,
)
from server.hub.redis_replies import pairs
from server.hub.redis_replies import raw_bytes as _raw
from server.hub.redis_replies import text as _text
from server.hub.redis_subscription import SUBSCRIBE_WAIT, ShardSubscription
from server.hub.tasks import stop_tasks

log = logging.getLogger(__name__)

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
# How often the slot table is compared with where our rooms are subscribed (a failing shard asks
# for a re-read at once, at most every REFRESH_AT_MOST_EVERY).
RECONCILE_EVERY = 1.0
# Sharded pub/sub (SSUBSCRIBE, and SPUBLISH inside the scripts) came with Redis 7.0.
SHARDED_PUBSUB_SINCE = (7, 0)


class RedisVersionError(RuntimeError):
    """A cluster master is too old for what this backend uses."""


def _version(text: str) -> tuple[int, int]:
    """(major, minor) of a `redis_version` such as "7.0.15"; (0, 0) when unreadable."""
    parts = text.split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return 0, 0


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


class RedisClusterBackend(RedisBackend):
    name = "redis-cluster"
    publish_command = "SPUBLISH"  # in scripts too: subscribers listen to sharded channels
    # An unanswered liveness question (that group's master is failing over) counts as alive:
    # not proof of death.
    unanswered_is_alive = True
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
        self._cluster: ClusterClient | None = None
        self._shards: dict[str, ShardSubscription] = {}  # node name "host:port" → its subscription
        self._assigned: dict[str, str] = {}  # room code → node name of the shard serving it
        self._reconcile_wake = asyncio.Event()
        self._refresh_wanted = False
        self._liveness_lost = False
        self._claims: dict[int, asyncio.Task[list[tuple[float, str]]]] = {}

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
    def cluster(self) -> ClusterClient:
        if self._cluster is None:
            raise RuntimeError("RedisClusterBackend is not connected")
        return self._cluster

    # ---- lifetime --------------------------------------------------------------------------------
    async def connect(self) -> None:
        # As RedisBackend: retries ride out a short outage. RedisCluster itself re-reads the slot
        # table after a connection error, follows MOVED/ASK and waits out CLUSTERDOWN.
        cluster = ClusterClient.from_url(
            self._seed_url,
            startup_nodes=[ClusterNode(host, port) for host, port in self._seeds[1:]],
            retry=Retry(NoBackoff(), retries=RETRIES),  # the pause is ClusterClient's
            # A master that is failing over leaves its slots uncovered for a moment; the other
            # masters' rooms go on.
            require_full_coverage=False,
            max_connections=POOL_SIZE,
            health_check_interval=10,
            socket_timeout=3,
            socket_connect_timeout=2,
        )
        assert isinstance(cluster, ClusterClient)
        self._client = self._cluster = cluster
        self._register_scripts()
        self._scripts["claim_scored"] = self._cluster.register_script(_CLAIM_SCORED)
        self._scripts["snapshot"] = self._cluster.register_script(_SNAPSHOT)
        try:
            await self._cluster.initialize()
            await self._require_sharded_pubsub()
            await self._renew_live_keys()
            await self._beat_liveness()
        except BaseException:
            await self.disconnect()
            raise
        self._tasks = [
            asyncio.create_task(self._reconcile(), name=f"redis-shards-{self.worker_id}"),
            asyncio.create_task(self._liveness(), name=f"redis-liveness-{self.worker_id}"),
        ]

    async def _require_sharded_pubsub(self) -> None:
        """Refuse to start on a cluster with a master older than Redis 7.0: the first change of
        a room would fail there ("Unknown Redis command called from Lua script")."""
        cluster = self._cluster
        assert cluster is not None
        old: list[str] = []
        for node in cluster.get_primaries():
            info = await cluster.execute_command("INFO", "server", target_nodes=node)
            version = str(info.get("redis_version", "?")) if isinstance(info, dict) else "?"
            if _version(version) < SHARDED_PUBSUB_SINCE:
                old.append(f"{node.name} draait / runs {version}")
        if old:
            need = ".".join(map(str, SHARDED_PUBSUB_SINCE))
            raise RedisVersionError(
                f"Redis Cluster: Kenniskring heeft Redis {need} of nieuwer nodig op elke master "
                f"(sharded pub/sub) / needs Redis {need}+ on every master: {'; '.join(old)}"
            )

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
        connections to every master (see ClusterClient)."""
        args: list[str | int] = [len(tables), *tables]
        for table, key in fields:
            args += [table, key]
        reply = await self._scripts["snapshot"](keys=[self._room(code)], args=args)
        seq, doc, version, *parts, presence = reply
        raw_tables, values = parts[: len(tables)], parts[len(tables) :]
        return Snapshot(
            seq=int(seq) if seq else 0,
            room=(int(version), _raw(doc)) if doc and version else None,
            tables={
                table: self._replies.converted((code, table), raw, pairs)
                for table, raw in zip(tables, raw_tables, strict=True)
            },
            online=await self._online_from(
                code, self._replies.converted((code, "presence pairs"), presence, pairs)
            ),
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

    def _liveness_key(self, worker: str, code: str) -> str:
        return self._live_key(self._bucket(code), worker)

    async def _is_live(self, key: str) -> bool:
        # One key: a plain command (redis-py's `exists` splits its keys by slot into a
        # pipeline, past ClusterClient's limit on commands in flight).
        return bool(await self.cluster.execute_command("EXISTS", key))

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
                await self._subscribe_on(node, code)
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

    async def _subscribe_on(self, node: ClusterNode, code: str, *, moved: bool = False) -> None:
        """Hear room `code` on the subscription to master `node` (made when there is none)."""
        shard = self._shards.get(node.name)
        if shard is None:
            name = node.name
            shard = ShardSubscription(
                self._channels,
                # The seed URL's scheme, credentials and options, pointed at this master; no
                # socket timeout (an idle subscription is normal) and no retries (a failure
                # must surface in the listener).
                Redis.from_url(
                    node_url(self._seed_url, node.host, int(node.port)),
                    retry=Retry(NoBackoff(), 0),
                    socket_timeout=None,
                    socket_connect_timeout=2,
                ),
                heartbeat_channel=lambda: self._heartbeat_channel(name),
                publish=self.cluster.spublish,
                label=name,
                troubled=lambda: self._wake_reconcile(refresh=True),
            )
            self._shards[name] = shard
            shard.start()
        self._assigned[code] = node.name
        await shard.add(code, moved=moved)

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
                await self._subscribe_on(node, code, moved=old is not None)
        # A shard without rooms (its master failed over, or its rooms left) is closed.
        for name, shard in list(self._shards.items()):
            if not shard.rooms:
                del self._shards[name]
                await shard.stop()
