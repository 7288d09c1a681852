"""A lean RFC 6455 websocket client on asyncio.Protocol: thousands of phones in one process.

The load generator must not be what limits the figures, so a phone is one Protocol object, one
transport and no task: frames are parsed in `data_received` and handed to a callback together with
one `time.time()` stamp per read. It speaks only what the bench needs: binary frames out (masked, as
a client must), binary/text frames in, ping → pong, close.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import socket
import time
from collections.abc import Callable

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEADER = 16 * 1024

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

FrameCallback = Callable[[float, bytes], None]
CloseCallback = Callable[[str], None]


class HandshakeError(Exception):
    pass


def _mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    if n == 0:
        return payload
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big")


def encode_frame(payload: bytes, opcode: int = OP_BINARY) -> bytes:
    """One final, masked client frame."""
    n = len(payload)
    head = bytearray([0x80 | opcode])
    if n < 126:
        head.append(0x80 | n)
    elif n < 1 << 16:
        head.append(0x80 | 126)
        head += n.to_bytes(2, "big")
    else:
        head.append(0x80 | 127)
        head += n.to_bytes(8, "big")
    key = os.urandom(4)
    return bytes(head) + key + _mask(payload, key)


class WsProtocol(asyncio.Protocol):
    """One websocket connection; `on_frame(t, payload)` gets every complete data message."""

    def __init__(
        self, host: str, port: int, path: str, on_frame: FrameCallback, on_close: CloseCallback
    ) -> None:
        self.host, self.port, self.path = host, port, path
        self.on_frame = on_frame
        self.on_close = on_close
        self.transport: asyncio.Transport | None = None
        self.open_waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._key = base64.b64encode(os.urandom(16))
        self._buf = bytearray()
        self._handshaken = False
        self._fragments: list[bytes] = []
        self.closed = False
        self.close_reason = ""
        self.pings = 0  # websocket pings the server sent
        self.answer_pings = True  # False: a phone whose network died (tests)

    # ---- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self._key.decode()}\r\nSec-WebSocket-Version: 13\r\n"
            "User-Agent: kenniskring-bench\r\n\r\n"
        )
        self._write(request.encode())

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self._buf
        buf += data
        if not self._handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEADER:
                    self._fail("handshake: header too large")
                return
            head = bytes(buf[:end]).decode("latin-1")
            del buf[: end + 4]
            status = head.split("\r\n", 1)[0]
            if " 101 " not in status + " ":
                self._fail(f"handshake: {status}")
                return
            expected = base64.b64encode(hashlib.sha1(self._key + GUID).digest()).decode()
            if expected.lower() not in head.lower():
                self._fail("handshake: bad Sec-WebSocket-Accept")
                return
            self._handshaken = True
            if not self.open_waiter.done():
                self.open_waiter.set_result(None)
        self._parse(now)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.closed = True
            self.close_reason = self.close_reason or (str(exc) if exc else "connection lost")
        if not self.open_waiter.done():
            self.open_waiter.set_exception(HandshakeError(self.close_reason))
        self.on_close(self.close_reason)

    # ---- frames -----------------------------------------------------------------------------
    def _parse(self, now: float) -> None:
        buf = self._buf
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            key = b""
            if b1 & 0x80:  # servers must not mask, but be lenient
                if size - pos < head + 4:
                    break
                key = bytes(buf[pos + head : pos + head + 4])
                head += 4
            if size - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            if key:
                payload = _mask(payload, key)
            pos += head + length
            self._frame(now, b0 & 0x80, b0 & 0x0F, payload)
            if self.closed:
                break
        if pos:
            del buf[:pos]

    def _frame(self, now: float, fin: int, opcode: int, payload: bytes) -> None:
        if opcode in (OP_BINARY, OP_TEXT):
            if fin:
                self.on_frame(now, payload)
            else:
                self._fragments = [payload]
        elif opcode == OP_CONT:
            self._fragments.append(payload)
            if fin:
                whole = b"".join(self._fragments)
                self._fragments = []
                self.on_frame(now, whole)
        elif opcode == OP_PING:
            self.pings += 1
            if self.answer_pings:
                self._write(encode_frame(payload, OP_PONG))
        elif opcode == OP_CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.close_reason = f"closed by server ({code})"
            self.closed = True
            self._write(encode_frame(payload[:2], OP_CLOSE))
            if self.transport is not None:
                self.transport.close()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _fail(self, reason: str) -> None:
        self.close_reason = reason
        self.closed = True
        if not self.open_waiter.done():
            self.open_waiter.set_exception(HandshakeError(reason))
        if self.transport is not None:
            self.transport.close()

    # ---- public -----------------------------------------------------------------------------
    def send(self, payload: bytes) -> bool:
        if self.closed or self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(encode_frame(payload))
        return True

    def close(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if not self.closed:
            self.closed = True
            self.close_reason = "closed by client"
            self.transport.write(encode_frame((1000).to_bytes(2, "big"), OP_CLOSE))
        self.transport.close()


def socket_path(room: str) -> str:
    """The websocket path of a room's sockets, as the browser client asks for it
    (client_static/js/connection.js): `/ws?room=CODE`, for a balancer with room affinity."""
    return f"/ws?room={room}"


async def connect(
    host: str,
    port: int,
    path: str,
    on_frame: FrameCallback,
    on_close: CloseCallback,
    limit_s: float = 10.0,
) -> WsProtocol:
    """Open a socket and finish the upgrade; raises OSError, HandshakeError or TimeoutError."""
    loop = asyncio.get_running_loop()

    async def _open() -> WsProtocol:
        _, protocol = await loop.create_connection(
            lambda: WsProtocol(host, port, path, on_frame, on_close), host, port
        )
        await protocol.open_waiter
        return protocol

    return await asyncio.wait_for(_open(), limit_s)
