"""When a worker asks a group of the shared due set (server/hub/redis.py: one group; the cluster:
one per slot group) for rooms whose tick is due.

Asking every group on every deadline poll (20 times a second) made an idle two-worker server on
a 3-master cluster use a tenth of a core (16 groups: 640 scripts a second). A worker knows when
the ticks it asked for itself are due (every transition and wake-up schedules on the worker that
made it), and each claim reports the earliest tick left in its group. So a group is asked when
the earliest tick this worker knows of in it is due, and otherwise at least every IDLE_ASK_S for
ticks other workers asked for (they ask on time themselves; this is for a worker that died).

All times are the hub's clock, as `Backend.schedule` and `Backend.claim_due` take them.
"""

from __future__ import annotations

import math

IDLE_ASK_S = 0.5


class DueWatch:
    def __init__(self, idle_ask_s: float = IDLE_ASK_S) -> None:
        self._idle_ask_s = idle_ask_s
        self._next: dict[int, float] = {}  # group → earliest tick known here (absent: unknown)
        self._asked: dict[int, float] = {}  # group → when its last claim was sent

    def scheduled(self, group: int, at: float) -> None:
        """This worker asked for a tick at `at` in `group` (0: removed one; nothing to wait for)."""
        if at:
            self._next[group] = min(self._next.get(group, math.inf), at)

    def should_ask(self, group: int, now: float) -> bool:
        asked = self._asked.get(group)
        return (
            asked is None
            or now >= self._next.get(group, -math.inf)
            or not asked <= now < asked + self._idle_ask_s  # (or the clock went back)
        )

    def asking(self, group: int, now: float) -> None:
        """A claim of `group` is sent now; until its reply, only this worker's own schedules
        are known (they are kept: the claim may have read the set before them)."""
        self._asked[group] = now
        self._next[group] = math.inf

    def answered(self, group: int, earliest: bytes | str | float | None) -> None:
        """The claim's reply: the earliest tick left in the group (after the claimed ones were
        re-armed; as the claim script returned it), None when the group is empty."""
        if earliest is not None:
            self.scheduled(group, float(earliest))

    def failed(self, group: int) -> None:
        """The claim got no reply: ask again on the next poll."""
        self._next.pop(group, None)
