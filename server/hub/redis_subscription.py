"""One worker's pub/sub subscription to one Redis server: the channels of the rooms it serves
there plus a heartbeat channel of the worker's own, rebuilt from scratch whenever it cannot be
trusted, with a resync after every rebuild (whatever was published meanwhile is gone).

One Redis has one such subscription per worker (`Subscription`, SUBSCRIBE); a Redis Cluster one
per master that serves a room the worker shows (`ShardSubscription`, SSUBSCRIBE: a sharded
channel is carried only by the master of its slot). See server/hub/heartbeat.py for how a
subscription that went deaf without an error is noticed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.connection import Connection
from redis.exceptions import RedisClusterException, RedisError

from server.hub.heartbeat import HEARTBEAT_DEADLINE, HEARTBEAT_EVERY, Heartbeat
from server.hub.inbox import RESYNC, Inbox
from server.hub.tasks import stop_tasks

log = logging.getLogger(__name__)

# A (un)subscribe on a live subscription, and the wait for a room's confirmation, take at most
# this long; building a whole subscription at most BUILD_TIMEOUT.
SUBSCRIBE_WAIT = 2.0
BUILD_TIMEOUT = 5.0


class ReconnectWatch:
    """Counts connects after the first: redis-py reconnects a PubSub by itself, re-subscribing
    silently, and whatever was published in between is lost without a trace."""

    def __init__(self) -> None:
        self.connects = 0

    async def on_connect(self, connection: Connection) -> None:
        self.connects += 1


class Rebuild(Exception):
    """The subscription cannot be trusted any more: build a new one and resync."""


@dataclass
class Channels:
    """What a subscription needs of its backend: the rooms' channel names, the per-room
    confirmations that `subscribe` waits for, and the inbox the hub reads messages from."""

    worker_id: str
    channel: Callable[[str], bytes]  # room code → its channel
    code_of: Callable[[bytes], str | None]  # channel → room code (None: not a room's channel)
    confirmed: dict[str, asyncio.Event]
    inbox: Inbox


class Subscription:
    """The rooms' channels this worker hears on one Redis server, and its heartbeat channel."""

    message_kind = "message"
    subscribe_kind = "subscribe"

    def __init__(
        self,
        channels: Channels,
        client: Redis,
        heartbeat_channel: Callable[[], bytes | None],
        publish: Callable[[bytes, bytes], Awaitable[int]],
        label: str = "",
        troubled: Callable[[], None] = lambda: None,
    ) -> None:
        """`client`: a connection of its own, without socket timeout or retries (a failure must
        surface in the listener); `heartbeat_channel`: the channel to beat on, asked at every
        build (None: none here, try again later); `publish`: how a heartbeat is published;
        `label`: what the logs name besides the worker (a shard's node); `troubled`: called
        when the subscription failed or could not be built (a shard's master may have
        changed)."""
        self.channels = channels
        self.troubled = troubled
        self.client = client
        self.heartbeat_channel = heartbeat_channel
        self.publish = publish
        self.name = f"{channels.worker_id} on {label}" if label else channels.worker_id
        self.rooms: set[str] = set()
        self.pubsub: PubSub | None = None
        self.lock = asyncio.Lock()
        self.ready = asyncio.Event()  # the current subscription has confirmed its channels
        self.was_ready = False
        self.generation = 0
        self.deaf_generation = -1
        self.heartbeat = Heartbeat()  # of the current subscription
        self.hb_channel: bytes | None = None
        self.resync_on_confirm: set[str] = set()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [
            asyncio.create_task(self._listen(), name=f"redis-listen-{self.name}"),
            asyncio.create_task(self._beat(), name=f"redis-heartbeat-{self.name}"),
        ]

    async def stop(self) -> None:
        tasks, self.tasks = self.tasks, []
        await stop_tasks(tasks)
        await self.client.aclose()

    # ---- the rooms -------------------------------------------------------------------------------
    async def add(self, code: str, *, moved: bool = False) -> None:
        """Hear room `code` here; `moved`: it came from another subscription, so a resync
        follows its confirmation."""
        self.rooms.add(code)
        if moved:
            self.resync_on_confirm.add(code)
        async with self.lock:
            pubsub = self.pubsub
            if pubsub is None:
                return  # the listener subscribes it when it (re)builds
            try:
                # Bounded: the subscriber has no socket timeout (idle is normal), and a write
                # into a dead connection must not hold the lock for good.
                await asyncio.wait_for(
                    self._subscribe(pubsub, [self.channels.channel(code)]), SUBSCRIBE_WAIT
                )
            except (RedisError, OSError, TimeoutError) as exc:
                # The listener hits the same failure, rebuilds with this room included and
                # sends a resync; nothing more to do here.
                log.debug("redis: subscribe %s (%s) deferred: %s", code, self.name, exc)

    async def remove(self, code: str) -> None:
        self.rooms.discard(code)
        self.resync_on_confirm.discard(code)
        async with self.lock:
            pubsub = self.pubsub
            if pubsub is None:
                return
            try:
                await asyncio.wait_for(
                    self._unsubscribe(pubsub, self.channels.channel(code)), SUBSCRIBE_WAIT
                )
            except (RedisError, OSError, TimeoutError) as exc:
                log.debug("redis: unsubscribe %s (%s) deferred: %s", code, self.name, exc)

    async def _subscribe(self, pubsub: PubSub, channels: list[bytes]) -> None:
        await pubsub.subscribe(*channels)

    async def _unsubscribe(self, pubsub: PubSub, channel: bytes) -> None:
        await pubsub.unsubscribe(channel)

    # ---- the listener: build, pump, tear down, again ---------------------------------------------
    async def _listen(self) -> None:
        delay = 0.1
        resync = False
        while True:
            watch = ReconnectWatch()
            try:
                pubsub, codes = await asyncio.wait_for(self._build(watch), BUILD_TIMEOUT)
            except (RedisError, OSError, TimeoutError, Rebuild) as exc:
                # Warn once per outage, not every backoff step.
                (log.warning if delay == 0.1 else log.debug)(
                    "redis: cannot subscribe %s: %s: %s", self.name, type(exc).__name__, exc
                )
                self.troubled()
            else:
                try:
                    await self._pump(pubsub, watch, codes, resync=resync)
                except (RedisError, OSError, Rebuild) as exc:
                    log.warning(
                        "redis: rebuilding subscription of %s: %s: %s",
                        self.name,
                        type(exc).__name__,
                        exc,
                    )
                    self.troubled()
                except Exception:
                    # Never let the listener die: a silently deaf worker is what we guard against.
                    log.exception("redis: listener of %s failed; rebuilding", self.name)
                finally:
                    await self._teardown(pubsub)
                if self.was_ready:
                    delay = 0.1
            resync = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _build(self, watch: ReconnectWatch) -> tuple[PubSub, set[str]]:
        hb = self.heartbeat_channel()
        if hb is None:
            raise Rebuild("this server serves no channel of ours (any more)")
        pubsub = self.client.pubsub()
        try:
            async with self.lock:
                # The heartbeat channel goes last: Redis confirms in order, so hearing its
                # confirmation means every room channel before it is subscribed.
                codes = set(self.rooms)
                await self._subscribe(pubsub, [*map(self.channels.channel, sorted(codes)), hb])
                if pubsub.connection is not None:
                    pubsub.connection.register_connect_callback(watch.on_connect)
                self.hb_channel = hb
                self.generation += 1
                self.heartbeat.restart(asyncio.get_running_loop().time())
                self.was_ready = False
                self.pubsub = pubsub
        except BaseException:
            # (redis-py types aclose from 8.2 on; before, it was untyped)
            await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]
            raise
        return pubsub, codes

    async def _teardown(self, pubsub: PubSub) -> None:
        async with self.lock:
            self.pubsub = None
            self.ready.clear()
            for code in self.rooms:
                event = self.channels.confirmed.get(code)
                if event is not None:
                    event.clear()
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                # (redis-py types aclose from 8.2 on; before, it was untyped)
                closing = pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]
                await asyncio.wait_for(closing, SUBSCRIBE_WAIT)

    async def _pump(
        self, pubsub: PubSub, watch: ReconnectWatch, codes: set[str], *, resync: bool
    ) -> None:
        loop = asyncio.get_running_loop()
        generation = self.generation
        heartbeat = self.heartbeat
        channels = self.channels
        while True:
            if watch.connects:
                raise Rebuild("redis-py re-opened the subscription connection by itself")
            if self.deaf_generation == generation:
                raise Rebuild("our heartbeat reached no subscriber")
            if heartbeat.deaf(loop.time()):
                raise Rebuild(f"a heartbeat went unheard for {HEARTBEAT_DEADLINE} s")
            try:
                # get_message's own timeout bounds only the read; redis-py's reconnect inside it
                # (run even with retries=0) reads with no timeout on this connection.
                async with asyncio.timeout(HEARTBEAT_DEADLINE):
                    message = await pubsub.get_message(timeout=0.25)
            except TimeoutError:
                raise Rebuild("reading the subscription hung") from None
            if message is None:
                continue
            kind, channel = message["type"], message["channel"]
            if kind == self.message_kind:
                if channel == self.hb_channel:
                    heartbeat.heard(loop.time(), bytes(message["data"]))
                    continue
                heartbeat.heard(loop.time())
                code = channels.code_of(channel)
                if code is not None and code in self.rooms:
                    channels.inbox.put((code, bytes(message["data"])))
            elif kind == self.subscribe_kind:
                if channel == self.hb_channel:
                    heartbeat.heard(loop.time())
                    if not self.ready.is_set():
                        self.was_ready = True
                        self.ready.set()
                        for code in codes & self.rooms:
                            self._confirm(code)
                        if resync:
                            # Anything published while we were deaf is gone: the hub re-reads.
                            log.info("redis: subscription of %s rebuilt", self.name)
                            channels.inbox.put(RESYNC)
                else:
                    code = channels.code_of(channel)
                    if code is not None and code in self.rooms:
                        self._confirm(code)
            else:
                self._other(kind, channel)

    def _other(self, kind: str, channel: bytes) -> None:
        """Hook: any other kind of message (one Redis sends none that matter)."""

    def _confirm(self, code: str) -> None:
        event = self.channels.confirmed.get(code)
        if event is not None:
            event.set()
        if code in self.resync_on_confirm:
            # The room came from another subscription: whatever was published in between is gone.
            self.resync_on_confirm.discard(code)
            self.channels.inbox.put(RESYNC)

    async def _beat(self) -> None:
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
                    receivers = await self.publish(channel, payload)
            except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
                log.debug("redis: heartbeat of %s not sent: %s", self.name, exc)
                continue
            if not ready or generation != self.generation:
                continue
            if receivers == 0:
                # Redis itself says nobody listens on our channel: this subscription is gone.
                self.deaf_generation = generation
            else:
                self.heartbeat.delivered(number, sent)


class ShardSubscription(Subscription):
    """A worker's subscription to one master of a Redis Cluster, on sharded channels."""

    message_kind = "smessage"
    subscribe_kind = "ssubscribe"

    async def _subscribe(self, pubsub: PubSub, channels: list[bytes]) -> None:
        # One SSUBSCRIBE per channel: one command may not span slots.
        for channel in channels:
            await pubsub.ssubscribe(channel)

    async def _unsubscribe(self, pubsub: PubSub, channel: bytes) -> None:
        await pubsub.sunsubscribe(channel)

    def _other(self, kind: str, channel: bytes) -> None:
        if kind != "sunsubscribe":
            return
        code = self.channels.code_of(channel)
        if channel == self.hb_channel or (code is not None and code in self.rooms):
            # Not ours: Redis drops shard subscriptions whose slot left this node (a failover
            # that demoted it, a slot migration).
            raise Rebuild(f"Redis unsubscribed {channel!r}: its slot moved")
