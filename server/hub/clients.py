"""One connected browser tab as the hub sees it: role, identity and a bounded send queue."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Awaitable, Callable

_ids = itertools.count(1)

CLOSE_OVERLOADED = 1013
CLOSE_KICKED = 4001


class Client:
    """Frames are queued, never awaited by the sender: fan-out never waits for the slowest phone.

    Kept small (thousands per worker): a plain deque, and a writer task only while frames wait.
    """

    __slots__ = (
        "_close",
        "_limit",
        "_pending",
        "_send",
        "close_code",
        "code",
        "dropped",
        "id",
        "lang",
        "last_me",
        "last_view",
        "player",
        "reader",
        "role",
        "writer",
    )

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
        self.last_me: bytes | None = None  # the packed `me` last sent (without its version)
        self._send = send
        self._close = close
        self._limit = queue_limit
        self._pending: deque[bytes] = deque()
        self.dropped = False
        self.close_code = 1000
        self.writer: asyncio.Task[None] | None = None
        self.reader: asyncio.Task[object] | None = None  # cancelled when the socket is cut

    @property
    def attached(self) -> bool:
        return bool(self.role)

    @property
    def stuck(self) -> bool:
        return len(self._pending) >= self._limit

    def send(self, data: bytes) -> bool:
        """Queue a frame; a full queue means the phone stopped reading, so it is dropped."""
        if self.dropped:
            return False
        if self.stuck:
            self.drop(CLOSE_OVERLOADED)
            return False
        self._pending.append(data)
        if self.writer is None:
            self.writer = asyncio.create_task(self._drain())
        return True

    def drop(self, code: int) -> None:
        """Close after what is already queued; when the queue is full the socket is stuck, so
        the writer and the reader are stopped at once and the connection is cut."""
        if self.dropped:
            return
        self.dropped = True
        self.close_code = code
        if self.stuck:
            if self.writer is not None:
                self.writer.cancel()
            if self.reader is not None:
                self.reader.cancel()
        elif self.writer is None:
            self.writer = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        """Write what is queued; after a drop, end with a close frame."""
        try:
            while self._pending:
                await self._send(self._pending.popleft())
            if self.dropped:
                await self._close(self.close_code)
        finally:
            self.writer = None

    async def stop(self) -> None:
        """Stop the writer (the connection is over)."""
        writer = self.writer
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
