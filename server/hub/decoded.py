"""What one worker decoded of its rooms, kept per room so that it is decoded once.

Per room: each programme item's content, the players' names, the current input table's records,
who was present when that round opened, and the gate inputs are checked against. Every entry
only saves work: a full cache starts over, and a lost entry costs a read, never a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar

from server.hub.room import Room, unpack

T = TypeVar("T")

ROOM_CACHE = 4096  # rooms whose content, decoded inputs and names and gate a worker keeps


def _keep(cache: dict[str, T], code: str, value: T) -> None:
    """Keep `value` for room `code` in one of the caches; a full cache starts over."""
    if code not in cache and len(cache) >= ROOM_CACHE:
        cache.clear()
    cache[code] = value


class _Inputs(NamedTuple):
    """One room's current input table as last read (`raw`) and decoded."""

    table: str
    raw: dict[str, bytes]
    decoded: dict[str, tuple[bytes, Any]]
    inputs: dict[str, Any]


class Decoded:
    """The mappings handed out are shared: read them, do not change them."""

    def __init__(self) -> None:
        self._contents: dict[str, dict[int, tuple[float, Mapping[str, Any]]]] = {}
        self._inputs: dict[str, _Inputs] = {}
        self._names: dict[str, tuple[dict[str, bytes], dict[str, str]]] = {}
        self._gates: dict[str, bytes] = {}  # meta.open as this worker last wrote or read it
        self._present: dict[str, tuple[str, frozenset[str]]] = {}  # meta.present per table

    # ---- programme items' content ---------------------------------------------------------
    def content(self, code: str, item: int, created: float | None) -> Mapping[str, Any] | None:
        """Item `item`'s content if kept, and of the room created at `created` (None: any):
        a room code is handed out again once its room expired."""
        cached = self._contents.get(code, {}).get(item)
        if cached is not None and (created is None or cached[0] == created):
            return cached[1]
        return None

    def keep_content(
        self, code: str, item: int, created: float, content: Mapping[str, Any]
    ) -> None:
        contents = self._contents.get(code)
        if contents is None:
            _keep(self._contents, code, {})
            contents = self._contents[code]
        contents[item] = (created, content)

    def forget_content(self, code: str) -> None:
        self._contents.pop(code, None)

    # ---- people and inputs ----------------------------------------------------------------
    def names(self, code: str, raw: dict[str, bytes]) -> Mapping[str, str]:
        """The players table `raw` as names in join order; decoded again only when it changed
        (every render reads it)."""
        hit = self._names.get(code)
        if hit is not None and hit[0] == raw:
            return hit[1]
        names = {pid: raw[pid].decode() for pid in sorted(raw)}
        _keep(self._names, code, (raw, names))
        return names

    def inputs(self, code: str, table: str, raw: dict[str, bytes], room: Room) -> dict[str, Any]:
        """Input table `table` as read (`raw`), each stored record decoded once (every coalesced
        render and a closing command read the whole table)."""
        hit = self._inputs.get(code)
        if hit is not None and hit.table == table:
            if hit.raw == raw:  # unchanged (a scoreboard, a join): compared in C, not per record
                return hit.inputs
            cache = hit.decoded
        else:
            cache = {}
        decode = room.activity.decode_input
        decoded: dict[str, tuple[bytes, Any]] = {}
        for pid, value in raw.items():
            pair = cache.get(pid)
            decoded[pid] = (
                pair if pair is not None and pair[0] == value else (value, decode(unpack(value)))
            )
        inputs = {pid: record for pid, (_, record) in decoded.items()}
        _keep(self._inputs, code, _Inputs(table, raw, decoded, inputs))
        return inputs

    def known_inputs(self, code: str, table: str) -> Mapping[str, Any] | None:
        """Input table `table` as this worker last read and decoded it, if it did."""
        hit = self._inputs.get(code)
        return hit.inputs if hit is not None and hit.table == table else None

    def present(self, code: str, table: str) -> frozenset[str] | None:
        """Who was online when the round of input table `table` opened, if kept."""
        hit = self._present.get(code)
        return hit[1] if hit is not None and hit[0] == table else None

    def keep_present(self, code: str, table: str, raw: bytes | None) -> frozenset[str]:
        """Keep meta.present (`raw`, as read) for the round of input table `table`."""
        present = frozenset(unpack(raw)) if raw is not None else frozenset()
        _keep(self._present, code, (table, present))
        return present

    # ---- the gate -------------------------------------------------------------------------
    def gate(self, code: str) -> bytes | None:
        return self._gates.get(code)

    def keep_gate(self, code: str, gate: bytes | None) -> None:
        """This worker's copy of the room's gate (`meta.open`), saving a read per input; the
        store compares it with the real one, so an old copy can only cause a retry."""
        if gate is None:
            self._gates.pop(code, None)
        else:
            _keep(self._gates, code, gate)

    def forget(self, code: str) -> None:
        """Everything of a room this worker no longer shows (a finished session's rooms would
        otherwise stay decoded until the caches fill up)."""
        self._contents.pop(code, None)
        self._inputs.pop(code, None)
        self._names.pop(code, None)
        self._gates.pop(code, None)
        self._present.pop(code, None)
