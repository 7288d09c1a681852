"""Decoded room documents per worker, reused while the stored bytes are unchanged.

With 2,000 players the document holds every score and every result so far; decoding it was a
third of the time of a host's `next` (once for the transition, once for the render). A cached room
is shared and must be treated as read-only: a transition changes `room.copy()` and, once saved,
puts the new version here, so the render that follows decodes nothing.
"""

from __future__ import annotations

from server.hub.room import Room

LIMIT = 10_000  # rooms per worker; the oldest entry goes first


class RoomCache:
    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._rooms: dict[str, tuple[int, bytes, Room]] = {}

    def get(self, code: str, version: int, doc: bytes) -> Room:
        """The decoded `doc`; the same object as long as version and bytes are unchanged (a
        version alone would not do: an expired room's code may be handed out again)."""
        hit = self._rooms.get(code)
        if hit is not None and hit[0] == version and (hit[1] is doc or hit[1] == doc):
            return hit[2]
        room = Room.decode(doc)
        self.put(code, version, doc, room)
        return room

    def put(self, code: str, version: int, doc: bytes, room: Room) -> None:
        """Remember `room` as version `version` of the document `doc` (just saved)."""
        self._rooms.pop(code, None)
        if len(self._rooms) >= self._limit:
            del self._rooms[next(iter(self._rooms))]
        self._rooms[code] = (version, doc, room)

    def forget(self, code: str) -> None:
        self._rooms.pop(code, None)

    def __len__(self) -> int:
        return len(self._rooms)
