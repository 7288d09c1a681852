"""The one interface between the hub and where room state lives: bytes in, bytes out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

import msgpack

from server.hub import codes
from server.hub.room import DEVICES, NAMES, PLAYERS, TOKENS


def change_message(seq: int, urgent: bool = False, table: str | None = None) -> bytes:
    """The message that tells every worker a room is at change counter `seq`."""
    message: dict[str, int | bool | str] = {"seq": seq}
    if urgent:
        message["urgent"] = True
    if table is not None:
        message["table"] = table
    return msgpack.packb(message, use_bin_type=True)


Write = tuple[str, str, bytes]  # (table, key, value) stored along with a save


class PutResult(StrEnum):
    OK = "ok"
    DUPLICATE = "duplicate"
    CLOSED = "closed"


class Put(NamedTuple):
    """One record for `Backend.put_many_if_open`."""

    table: str
    key: str
    value: bytes
    overwrite: bool = False


class Enrolment(StrEnum):
    OK = "ok"
    GONE = "gone"  # the room does not exist (any more)
    FULL = "full"  # `limit` players are in the room
    NAMES_TAKEN = "names_taken"  # every name offered is taken


class Arriving(NamedTuple):
    """What `Backend.enrol` does once the new player is stored (each part optional)."""

    conn: str = ""  # the player's socket: marked online
    device: str = ""  # digest of the browser's device id, for `devices`
    announce: bytes = b""  # published on the room's channel


NO_ARRIVAL = Arriving()


@dataclass(frozen=True)
class Enrolled:
    """What `Backend.enrol` did."""

    outcome: Enrolment
    player: str = ""
    name: str = ""
    seq: int = 0  # the room's change counter after the enrolment


@dataclass
class Snapshot:
    """What one render reads of a room (see `Backend.snapshot`)."""

    seq: int
    room: tuple[int, bytes] | None  # (version, document), None when the room is gone
    tables: dict[str, dict[str, bytes]] = field(default_factory=dict)
    online: set[str] = field(default_factory=set)
    # Single fields asked for along: (table, key) → value, None when absent.
    fields: dict[tuple[str, str], bytes | None] = field(default_factory=dict)


class Backend(ABC):
    """Room documents with compare-and-set, per-player tables, presence, deadlines and fan-out.

    Every value is bytes, so the memory backend exercises the same encoding as Redis. A room is
    its document plus its tables; all of it disappears together after `room_ttl` seconds without
    a `touch`.
    """

    name: str = "abstract"
    # Exceptions that mean "cannot be reached right now" (an outage the design expects), as
    # opposed to a bug: callers log them once per outage instead of with a traceback.
    unavailable: tuple[type[BaseException], ...] = ()
    # Whether requests that arrive together gain from one call (every call is a round trip):
    # the hub then batches them per room (server/hub/batch.py); in-process calls go one by one.
    batches: bool = False

    async def connect(self) -> None:  # noqa: B027 - optional hook
        """Open connections and background tasks."""

    async def disconnect(self) -> None:  # noqa: B027 - optional hook
        """Close everything `connect` opened."""

    # ---- room documents --------------------------------------------------------------------
    # Every write is safe to repeat: a client library may send a command again after its reply
    # timed out while the first copy still runs. A repeat of an identical call that already took
    # effect answers as that call did (create, save, hsetnx: True; put_if_open: OK).

    @abstractmethod
    async def create_room(self, code: str, doc: bytes) -> bool:
        """Store a new room at version 1; False when the code is taken (by another document)."""

    @abstractmethod
    async def load_room(self, code: str) -> tuple[int, bytes] | None:
        """The room's document and its version, or None when it does not exist (any more)."""

    @abstractmethod
    async def save_room(
        self, code: str, version: int, doc: bytes, writes: Sequence[Write] = ()
    ) -> bool:
        """Replace the document only if it is still at `version` (it becomes version + 1), and
        keep the room and its tables alive as `touch` does. `writes`: (table, key, value)
        records stored in the same step, only when the document is saved (a transition that
        opens inputs saves its gate with it). True also when it already is version + 1 with
        exactly `doc` (a repeat of this save, whose writes were stored by the first)."""

    async def save_and_publish(
        self,
        code: str,
        version: int,
        doc: bytes,
        writes: Sequence[Write],
        empty: str,
        message: bytes,
    ) -> tuple[bool, bool]:
        """`save_room`, and once saved, while the room's table `empty` holds nothing, also
        publish `message` on the room's channel in the same step: (saved, published). A change's
        views can go out to the other workers in the save's own round trip when they were made
        before the save, which holds only while nothing they show can have changed meanwhile (a
        round the save opens has no inputs yet). Redis does it in the save's script; this
        default (the memory backend, where nothing runs in between) uses save_room, hlen and
        publish."""
        if not await self.save_room(code, version, doc, writes):
            return False, False
        if await self.hlen(code, empty):
            return True, False
        await self.publish(code, message)
        return True, True

    @abstractmethod
    async def touch(self, code: str) -> None:
        """Keep the room and all its tables alive for another `room_ttl` seconds."""

    @abstractmethod
    async def room_count(self) -> int:
        """How many rooms exist (for /healthz)."""

    @abstractmethod
    async def bump(self, code: str) -> int:
        """Increment and return the room's change counter (the `v` of every view)."""

    async def changed(self, code: str, urgent: bool = False, table: str | None = None) -> int:
        """Bump the room's change counter and publish the change message on the room's channel:
        a msgpack map of `seq` (the new value), `urgent: true` when `urgent` and `table` when
        given (docs/REDIS_KEYS.md). Returns the new value; 0 for a room that no longer exists,
        and then nothing is published. Redis does it in one script (on a cluster the script
        SPUBLISHes); this default (the memory backend) uses bump and publish."""
        seq = await self.bump(code)
        if seq:
            await self.publish(code, change_message(seq, urgent, table))
        return seq

    @abstractmethod
    async def seq(self, code: str) -> int:
        """The room's change counter without changing it."""

    # ---- per-room tables of small records ----------------------------------------------------
    @abstractmethod
    async def hset(self, code: str, table: str, key: str, value: bytes) -> None: ...

    @abstractmethod
    async def hsetnx(self, code: str, table: str, key: str, value: bytes) -> bool:
        """Set only if absent; True when this call set it (exactly one caller wins), or when
        `key` already holds exactly `value` (a repeat of the call that set it)."""

    @abstractmethod
    async def hget(self, code: str, table: str, key: str) -> bytes | None: ...

    async def replace_and_read(
        self, code: str, table: str, key: str, value: bytes, read: str
    ) -> tuple[bytes | None, dict[str, bytes]]:
        """Set one record and return the value it replaced, with table `read` as it is once
        the record is set ({} for `read` = ""): a closing gate and the inputs it closed, so
        no input stored before the gate changed is missed. Nothing for a room that no longer
        exists (None, {}). Redis does it in one script; this default uses the primitives."""
        if await self.load_room(code) is None:
            return None, {}
        replaced = await self.hget(code, table, key)
        await self.hset(code, table, key, value)
        return replaced, (await self.hgetall(code, read) if read else {})

    @abstractmethod
    async def hgetall(self, code: str, table: str) -> dict[str, bytes]:
        """The whole table, as a new mapping the caller owns (the hub keeps it to compare)."""

    @abstractmethod
    async def hlen(self, code: str, table: str) -> int: ...

    @abstractmethod
    async def hdel(self, code: str, table: str, key: str) -> None: ...

    async def put_if_open(
        self, code: str, gate: bytes, table: str, key: str, value: bytes, overwrite: bool = False
    ) -> PutResult:
        """One record through the gate (see `put_many_if_open`)."""
        (result,) = await self.put_many_if_open(code, gate, [Put(table, key, value, overwrite)])
        return result

    @abstractmethod
    async def put_many_if_open(
        self, code: str, gate: bytes, puts: Sequence[Put]
    ) -> list[PutResult]:
        """Atomically, per put in order: if its `key` already holds exactly its `value` → OK
        (a repeat of the call that stored it, also after the close); unless meta[`open`] equals
        `gate` → CLOSED; else HSETNX → OK/DUPLICATE, or with `overwrite` HSET → OK (a record
        that may change until the gate closes: a grade, a sticker). Many inputs of one room that
        arrive together are one call (one Redis round trip).

        The gate is the room's `meta` table entry `open`; closing a question deletes it first, so
        an answer is either stored before the close reads the answers, or refused.
        """

    async def enrol(
        self,
        code: str,
        limit: int,
        token_digest: str,
        names: Sequence[tuple[str, str]],
        tag: str,
        arrival: Arriving = NO_ARRIVAL,
    ) -> Enrolled:
        """A new player in one write. Unless the room is gone or already has `limit` players:
        the change counter is bumped (its new value is the player's order, the id is
        "p{order:07d}{tag}"), the first (key, name) of `names` whose key is free in `names` is
        taken, the token digest and the name are stored, and then what `arrival` asks: the
        player's socket `conn` marked online (as `set_online`), the `device` digest recorded in
        `devices`, `announce` published on the room's channel. When every key is taken nothing
        is stored (NAMES_TAKEN; the counter stays bumped). Safe to repeat: a call whose
        `token_digest` is already known returns the player it made. Redis does it in one
        script; this default (the memory backend) uses the primitives."""
        if await self.load_room(code) is None:
            return Enrolled(Enrolment.GONE)
        known = await self.hget(code, TOKENS, token_digest)
        if known is not None:
            player = known.decode()
            stored = await self.hget(code, PLAYERS, player) or b""
            return Enrolled(Enrolment.OK, player, stored.decode(), await self.seq(code))
        if await self.hlen(code, PLAYERS) >= limit:
            return Enrolled(Enrolment.FULL)
        order = await self.bump(code)
        player = codes.player_id(order, tag)
        for key, offered in names:
            if await self.hsetnx(code, NAMES, key, player.encode()):
                await self.hset(code, TOKENS, token_digest, player.encode())
                await self.hset(code, PLAYERS, player, offered.encode())
                if arrival.conn:
                    await self.set_online(code, player, arrival.conn, True)
                if arrival.device:
                    await self.hset(code, DEVICES, player, arrival.device.encode())
                if arrival.announce:
                    await self.publish(code, arrival.announce)
                return Enrolled(Enrolment.OK, player, offered, order)
        return Enrolled(Enrolment.NAMES_TAKEN, seq=order)

    # ---- presence ---------------------------------------------------------------------------
    @abstractmethod
    async def set_online(self, code: str, player: str, conn: str, online: bool) -> None:
        """Mark one connection (`conn`, unique per socket) of a player as open or closed."""

    @abstractmethod
    async def online(self, code: str) -> set[str]:
        """Players with at least one open connection on a live worker."""

    # ---- reading for a render --------------------------------------------------------------------
    async def snapshot(
        self, code: str, tables: Sequence[str], fields: Sequence[tuple[str, str]] = ()
    ) -> Snapshot:
        """The change counter, the document, whole `tables`, who is online and single `fields`
        ((table, key) pairs): everything a render reads. Redis answers it in one round trip
        instead of one per part; the parts are the same as `seq`, `load_room`, `hgetall`,
        `online` and `hget` would return."""
        return Snapshot(
            seq=await self.seq(code),
            room=await self.load_room(code),
            tables={table: await self.hgetall(code, table) for table in tables},
            online=await self.online(code),
            fields={(table, key): await self.hget(code, table, key) for table, key in fields},
        )

    # ---- many arrivals at once (a reconnect storm) ---------------------------------------------
    async def load_following(
        self, code: str, table: str, keys: Sequence[str], via: str
    ) -> tuple[tuple[int, bytes] | None, list[tuple[str, bytes] | None]]:
        """One read for many resumes of one room: the document (as `load_room`) and, for each of
        `keys`, its value `v` in `table` with the record `v` of table `via` (b"" when absent),
        or None when `table` has no `key`. Redis answers it in one round trip."""
        room = await self.load_room(code)
        found: list[tuple[str, bytes] | None] = []
        for key in keys:
            value = await self.hget(code, table, key)
            if value is None:
                found.append(None)
                continue
            target = value.decode()
            found.append((target, await self.hget(code, via, target) or b""))
        return room, found

    async def arrive(
        self,
        code: str,
        online: Sequence[tuple[str, str]],
        put: Sequence[tuple[str, str, bytes]] = (),
        delete: Sequence[tuple[str, str]] = (),
    ) -> None:
        """One write for many arrivals in one room: each (player, conn) of `online` marked open
        (as `set_online`), each (table, key, value) of `put` set, each (table, key) of
        `delete` removed, and the room touched. Safe to repeat, like every write."""
        for player, conn in online:
            await self.set_online(code, player, conn, True)
        for table, key, value in put:
            await self.hset(code, table, key, value)
        for table, key in delete:
            await self.hdel(code, table, key)
        await self.touch(code)

    # ---- deadlines ----------------------------------------------------------------------------
    @abstractmethod
    async def schedule(
        self, code: str, at: float, earlier: bool = False, version: int | None = None
    ) -> None:
        """Ask for a tick of `code` at time `at` (replaces the one asked for); `at` = 0: no tick
        (removes it). `earlier`: only if no tick is asked for before `at` (a wake-up, which
        must never put off a tick already due sooner, such as the deadline of the question the
        room moved on to after the wake-up was computed). `version`: the room document's version
        `at` was computed from; ignored (nothing changes) when a schedule of a newer version
        was already made, so a late write from an older read never replaces the deadline of
        the room's newer state, nor removes it."""

    @abstractmethod
    async def claim_due(self, now: float, lease: float, ask_all: bool = False) -> list[str]:
        """Rooms whose tick is due; each is handed to one caller and re-armed at now + lease,
        so a worker that dies while handling it leaves the tick to another worker. A shared
        backend may answer from what this worker knows, without asking (server/hub/
        due_watch.py); `ask_all`: ask it all the same (while it is thought unreachable, a poll
        that returns is proof that it is back)."""

    # ---- fan-out ------------------------------------------------------------------------------
    @abstractmethod
    async def publish(self, code: str, message: bytes) -> None: ...

    @abstractmethod
    async def subscribe(self, code: str) -> None: ...

    @abstractmethod
    async def unsubscribe(self, code: str) -> None: ...

    @abstractmethod
    async def next_published(self) -> tuple[str, bytes]:
        """Wait for the next message on any subscribed room. A message with an empty code is a
        resync signal: the subscription was rebuilt and anything may have been missed."""

    # ---- durable key/value store (quiz library, bokaal history) --------------------------------
    @abstractmethod
    async def store_put(
        self, collection: str, key: str, value: bytes, *, only_new: bool = False
    ) -> bool:
        """Store `value`; True when stored. With `only_new` only if `key` is new in
        `collection` (of two concurrent puts of one new key, exactly one wins)."""

    @abstractmethod
    async def store_get(self, collection: str, key: str) -> bytes | None: ...

    @abstractmethod
    async def store_all(self, collection: str) -> dict[str, bytes]: ...

    @abstractmethod
    async def store_delete(self, collection: str, key: str) -> bool:
        """Remove `key`; True when it was there."""
