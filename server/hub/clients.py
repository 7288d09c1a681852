"""One connected browser tab as the hub sees it: role, identity and a bounded send queue."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

_ids = itertools.count(1)

CLOSE_OVERLOADED = 1013
CLOSE_KICKED = 4001


class Client:
    """Frames are queued, never awaited by the sender: fan-out never waits for the slowest phone."""

    def __init__(
        self,
        send: Callable[[bytes], Awaitable[None]],
        close: Callable[[int], Awaitable[None]],
        queue_limit: int = 100,
        worker: str = "w",
    ) -> None:
        self.id = f"{worker}-{next(_ids)}"
        self.role = ""
        self.code = ""
        self.player = ""
        self.lang = "nl"
        self.last_view: object = None
        self.last_me: dict[str, Any] | None = None
        self._send = send
        self._close = close
        self._queue: asyncio.Queue[bytes | int] = asyncio.Queue(maxsize=queue_limit)
        self.dropped = False
        self.close_code = 1000
        self.writer: asyncio.Task[None] | None = None

    @property
    def attached(self) -> bool:
        return bool(self.role)

    def send(self, data: bytes) -> bool:
        """Queue a frame; a full queue means the phone stopped reading, so it is dropped."""
        if self.dropped:
            return False
        try:
            self._queue.put_nowait(data)
            return True
        except asyncio.QueueFull:
            self.drop(CLOSE_OVERLOADED)
            return False

    def drop(self, code: int) -> None:
        """Close after what is already queued; when the queue is full the socket is stuck, so
        the writer is stopped at once and the connection is ended without waiting for it."""
        if self.dropped:
            return
        self.dropped = True
        try:
            self._queue.put_nowait(code)
        except asyncio.QueueFull:
            self.close_code = code
            if self.writer is not None:
                self.writer.cancel()

    def start_writer(self) -> asyncio.Task[None]:
        self.writer = asyncio.create_task(self._run_writer(), name=f"writer-{self.id}")
        return self.writer

    async def _run_writer(self) -> None:
        """Drain the queue into the socket until a close code arrives."""
        while True:
            item = await self._queue.get()
            if isinstance(item, int):
                self.close_code = item
                await self._close(item)
                return
            await self._send(item)
