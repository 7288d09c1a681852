"""A room's stored document and the msgpack encoding shared by every backend and the wire.

A room is a programme: the werkvormen of one meeting, one after the other, for the same players.
The document keeps the room's own facts (secret, team, lock, removed players), the programme and
the state of each item; the state of the running item is decoded by its activity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import msgpack

from server.activities import base


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=True)


# Tables of a room (Backend hashes). An activity's input tables are per programme item
# (`input_table`).
PLAYERS = "players"  # player id → name (utf-8)
NAMES = "names"  # casefolded name → player id (uniqueness)
TOKENS = "tokens"  # sha256(token) → player id
DEVICES = "devices"  # player id → digest of the device id the player's browser sent
LEFT = "left"  # player id → when their last socket closed (packed float), while it is closed
# "content:<item>" → the item's content (a quiz, the kring's domains…); "open" → the gate inputs
# are accepted against; "present" → players online when that gate opened
META = "meta"
PRESENT = "present"  # meta's field of the players online when the open gate opened


def content_key(item: int) -> str:
    return f"content:{item}"


def input_table(item: int, table: str) -> str:
    """An activity's table `table` of programme item `item`."""
    return f"i{item}:{table}"


@dataclass
class Item:
    """One werkvorm of the programme; `state` is the encoded state of an item that is not
    running (None before it ran); `finished`: it was left at its end (Activity.finished)."""

    kind: str
    title: str
    state: dict[str, Any] | None = None
    finished: bool = False
    archived: dict[str, Any] | None = None  # what the hub kept of its last archive effect

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "state": self.state,
            "finished": self.finished,
            "archived": self.archived,
        }


@dataclass
class Room:
    """Everything about a room that changes only through serialized transitions."""

    code: str
    secret: str  # digest of the host secret
    join_url: str
    team: str = ""
    lang: str = "nl"
    locked: bool = False
    # The facilitator ended the session: no inputs, no joins, no commands; the data stays
    # (the downloads) until the room expires.
    ended: bool = False
    max_players: int = 2500
    kicked: list[str] = field(default_factory=list)
    # Removed players the host may let back in: player id → {"name", "device"} (the digest of
    # the device id their browser sent, "" when none); a kicked device cannot join again.
    removed: dict[str, dict[str, str]] = field(default_factory=dict)
    created: float = 0.0  # tells a room from an earlier one that had the same code
    programme: list[Item] = field(default_factory=list)
    current: int = 0  # the running item
    state: Any = None  # the running item's state, decoded by its activity

    @property
    def item(self) -> Item:
        return self.programme[self.current]

    @property
    def kind(self) -> str:
        return self.item.kind

    @property
    def activity(self) -> base.Activity[Any]:
        return base.get(self.kind)

    def encode(self) -> bytes:
        return pack(
            {
                "code": self.code,
                "secret": self.secret,
                "join_url": self.join_url,
                "team": self.team,
                "lang": self.lang,
                "locked": self.locked,
                "ended": self.ended,
                "max_players": self.max_players,
                "kicked": self.kicked,
                "removed": self.removed,
                "created": self.created,
                "programme": [i.to_dict() for i in self.programme],
                "current": self.current,
                "state": self.activity.encode(self.state),
            }
        )

    def copy(self) -> Room:
        """A copy for a transition to change (the activity's `copy` for the state)."""
        return replace(
            self,
            kicked=list(self.kicked),
            removed={p: dict(r) for p, r in self.removed.items()},
            programme=[replace(i) for i in self.programme],
            state=self.activity.copy(self.state),
        )

    def state_of(self, item: int) -> Any:
        """The decoded state of programme item `item` (the running one, or one that ran)."""
        if item == self.current:
            return self.state
        stored = self.programme[item].state
        activity = base.get(self.programme[item].kind)
        return activity.decode(stored) if stored is not None else None

    def remove_players(self, players: Sequence[str]) -> None:
        """Take `players` out of every programme item that ran, not only the running one: a
        quiz played before the removal no longer ranks them (nobody stands on its podium as
        "?"), and a werkvorm returned to shows what the running one would."""
        for player in players:
            self.activity.remove_player(self.state, player)
        for i, item in enumerate(self.programme):
            if i == self.current or item.state is None or not players:
                continue
            activity = base.get(item.kind)
            state = activity.decode(item.state)
            for player in players:
                activity.remove_player(state, player)
            item.state = activity.encode(state)

    @classmethod
    def decode(cls, data: bytes) -> Room:
        d = unpack(data)
        # A title is read as the werkvorm's (`own_title`): older documents wrote its name out.
        d["programme"] = [
            Item(**{**i, "title": base.get(i["kind"]).own_title(i["title"])})
            for i in d["programme"]
        ]
        room = cls(**{k: v for k, v in d.items() if k != "state"})
        room.state = room.activity.decode(d["state"])
        return room
