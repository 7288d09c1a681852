"""Which other workers are alive, as one worker knows it.

Presence held by a worker whose liveness key has expired does not count (see
server/hub/redis.py), so reading who is online asks Redis whether the other workers' keys
still exist. A room's transition reads who is online before it saves, so that question must
not cost a round trip of its own: a worker found alive is taken as alive for FRESH_FOR without
asking; up to USABLE_FOR it still counts as alive, while the question is asked again in the
background; and every liveness beat asks again about the workers that rooms asked about
lately, so after a quiet minute the answer is at hand when 100 rooms open a question at once
(on a cluster that was a round trip per room before its save, under load 40–100 ms).

"Dead" is never taken from what is known: a worker that has just come back (after a Redis
outage) would lose its re-asserted presence. So a crashed worker's players go offline within
LIVENESS_TTL + USABLE_FOR of its last beat at most, and as a rule one round trip after its key
expired, as long as someone keeps asking.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

from server.hub.single_flight import SingleFlight
from server.hub.tasks import stop_tasks

K = TypeVar("K", bound=Hashable)

FRESH_FOR = 1.0  # found alive this recently: alive, nothing asked
USABLE_FOR = 3.0  # found alive this recently: alive, and asked again in the background
ASKED_WITHIN = 60.0  # a liveness beat asks again about what a room asked about this recently


@dataclass
class _Known:
    alive: bool
    checked: float  # when the question was asked (the clock's time)
    used: float  # when a room last asked about it


class LiveWorkers(Generic[K]):
    """`ask(entry)`: whether the liveness key `entry` exists (the backends' entries are key
    names: one per worker on one Redis, one per worker and slot group on a cluster).
    `unanswered_alive`: a question that failed counts as "alive" (not proof of death) instead
    of failing the read."""

    def __init__(
        self,
        ask: Callable[[K], Awaitable[bool]],
        unanswered_alive: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ask = ask
        self._unanswered_alive = unanswered_alive
        self.clock = clock
        self._known: dict[K, _Known] = {}
        self._checks: SingleFlight[bool] = SingleFlight()  # one question per entry at a time

    async def alive(self, entries: Mapping[str, K]) -> set[str]:
        """Which of the workers are alive; `entries`: worker → the entry to ask about it."""
        now = self.clock()
        alive: set[str] = set()
        unknown: list[tuple[str, K]] = []
        for worker, entry in entries.items():
            known = self._known.get(entry)
            age = math.inf
            if known is not None:
                known.used = now
                if known.alive:
                    age = now - known.checked
            if age < USABLE_FOR:
                alive.add(worker)
                if age >= FRESH_FOR:
                    self._checks.start(entry, partial(self._check, entry))
            else:
                unknown.append((worker, entry))
        if unknown:
            found = await asyncio.gather(
                *(self._checks.ask(entry, partial(self._check, entry)) for _, entry in unknown),
                return_exceptions=self._unanswered_alive,
            )
            answers = zip(unknown, found, strict=True)
            alive.update(worker for (worker, _), exists in answers if exists is not False)
        return alive

    def refresh(self) -> None:
        """Ask again, in the background, about every worker found alive that a room asked about
        within ASKED_WITHIN (a liveness beat calls this); forget the rest."""
        now = self.clock()
        for entry, known in list(self._known.items()):
            if now - known.used > ASKED_WITHIN:
                del self._known[entry]
            elif known.alive and now - known.checked >= FRESH_FOR / 2:
                self._checks.start(entry, partial(self._check, entry))

    async def stop(self) -> None:
        """End the questions under way (the backend disconnects)."""
        await stop_tasks([f for f in self._checks.under_way() if isinstance(f, asyncio.Task)])

    async def _check(self, entry: K) -> bool:
        asked = self.clock()
        exists = await self._ask(entry)
        known = self._known.get(entry)
        self._known[entry] = _Known(exists, asked, known.used if known is not None else asked)
        return exists
