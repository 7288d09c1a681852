"""Two runs in turn on one machine: Kenniskring and the baseline, block by block.

The machine under the bench is a shared VM whose speed drifts by up to 2× within seconds, so a
baseline run played a minute after the Kenniskring run may have met a different machine. Played
in turn, both runs are connected at once (idle sockets cost nothing) and take turns per block:
Kenniskring's setup and join, then the baseline's; Kenniskring's question 1 (open, answers,
close, scoreboard), then the baseline's; and so on. Each question of one is then measured
seconds from the same question of the other, never both at once. The baseline pads its frames to
the sizes the Kenniskring phones saw in the same block just before (`Host.control(sizes=)`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Turns:
    """Blocks of `sides` runs in the order block 0 of side 0, block 0 of side 1, block 1 of
    side 0, …; a side that has finished (or failed) no longer holds the others up."""

    def __init__(self, sides: int = 1) -> None:
        self.sides = sides
        self._next = 0
        self._finished: set[int] = set()
        self._changed = asyncio.Condition()

    def _skip_finished(self) -> None:
        while len(self._finished) < self.sides and self._next % self.sides in self._finished:
            self._next += 1

    @contextlib.asynccontextmanager
    async def turn(self, side: int, block: int) -> AsyncIterator[None]:
        ticket = block * self.sides + side
        async with self._changed:
            await self._changed.wait_for(lambda: self._next >= ticket)
        try:
            yield
        finally:
            async with self._changed:
                self._next = max(self._next, ticket + 1)
                self._skip_finished()
                self._changed.notify_all()

    async def finish(self, side: int) -> None:
        async with self._changed:
            self._finished.add(side)
            self._skip_finished()
            self._changed.notify_all()
