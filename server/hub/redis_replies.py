"""Redis replies of a room, converted once per change instead of once per read.

Every render reads its room's players and who is online (RedisBackend.snapshot), 100 fields
each in a room of 100, every 0.1 s while answers arrive and after every transition, on every
worker with the room's sockets. Between two joins those replies are the same bytes, so
converting them field by field in Python each time (bytes to text, presence fields split per
worker) cost more than the read itself. Here a reply is compared with the last one of its
room and table (one dict or list comparison, done in C) and, when equal, the conversion made
from it is returned again. Callers treat what they get as read-only, as they do the memory
backend's tables.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

ROOM_REPLIES = 8192  # replies kept (room × table); a full cache starts over

T = TypeVar("T")


# redis-py types replies as bytes | str (it cannot know decode_responses); ours are always bytes.
def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def raw_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


@dataclass(frozen=True)
class Presence:
    """A room's presence hash ("player|conn" → worker id) by worker: the players each worker
    holds, and the fields to delete when that worker is dead."""

    players: dict[str, frozenset[str]]
    fields: dict[str, list[bytes]]

    @classmethod
    def of(cls, raw: dict[Any, Any]) -> Presence:
        players: dict[str, set[str]] = {}
        fields: dict[str, list[bytes]] = {}
        for field, worker in raw.items():
            holder = text(worker)
            players.setdefault(holder, set()).add(text(field).partition("|")[0])
            fields.setdefault(holder, []).append(raw_bytes(field))
        return cls({w: frozenset(p) for w, p in players.items()}, fields)


def texts(raw: dict[Any, Any]) -> dict[str, bytes]:
    """An HGETALL reply as {field: value}."""
    return {text(k): raw_bytes(v) for k, v in raw.items()}


def pairs(flat: list[Any]) -> dict[str, bytes]:
    """A flat [field, value, …] reply (HGETALL inside a script) as {field: value}."""
    return {text(flat[i]): raw_bytes(flat[i + 1]) for i in range(0, len(flat), 2)}


class RoomReplies:
    """The last reply per (room, part) and what was made of it."""

    def __init__(self) -> None:
        self._kept: dict[Hashable, tuple[Any, Any]] = {}

    def converted(self, key: Hashable, reply: Any, convert: Callable[[Any], T]) -> T:
        """`convert(reply)`, made again only when `reply` differs from the last one under
        `key` (a room and what of it was read)."""
        hit = self._kept.get(key)
        if hit is not None and hit[0] == reply:
            made: T = hit[1]
            return made
        made = convert(reply)
        if key not in self._kept and len(self._kept) >= ROOM_REPLIES:
            self._kept.clear()
        self._kept[key] = (reply, made)
        return made

    def forget(self, key: Hashable) -> None:
        self._kept.pop(key, None)
