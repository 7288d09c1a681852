"""A room's stored document and the msgpack encoding shared by every backend and the wire."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import msgpack

from server.activities.quiz import QuizState


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=True)


# Tables of a room (Backend hashes); the answers table is per round and question.
PLAYERS = "players"  # player id → name (utf-8)
NAMES = "names"  # casefolded name → player id (uniqueness)
TOKENS = "tokens"  # sha256(token) → player id
DEVICES = "devices"  # player id → digest of the device id the player's browser sent
ROUNDS = "rounds"  # round number → a finished round as restart left it: {state, names}
LEFT = "left"  # player id → when their last socket closed (packed float), while it is closed
# "quiz" → packed quiz; "open" → the gate of the open question; "present" → players online when
# it opened
META = "meta"


def answers_table(round_no: int, index: int) -> str:
    return f"answers:{round_no}:{index}"


@dataclass
class Room:
    """Everything about a room that changes only through serialized transitions."""

    code: str
    secret: str  # digest of the host secret
    quiz_id: str
    join_url: str
    team: str = ""
    lang: str = "nl"
    locked: bool = False
    max_players: int = 2500
    kicked: list[str] = field(default_factory=list)
    # Removed players the host may let back in: player id → {"name", "device"} (the digest of
    # the device id their browser sent, "" when none); a kicked device cannot join again.
    removed: dict[str, dict[str, str]] = field(default_factory=dict)
    created: float = 0.0  # tells a room from an earlier one that had the same code
    bokaal: dict[str, Any] | None = None
    state: QuizState = field(default_factory=QuizState)

    def encode(self) -> bytes:
        return pack(
            {
                "code": self.code,
                "secret": self.secret,
                "quiz_id": self.quiz_id,
                "join_url": self.join_url,
                "team": self.team,
                "lang": self.lang,
                "locked": self.locked,
                "max_players": self.max_players,
                "kicked": self.kicked,
                "removed": self.removed,
                "created": self.created,
                "bokaal": self.bokaal,
                "state": self.state.to_dict(),
            }
        )

    def copy(self) -> Room:
        """A copy for a transition to change (see QuizState.copy)."""
        return replace(
            self,
            kicked=list(self.kicked),
            removed={p: dict(r) for p, r in self.removed.items()},
            bokaal=dict(self.bokaal) if self.bokaal is not None else None,
            state=self.state.copy(),
        )

    @classmethod
    def decode(cls, data: bytes) -> Room:
        d = unpack(data)
        d["state"] = QuizState.from_dict(d["state"])
        return cls(**d)


def open_gate(state: QuizState) -> bytes:
    """The meta/open value while a question takes answers; answers are stored against it."""
    return pack(
        {
            "round": state.round,
            "index": state.index,
            "opened_at": state.opened_at,
            "deadline": state.deadline,
        }
    )
