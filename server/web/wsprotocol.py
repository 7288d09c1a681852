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

import struct
from collections.abc import Sequence
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

EXTENSION = "kenniskring.frames"
PROTOCOL_PATH = "server.web.wsprotocol:FrameWritingProtocol"


# What write_frames reads of uvicorn's protocol (uvicorn >= 0.52.1 has all of it); a uvicorn that
# lacks any of it gets no extension, and frames go through ASGI as usual.
_NEEDS = ("conn", "transport", "writable", "handshake_complete", "close_sent", "disconnected")


class FrameWritingProtocol(WebSocketsSansIOProtocol):
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
