"""Who an open question still waits for: one rule for the `answered` counter and the auto-close."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass

# How long a phone that dropped mid-question still counts (a reload takes under a second).
RECONNECT_GRACE_S = 3.0
# How long a phone that vanished without closing its socket still counts, from when a server
# noticed: its worker died, and hundreds of phones reconnect with backoff (up to ~5 s).
LOST_GRACE_S = 10.0


@dataclass(frozen=True)
class Attendance:
    """`expected`: players the question waits for; `answered`: those of them who answered;
    `unnoticed`: players present at the opening who vanished without a recorded leave (a dead
    worker's phones): the caller records them in `left` at `unnoticed_since`, so that their
    grace (`LOST_GRACE_S` from now) is the same for every later evaluation; `wake`: when a
    grace lapses next (the caller re-evaluates then), None when nobody is in a grace."""

    expected: frozenset[str]
    answered: frozenset[str]
    unnoticed: frozenset[str]
    wake: float | None
    unnoticed_since: float = 0.0

    @property
    def complete(self) -> bool:
        """Everybody the question waits for answered (and it waits for somebody)."""
        return bool(self.expected) and self.expected <= self.answered


def lost_since(now: float, grace: float, lost_grace: float = LOST_GRACE_S) -> float:
    """The leave to record for a phone the server lost at `now` (its worker died, the server
    restarted): `lost_grace - grace` in the future, so its `grace` ends at now + lost_grace."""
    return now + max(0.0, lost_grace - grace)


def attendance(
    players: Iterable[str],
    online: Set[str],
    answered: Set[str],
    present: Set[str],
    left: Mapping[str, float],
    now: float,
    grace: float = RECONNECT_GRACE_S,
    lost_grace: float = LOST_GRACE_S,
) -> Attendance:
    """A player of the room counts when they answered, are connected, or dropped less than
    `grace` seconds ago (`left`: when their last socket closed; a player connected at the
    opening whose leave was never recorded vanished just now, and gets `lost_grace`). Everybody
    else is gone: the question no longer waits for them, and the counter does not count them."""
    unnoticed_since = lost_since(now, grace, lost_grace)
    expected: set[str] = set()
    done: set[str] = set()
    unnoticed: set[str] = set()
    wake: float | None = None
    for player in players:
        if player in answered:
            expected.add(player)
            done.add(player)
            continue
        if player in online:
            expected.add(player)
            continue
        since = left.get(player)
        if since is None and player in present:
            unnoticed.add(player)
            since = unnoticed_since
        if since is not None and now < since + grace:
            expected.add(player)
            until = since + grace
            wake = until if wake is None else min(wake, until)
    return Attendance(
        frozenset(expected), frozenset(done), frozenset(unnoticed), wake, unnoticed_since
    )
