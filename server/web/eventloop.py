"""uvloop, but accepting every connection that waits instead of one per loop iteration.

libuv accepts one connection each time the loop polls (libuv pull request 3696, "don't accept()
connections in a loop"; so does the libuv that uvloop 0.23 bundles). When 2,000 phones
reconnect at once (a venue's Wi-Fi came back), the connections queue in the kernel's accept
queue and the worker takes them one per iteration, while each iteration also does the
handshake work of the ones taken before. Measured on one pinned worker (`python -m bench storm
--phones 2000 --pin`): the accept queue held 1,491 connections and drained at 600-1,000 a
second, and a health check that arrived behind them waited 1.7-2.3 s although the loop never
stalled for more than 0.45 s.

`EagerAcceptLoop` is uvloop with one change: every TCP server it creates also watches its
listening socket through a second descriptor (`Drain`) and, each time it is readable, accepts
what is waiting. Each connection is sorted by its first bytes, read with MSG_PEEK and left in
the socket: a plain HTTP request (a page, the API, a health check) is handed to the protocol
factory at once (`connect_accepted_socket`); a websocket upgrade, or a connection that has sent
nothing yet, waits in a lane and is handed over `FEED_BATCH` at a time while the handshake gate
(server/web/handshakes.py) has room. A storm's 2,000 set-ups then no longer sit between a health
check and its answer. uvloop's own accept stays in place: whichever runs first takes a
connection, the kernel gives each to exactly one. Closing the server closes the second
descriptor and the connections still waiting in the lane, so nothing is accepted after uvicorn
stops listening. TLS servers are left to uvloop alone (Kenniskring runs behind a proxy that
ends TLS).

uvicorn selects it with `loop="server.web.eventloop:new_event_loop"` (`server.cli`).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import uvloop

from .handshakes import gate_for

log = logging.getLogger("kenniskring.accept")

# Per readiness of the listening socket. Accepting and looking at the first bytes is cheap (the
# set-up of a connection is what costs), so a whole storm is taken in one or two iterations.
ACCEPT_BATCH = 1024
# Websocket upgrades set up per turn of the feeder, and how often it looks again while some wait.
FEED_BATCH = 16
FEED_EVERY_S = 0.002
# Out of file descriptors: stop accepting here for a moment (uvloop's own accept goes on).
RETRY_AFTER_S = 1.0
_OUT_OF_FDS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def wants_websocket(conn: socket.socket) -> bool:
    """Whether a just-accepted connection asks for a websocket (or has not said anything yet),
    from its first bytes, left in the socket for the protocol to read."""
    try:
        head = conn.recv(2048, socket.MSG_PEEK)
    except (BlockingIOError, InterruptedError):
        return True  # nothing yet: a phone that connected but has not sent its upgrade
    except OSError:
        return False  # reset already: set up at once, it closes at once
    return b"websocket" in head.lower()


class Drain:
    """Accepts what waits on one listening socket, through a descriptor of its own, in two
    lanes: a plain HTTP request (a page, the API, a health check) is set up at once; a
    websocket upgrade waits its turn in `upgrades` and is set up when `ready()` says the
    handshakes in progress leave room (`FEED_BATCH` at a time)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        listener_fd: int,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        ready: Callable[[], bool] = lambda: True,
        batch: int = ACCEPT_BATCH,
    ) -> None:
        self.loop = loop
        self.sock = socket.socket(fileno=os.dup(listener_fd))
        self.sock.setblocking(False)
        self.factory = protocol_factory
        self.ready = ready
        self.batch = batch
        self.accepted = 0
        self.upgrades: deque[socket.socket] = deque()
        self.closed = False
        self._retry: asyncio.TimerHandle | None = None
        self._feeder: asyncio.TimerHandle | None = None
        loop.add_reader(self.sock.fileno(), self.accept)

    def accept(self) -> None:
        try:
            for _ in range(self.batch):
                try:
                    conn, _address = self.sock.accept()
                except (BlockingIOError, InterruptedError):
                    return
                except ConnectionAbortedError:
                    continue
                except OSError as exc:
                    if exc.errno in _OUT_OF_FDS:
                        log.warning("accepting paused for %.0f s: %s", RETRY_AFTER_S, exc)
                        self.loop.remove_reader(self.sock.fileno())
                        self._retry = self.loop.call_later(RETRY_AFTER_S, self._resume)
                        return
                    raise
                conn.setblocking(False)
                self.accepted += 1
                if wants_websocket(conn):
                    self.upgrades.append(conn)
                else:
                    self._set_up(conn)
        finally:
            self._feed()

    def _feed(self) -> None:
        self._feeder = None
        for _ in range(FEED_BATCH):
            if not self.upgrades or not self.ready():
                break
            self._set_up(self.upgrades.popleft())
        if self.upgrades and not self.closed:
            self._feeder = self.loop.call_later(FEED_EVERY_S, self._feed)

    def _set_up(self, conn: socket.socket) -> None:
        task = self.loop.create_task(self.loop.connect_accepted_socket(self.factory, conn))
        task.add_done_callback(_report)

    def _resume(self) -> None:
        self._retry = None
        if not self.closed:
            self.loop.add_reader(self.sock.fileno(), self.accept)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for timer in (self._retry, self._feeder):
            if timer is not None:
                timer.cancel()
        self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
        while self.upgrades:  # never set up: the phones reconnect elsewhere
            self.upgrades.popleft().close()


def _report(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.warning("an accepted connection could not be set up: %r", exc)


class DrainedServer:
    """The server uvloop made, with its drains: closing it closes both."""

    def __init__(self, server: Any, drains: Sequence[Drain]) -> None:
        self._server = server
        self.drains = list(drains)

    def close(self) -> None:
        for drain in self.drains:
            drain.close()
        self._server.close()

    def __getattr__(self, name: str) -> Any:  # sockets, wait_closed, serve_forever, ...
        return getattr(self._server, name)

    async def __aenter__(self) -> DrainedServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
        await self._server.wait_closed()


class EagerAcceptLoop(uvloop.Loop):
    async def create_server(
        self, protocol_factory: Callable[[], asyncio.BaseProtocol], *args: Any, **kwargs: Any
    ) -> Any:
        server: Any = await super().create_server(protocol_factory, *args, **kwargs)
        if kwargs.get("ssl") is not None:
            return server
        gate = gate_for(self)
        drains = [
            Drain(self, sock.fileno(), protocol_factory, ready=gate.has_room)
            for sock in server.sockets
            if sock.family in (socket.AF_INET, socket.AF_INET6)
        ]
        return DrainedServer(server, drains)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The loop factory uvicorn's `loop=` option takes."""
    return EagerAcceptLoop()
