"""uvicorn's websocket protocol with one addition: whole frames written without a task per frame.

A broadcast to 2,000 phones through ASGI costs one `await send(...)` per frame per phone: a task
step, Starlette's state checks and uvicorn's `send`, before the one `transport.write` that does the
work. This protocol offers that write directly, as the ASGI extension `kenniskring.frames` in the
scope: `write(payloads, framed)` frames the payloads as binary messages and writes them with one
`transport.write`, synchronously, or returns False when it cannot (the socket is paused because the
phone is not reading, closing, or not plainly open). The caller then uses the normal ASGI `send`,
which waits for the socket to drain. A server frame is not masked and, without extensions, is the
same bytes for every socket: `framed` caches it per payload object for one broadcast.

Selected with uvicorn's `ws=` option (see `server.cli.uvicorn_options`); under any other server
the extension is absent and everything goes through ASGI.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Sequence
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.protocol import State

from .handshakes import gate_for

log = logging.getLogger("kenniskring.ws")

EXTENSION = "kenniskring.frames"

# The page's `ping` as msgpack encodes it ({"type": "ping"}), and its `pong`. Every page sends one
# every 10 s: the most frequent frame of a quiet room, answered here without the app
# (`FrameWritingProtocol.handle_bytes`) up to PINGS_PER_WINDOW per socket per PING_WINDOW_S;
# more reach the app's `ping` handler behind its rate limit (ws.py).
PAGE_PING = b"\x81\xa4type\xa4ping"
PAGE_PONG = b"\x81\xa4type\xa4pong"
PINGS_PER_WINDOW = 4
PING_WINDOW_S = 10.0
PROTOCOL_PATH = "server.web.wsprotocol:FrameWritingProtocol"


# What write_frames reads of uvicorn's protocol (uvicorn >= 0.52.1 has all of it); a uvicorn that
# lacks any of it gets no extension, and frames go through ASGI as usual.
_NEEDS = ("conn", "transport", "writable", "handshake_complete", "close_sent", "disconnected")


class FrameWritingProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.gate = gate_for(self.loop)
        self.in_gate = False  # holds one of the gate's slots
        self.held: list[bytes] | None = None  # bytes read while waiting for a slot
        self.app_done = False
        self.heard_at = 0.0  # when the phone last sent anything (loop time)
        self.ping_window = (0.0, 0)  # (start, page pings answered here since)

    # ---- the handshake gate (server/web/handshakes.py) ----
    def data_received(self, data: bytes) -> None:
        self.heard_at = self.loop.time()
        if self.held is not None:
            self.held.append(data)
            return
        if not self.handshake_initiated and not self.in_gate:
            if not self.gate.enter():
                self.held = [data]
                self.transport.pause_reading()
                self.gate.wait(self._start_handshake)
                return
            self.in_gate = True
        super().data_received(data)

    def _start_handshake(self) -> bool:
        """Our turn in the gate: go on with the request read while waiting (False if the phone
        is gone by now: the slot goes to the next one)."""
        if self.disconnected or self.transport.is_closing():
            self.held = None
            return False
        held, self.held = self.held or [], None
        self.in_gate = True
        self.transport.resume_reading()
        try:
            super().data_received(b"".join(held))
        except Exception:  # as uvicorn would have met it, but here no caller would log it
            log.exception("websocket handshake failed")
            self.transport.close()  # connection_lost frees the slot
            return True
        if self.handshake_complete:  # refused on the spot (bad request, not a websocket)
            self._leave_gate()
        return True

    def _leave_gate(self) -> None:
        if self.in_gate:
            self.in_gate = False
            self.gate.leave()

    def start_keepalive(self) -> None:
        # uvicorn calls this right after writing the 101: the handshake is over. (A refusal
        # ends in connection_lost or on_task_complete.) No wrapper around every `send`.
        super().start_keepalive()
        self._leave_gate()

    # ---- the page's ping, answered without the app ----
    def handle_bytes(self, event: Any) -> None:
        if event.fin and event.data == PAGE_PING and self._pong():
            return
        super().handle_bytes(event)

    def _pong(self) -> bool:
        """Answer a page's `ping` here: no queue, no pause and resume of reading, no task step
        of the app. Past PINGS_PER_WINDOW in a window (the page sends one per 10 s, a few more
        after a screen unlock) they go through the app, whose rate limit deals with a flood."""
        now = self.loop.time()
        start, count = self.ping_window
        if now - start >= PING_WINDOW_S:
            start, count = now, 0
        if count >= PINGS_PER_WINDOW or self.close_sent or self.transport.is_closing():
            return False
        self.ping_window = (start, count + 1)
        self.transport.write(binary_frame(PAGE_PONG))
        return True

    # ---- keepalive: a ping only after a silence ----
    def send_keepalive_ping(self) -> None:
        """uvicorn pings every socket every interval. A phone that sent anything within the
        interval is alive, and the page sends its own `ping` every 10 s, so a browser's socket is
        only pinged here when it went quiet: the ping waits until the interval after what was
        last heard. A silent socket is pinged and closed as before, at most one interval after
        its last frame plus the pong timeout."""
        interval = self.ping_interval
        if interval and not self.close_sent:
            quiet = self.loop.time() - self.heard_at
            if quiet < interval:
                self.ping_timer = self.loop.call_later(interval - quiet, self.send_keepalive_ping)
                return
        super().send_keepalive_ping()

    def on_task_complete(self, task: asyncio.Task[None]) -> None:
        super().on_task_complete(task)
        self._leave_gate()  # the app ended without a handshake (an error, a 500)
        self.app_done = True
        self._let_go()

    def connection_lost(self, exc: Exception | None) -> None:
        self.held = None
        self._leave_gate()
        super().connection_lost(exc)
        self._let_go()

    def _let_go(self) -> None:
        """Once the socket is gone and the app is done with it: break the one reference cycle
        this protocol is in (the scope's frame-writing extension holds our bound method), so
        reference counting frees the connection at once instead of a full garbage collection
        later (see server/web/httpprotocol.py for the other half)."""
        if self.disconnected and self.app_done:
            scope = getattr(self, "scope", None)
            if scope is not None:
                scope["extensions"].pop(EXTENSION, None)

    # ---- direct frame writes ----
    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is None:  # the handshake was refused before a scope existed
            return
        if all(hasattr(self, name) for name in _NEEDS):
            scope["extensions"][EXTENSION] = {"write": self.write_frames}

    def write_frames(
        self, payloads: Sequence[bytes], framed: dict[int, tuple[bytes, bytes]]
    ) -> bool:
        """Write each payload as one binary message, all in one transport write; False (nothing
        written) when the caller must go through the ASGI `send` instead."""
        conn = self.conn
        transport = self.transport
        if (
            self.close_sent
            or self.disconnected
            or not self.handshake_complete
            or not self.writable.is_set()
            or transport.is_closing()
            or conn.state is not State.OPEN
            or conn.expect_continuation_frame
            or conn.extensions
        ):
            return False
        if len(payloads) == 1:  # the usual case: one broadcast frame
            transport.write(_framed(payloads[0], framed))
        elif payloads:
            transport.write(b"".join([_framed(payload, framed) for payload in payloads]))
        return True


def binary_frame(payload: bytes) -> bytes:
    """`payload` as one unmasked, final binary frame without extensions (RFC 6455 5.2): the
    bytes `websockets.frames.Frame(Opcode.BINARY, payload).serialize(mask=False,
    extensions=[])` makes, at a fifth of its cost (it is called once per personal frame)."""
    n = len(payload)
    if n < 126:
        return _SHORT[n] + payload
    if n < 0x10000:
        return _MEDIUM.pack(0x82, 126, n) + payload
    return _LONG.pack(0x82, 127, n) + payload


_SHORT = [bytes((0x82, n)) for n in range(126)]
_MEDIUM = struct.Struct("!BBH")
_LONG = struct.Struct("!BBQ")


def _framed(payload: bytes, framed: dict[int, tuple[bytes, bytes]]) -> bytes:
    """The frame of `payload`, made once per broadcast for a payload that many sockets share."""
    hit = framed.get(id(payload))
    if hit is not None and hit[0] is payload:
        return hit[1]
    data = binary_frame(payload)
    framed[id(payload)] = (payload, data)  # holds the payload: its id stays unique
    return data
