"""One connected browser tab as the hub sees it: role, identity and a bounded send queue.

Frames queued during one event-loop turn (a broadcast, a reply) are written at the end of that
turn by the `Outbox`: one synchronous write per socket when the transport offers one (see
`server.web.wsprotocol`), else, and whenever the socket is not draining, through a writer task
that awaits the transport. No task per frame, and fan-out never waits for the slowest phone."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

_ids = itertools.count(1)
log = logging.getLogger("kenniskring.clients")

# Writes whole frames at once if it can; False means "use the async send".
WriteFrames = Callable[[Sequence[bytes], dict[int, tuple[bytes, bytes]]], bool]


class Outbox:
    """Clients with queued frames, flushed once at the end of the current event-loop turn.

    A renderer may hold the cyclic garbage collector off until the flush (`hold_gc`): with
    thousands of sockets a young-generation pass costs about 10 ms, and one that falls between
    building a broadcast and writing it delays every phone; after the flush it delays none.
    """

    __slots__ = ("_due", "_gc_held", "_scheduled")

    def __init__(self) -> None:
        self._due: list[Client] = []
        self._scheduled = False
        self._gc_held = False

    def hold_gc(self) -> None:
        """No garbage collection until the next flush (or `release_gc`)."""
        if not self._gc_held and gc.isenabled():
            gc.disable()
            self._gc_held = True

    def release_gc(self) -> None:
        if self._gc_held:
            self._gc_held = False
            gc.enable()

    @contextlib.contextmanager
    def gc_held(self) -> Iterator[None]:
        """`hold_gc` for a block that queues or writes frames; given back at its end when
        nothing was left queued (else the flush gives it back)."""
        self.hold_gc()
        try:
            yield
        finally:
            if not self._scheduled:
                self.release_gc()

    @property
    def scheduled(self) -> bool:
        return self._scheduled

    def add(self, client: Client) -> None:
        self._due.append(client)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def broadcast(self, clients: Iterable[Client], data: bytes) -> None:
        """`data` to every client, written at once where nothing waits before it, else queued
        behind what waits (so each socket keeps its order). For a big room's shared view: the
        first phone gets it without waiting for the frames of the thousands after it to be
        queued, and there is no second pass over them at the end of the turn."""
        framed: dict[int, tuple[bytes, bytes]] = {}  # the frame is made once
        for client in clients:
            client.send_now(data, framed)

    def flush(self) -> None:
        due, self._due = self._due, []
        self._scheduled = False
        framed: dict[int, tuple[bytes, bytes]] = {}  # a shared payload is framed once
        try:
            for client in due:  # Client.flush, inlined: this runs once per socket per broadcast
                client._due = False
                pending = client._pending
                if client.writer is not None or not pending:
                    continue
                write = client._write
                try:
                    if write is not None and write(pending, framed):
                        pending.clear()
                        continue
                except Exception:  # one broken socket must not keep the others' frames back
                    log.exception("direct write to %s failed", client.id)
                client.writer = asyncio.create_task(client._drain())
        finally:
            self.release_gc()


CLOSE_OVERLOADED = 1013
CLOSE_KICKED = 4001


class Client:
    """Frames are queued, never awaited by the sender: fan-out never waits for the slowest phone.

    Kept small (thousands per worker): a plain deque, and a writer task only while frames wait.
    """

    __slots__ = (
        "_close",
        "_due",
        "_limit",
        "_outbox",
        "_pending",
        "_send",
        "_write",
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
        outbox: Outbox | None = None,
        write: WriteFrames | None = None,
    ) -> None:
        self.id = f"{worker}-{next(_ids)}"
        self.role = ""
        self.code = ""
        self.player = ""
        self.lang = "nl"
        self.last_view: object = None
        self.last_me: dict[str, Any] | None = None  # the `me` last sent (without its version)
        self._send = send
        self._close = close
        self._limit = queue_limit
        self._outbox = outbox or Outbox()
        self._write = write
        self._due = False
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
        pending = self._pending  # called once per socket per broadcast: kept lean
        if len(pending) >= self._limit:
            self.drop(CLOSE_OVERLOADED)
            return False
        pending.append(data)
        if not self._due and self.writer is None:
            self._due = True
            self._outbox.add(self)
        return True

    def send_now(self, data: bytes, framed: dict[int, tuple[bytes, bytes]] | None = None) -> bool:
        """`data` written at once when nothing waits before it, else queued behind what waits
        (`send`). For a shared view (`Outbox.broadcast`, with one `framed` for all its
        sockets: the frame is made once) and for the reply to this socket's own request (an
        `ack`, an error): `send` leaves the write to the outbox's flush at the next loop turn,
        and on a busy worker that turn is part of what an ack waits for."""
        write = self._write
        if self._pending or self.writer is not None or write is None or self.dropped:
            return self.send(data)
        try:
            if write((data,), {} if framed is None else framed):
                return True
        except Exception:
            log.exception("direct write to %s failed", self.id)
        return self.send(data)

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
        except Exception as exc:
            # The socket is gone (the phone left mid-write): nothing more can be written, and
            # nobody awaits this task, so the error ends here instead of in "Task exception was
            # never retrieved" at garbage collection.
            self._pending.clear()
            log.debug("writer of %s ended: %s", self.id, type(exc).__name__)
        finally:
            self.writer = None

    async def stop(self) -> None:
        """Stop the writer (the connection is over)."""
        writer = self.writer
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer
