"""The doorgeefbokaal: per team, who won which quiz and from whom the trophy passed."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from server.hub.backend import Backend

COLLECTION = "bokaal"


def team_key(team: str) -> str:
    """A file- and key-safe name for a team, stable under case and spacing."""
    normal = " ".join(team.casefold().split())
    return "t" + hashlib.sha256(normal.encode()).hexdigest()[:32]


class BokaalBook:
    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._lock = asyncio.Lock()

    async def history(self, team: str) -> list[dict[str, Any]]:
        raw = await self._backend.store_get(COLLECTION, team_key(team))
        return list(json.loads(raw)) if raw else []

    async def holder(self, team: str, room: str = "", round_no: int = 0) -> str | None:
        """The current holder, ignoring an entry already written for this room and round."""
        history = [
            h
            for h in await self.history(team)
            if not (h.get("room") == room and h.get("round") == round_no)
        ]
        return str(history[-1]["winner"]) if history else None

    async def keep(
        self,
        collection: str,
        team: str,
        room: str,
        item: int,
        record: dict[str, Any],
        replace: bool = False,
        carry: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        """Keep an activity's record (the kring's map, …) in `collection` for `team`, once per
        room and programme item (a retried transition writes it once); `replace`: a record
        kept earlier for this room and item is replaced in its place."""
        async with self._lock:
            raw = await self._backend.store_get(collection, team_key(team))
            history: list[dict[str, Any]] = list(json.loads(raw)) if raw else []
            kept = {
                **record,
                "kept": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "team": team,
                "room": room,
                "item": item,
            }
            at = next(
                (
                    i
                    for i, h in enumerate(history)
                    if h.get("room") == room and h.get("item") == item
                ),
                None,
            )
            if at is None:
                history.append(kept)
            elif replace:
                # What was changed on the record since it was kept stays (`carry`).
                history[at] = carry(history[at], kept) if carry is not None else kept
            else:
                return
            data = json.dumps(history, ensure_ascii=False).encode()
            await self._backend.store_put(collection, team_key(team), data)

    async def update(
        self,
        collection: str,
        team: str,
        room: str,
        item: int,
        change: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any] | None:
        """Apply `change` to the record kept for `team` from `room`'s programme item `item`;
        the new record, or None when there is none. `change` may raise: nothing is written."""
        async with self._lock:
            raw = await self._backend.store_get(collection, team_key(team))
            history: list[dict[str, Any]] = list(json.loads(raw)) if raw else []
            for i, h in enumerate(history):
                if h.get("room") == room and h.get("item") == item:
                    history[i] = change(h)
                    data = json.dumps(history, ensure_ascii=False).encode()
                    await self._backend.store_put(collection, team_key(team), data)
                    return history[i]
            return None

    async def kept(self, collection: str, team: str) -> list[dict[str, Any]]:
        """What `keep` kept in `collection` for `team`, oldest first."""
        raw = await self._backend.store_get(collection, team_key(team))
        return list(json.loads(raw)) if raw else []

    async def record(
        self,
        *,
        team: str,
        winner: str,
        previous: str | None,
        title: str,
        theme: str,
        author: str,
        room: str,
        round_no: int,
    ) -> None:
        async with self._lock:
            history = await self.history(team)
            if any(h.get("room") == room and h.get("round") == round_no for h in history):
                return  # the same podium reached twice (a retried transition)
            history.append(
                {
                    "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "team": team,
                    "title": title,
                    "theme": theme,
                    "author": author,
                    "winner": winner,
                    "previous": previous,
                    "room": room,
                    "round": round_no,
                }
            )
            data = json.dumps(history, ensure_ascii=False).encode()
            await self._backend.store_put(COLLECTION, team_key(team), data)
