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

from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
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
        self, payloads: Iterable[bytes], framed: dict[int, tuple[bytes, bytes]]
    ) -> bool:
        """Write each payload as one binary message, all in one transport write; False (nothing
        written) when the caller must go through the ASGI `send` instead."""
        conn = self.conn
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or not self.writable.is_set()
            or self.transport.is_closing()
            or conn.state is not State.OPEN
            or conn.expect_continuation_frame
            or conn.extensions
        ):
            return False
        out = []
        for payload in payloads:
            hit = framed.get(id(payload))
            if hit is not None and hit[0] is payload:
                out.append(hit[1])
                continue
            data = Frame(Opcode.BINARY, payload).serialize(mask=False, extensions=[])
            framed[id(payload)] = (payload, data)  # holds the payload: its id stays unique
            out.append(data)
        if out:
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])
        return True
