"""The in-memory backend: one process, nothing to install; durable data goes to files."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from server.hub.backend import Backend, Put, PutResult, Write
from server.hub.filestore import FileStore
from server.hub.inbox import Inbox


class _Room:
    __slots__ = ("doc", "seq", "tables", "touched", "version")

    def __init__(self, doc: bytes, now: float) -> None:
        self.doc = doc
        self.version = 1
        self.seq = 0
        self.tables: dict[str, dict[str, bytes]] = defaultdict(dict)
        self.touched = now


class MemoryBackend(Backend):
    name = "memory"

    def __init__(
        self,
        data_dir: Path,
        room_ttl: float = 12 * 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Room expiry runs on `clock` (monotonic seconds; tests drive it). Deadlines are not on
        # it: `schedule`/`claim_due` compare the hub's times that the caller passes in.
        self._clock = clock
        self._rooms: dict[str, _Room] = {}
        self._presence: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self._deadlines: dict[str, float] = {}
        self._deadline_versions: dict[str, int] = {}  # room → newest version scheduled from
        self._heap: list[tuple[float, str]] = []
        self._subscribed: set[str] = set()
        self._queue = Inbox()
        self._room_ttl = room_ttl
        self._files = FileStore(data_dir)

    def _room(self, code: str) -> _Room | None:
        room = self._rooms.get(code)
        if room is not None and self._clock() - room.touched > self._room_ttl:
            self._drop(code)
            return None
        return room

    def _drop(self, code: str) -> None:
        self._rooms.pop(code, None)
        self._presence.pop(code, None)
        self._deadlines.pop(code, None)
        self._deadline_versions.pop(code, None)

    def _table(self, code: str, table: str) -> dict[str, bytes]:
        room = self._room(code)
        return room.tables[table] if room is not None else {}

    def _sweep(self) -> None:
        now = self._clock()
        for stale in [c for c, r in self._rooms.items() if now - r.touched > self._room_ttl]:
            self._drop(stale)

    async def create_room(self, code: str, doc: bytes) -> bool:
        self._sweep()
        if code in self._rooms:
            existing = self._rooms[code]
            return existing.version == 1 and existing.doc == doc  # a repeat of this create
        self._rooms[code] = _Room(doc, self._clock())
        return True

    async def load_room(self, code: str) -> tuple[int, bytes] | None:
        room = self._room(code)
        return (room.version, room.doc) if room is not None else None

    async def save_room(
        self, code: str, version: int, doc: bytes, writes: Sequence[Write] = ()
    ) -> bool:
        room = self._room(code)
        if room is not None and room.version == version + 1 and room.doc == doc:
            return True  # a repeat of the save that made this version
        if room is None or room.version != version:
            return False
        room.doc = doc
        room.version += 1
        for table, key, value in writes:
            room.tables[table][key] = bytes(value)
        room.touched = self._clock()
        return True

    async def touch(self, code: str) -> None:
        room = self._room(code)
        if room is not None:
            room.touched = self._clock()

    async def room_count(self) -> int:
        self._sweep()
        return len(self._rooms)

    async def bump(self, code: str) -> int:
        room = self._room(code)
        if room is None:
            return 0
        room.seq += 1
        return room.seq

    async def seq(self, code: str) -> int:
        room = self._room(code)
        return room.seq if room is not None else 0

    async def hset(self, code: str, table: str, key: str, value: bytes) -> None:
        room = self._room(code)
        if room is not None:
            room.tables[table][key] = bytes(value)

    async def hsetnx(self, code: str, table: str, key: str, value: bytes) -> bool:
        room = self._room(code)
        if room is None:
            return False
        if key in room.tables[table]:
            return room.tables[table][key] == value  # a repeat of the call that set it
        room.tables[table][key] = bytes(value)
        return True

    async def hget(self, code: str, table: str, key: str) -> bytes | None:
        return self._table(code, table).get(key)

    async def hgetall(self, code: str, table: str) -> dict[str, bytes]:
        return dict(self._table(code, table))

    async def hlen(self, code: str, table: str) -> int:
        return len(self._table(code, table))

    async def hdel(self, code: str, table: str, key: str) -> None:
        self._table(code, table).pop(key, None)

    async def put_many_if_open(
        self, code: str, gate: bytes, puts: Sequence[Put]
    ) -> list[PutResult]:
        return [self._put_if_open(code, gate, put) for put in puts]

    def _put_if_open(self, code: str, gate: bytes, put: Put) -> PutResult:
        table = self._table(code, put.table)
        if table.get(put.key) == put.value:
            return PutResult.OK  # a repeat of the call that stored it, even after the close
        if self._room(code) is None or self._table(code, "meta").get("open") != gate:
            return PutResult.CLOSED
        if put.key in table and not put.overwrite:
            return PutResult.DUPLICATE
        table[put.key] = bytes(put.value)
        return PutResult.OK

    async def set_online(self, code: str, player: str, conn: str, online: bool) -> None:
        conns = self._presence[code][player]
        if online:
            conns.add(conn)
        else:
            conns.discard(conn)
            if not conns:
                del self._presence[code][player]

    async def load_following(
        self, code: str, table: str, keys: Sequence[str], via: str
    ) -> tuple[tuple[int, bytes] | None, list[tuple[str, bytes] | None]]:
        room = self._room(code)
        if room is None:
            return None, [None] * len(keys)
        first, second = room.tables.get(table, {}), room.tables.get(via, {})
        found: list[tuple[str, bytes] | None] = []
        for key in keys:
            value = first.get(key)
            if value is None:
                found.append(None)
            else:
                target = value.decode()
                found.append((target, second.get(target, b"")))
        return (room.version, room.doc), found

    async def arrive(
        self,
        code: str,
        online: Sequence[tuple[str, str]],
        put: Sequence[tuple[str, str, bytes]] = (),
        delete: Sequence[tuple[str, str]] = (),
    ) -> None:
        room = self._room(code)
        if room is None:
            return
        presence = self._presence[code]
        for player, conn in online:
            presence[player].add(conn)
        for table, key, value in put:
            room.tables[table][key] = bytes(value)
        for table, key in delete:
            if table in room.tables:
                room.tables[table].pop(key, None)
        room.touched = self._clock()

    async def online(self, code: str) -> set[str]:
        return {p for p, conns in self._presence.get(code, {}).items() if conns}

    async def schedule(
        self, code: str, at: float, earlier: bool = False, version: int | None = None
    ) -> None:
        if version is not None:
            if version < self._deadline_versions.get(code, version):
                return  # computed from an older state of the room than one already scheduled
            self._deadline_versions[code] = version
        if not at:
            self._deadlines.pop(code, None)
            return
        queued = self._deadlines.get(code)
        if queued == at or (earlier and queued is not None and queued < at):
            return  # already queued at this time (one entry, one claim), or sooner
        self._deadlines[code] = at
        heapq.heappush(self._heap, (at, code))

    async def claim_due(self, now: float, lease: float, ask_all: bool = False) -> list[str]:
        due: list[str] = []
        while self._heap and self._heap[0][0] <= now:
            at, code = heapq.heappop(self._heap)
            if self._deadlines.get(code) != at:
                continue  # replaced or unscheduled since
            if self._room(code) is None or code in due:
                continue  # expired with its deadline, or a stale duplicate heap entry
            due.append(code)
        for code in due:
            await self.schedule(code, now + lease)
        return due

    async def publish(self, code: str, message: bytes) -> None:
        if code in self._subscribed:
            self._queue.put((code, bytes(message)))

    async def subscribe(self, code: str) -> None:
        self._subscribed.add(code)

    async def unsubscribe(self, code: str) -> None:
        self._subscribed.discard(code)

    async def next_published(self) -> tuple[str, bytes]:
        return await self._queue.get()

    async def store_put(
        self, collection: str, key: str, value: bytes, *, only_new: bool = False
    ) -> bool:
        if only_new:
            return await asyncio.to_thread(self._files.add, collection, key, value)
        await asyncio.to_thread(self._files.put, collection, key, value)
        return True

    async def store_get(self, collection: str, key: str) -> bytes | None:
        return await asyncio.to_thread(self._files.get, collection, key)

    async def store_all(self, collection: str) -> dict[str, bytes]:
        return await asyncio.to_thread(self._files.all, collection)

    async def store_delete(self, collection: str, key: str) -> bool:
        return await asyncio.to_thread(self._files.delete, collection, key)
