"""The bounded queue between a backend's subscription and the fan-out.

What arrives on a room channel is only "room X changed (to version N)": views are snapshots, so
losing messages costs a re-read, never a result. When the fan-out falls behind by `limit`
messages, the queue is emptied and a single resync signal (empty code) takes their place: the hub
then re-renders every room it shows. Memory stays bounded whatever Redis delivers.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

log = logging.getLogger(__name__)

RESYNC: tuple[str, bytes] = ("", b"")
LIMIT = 10_000


class Inbox:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._items: deque[tuple[str, bytes]] = deque()
        self._ready = asyncio.Event()
        self.overflows = 0

    def put(self, item: tuple[str, bytes]) -> None:
        if len(self._items) >= self.limit:
            self.overflows += 1
            log.warning("fan-out fell %d messages behind: resyncing every room", self.limit)
            self._items.clear()
            item = RESYNC
        self._items.append(item)
        self._ready.set()

    async def get(self) -> tuple[str, bytes]:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def __len__(self) -> int:
        return len(self._items)
