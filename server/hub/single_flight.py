"""Concurrent asks for the same thing share one call.

A hundred renders that find a cached answer stale at the same moment (is worker W still alive?)
would otherwise each ask Redis, all before the first reply refreshes the cache: when 100 rooms
open a question at once, one EXISTS per room, a round trip each. Likewise the answers that
reach a worker which has no copy of their room's gate yet (it did not open the round).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class SingleFlight(Generic[V]):
    def __init__(self) -> None:
        self._flying: dict[Hashable, asyncio.Future[V]] = {}

    def flying(self, key: Hashable) -> bool:
        """Whether a call for `key` is under way (an `ask` now would join it)."""
        return key in self._flying

    async def ask(self, key: Hashable, call: Callable[[], Awaitable[V]]) -> V:
        """The result of `call()`, or of the call for `key` already under way. A caller that is
        cancelled leaves the call running for the others."""
        return await asyncio.shield(self.start(key, call))

    def start(self, key: Hashable, call: Callable[[], Awaitable[V]]) -> asyncio.Future[V]:
        """The call for `key` under way, started now if there is none (nobody need wait for
        it: its outcome is retrieved when it lands)."""
        flight = self._flying.get(key)
        if flight is None:
            flight = asyncio.ensure_future(call())
            self._flying[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        return flight

    def under_way(self) -> list[asyncio.Future[V]]:
        return list(self._flying.values())

    def _landed(self, key: Hashable, flight: asyncio.Future[V]) -> None:
        if self._flying.get(key) is flight:
            del self._flying[key]
        if not flight.cancelled():
            with contextlib.suppress(BaseException):
                flight.exception()  # retrieved: every asker may have been cancelled meanwhile
