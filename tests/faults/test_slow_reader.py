"""Fault: a client that stops reading is dropped after its send queue fills; others carry on."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
from pathlib import Path

import httpx
import msgpack

from tests.conftest import FAST_QUIZ, create_room, upload
from tests.support.phones import Host, Phone
from tests.support.servers import ServerProcess

PHONES = 150
TOGGLES = 1000  # bounded: ~10 MB of host views, more than loopback's 4 MB socket buffers


def _stalled_host(port: int, code: str, secret: str) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:  # like a browser: no frame before the 101
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101")
    payload = msgpack.packb({"type": "hello", "role": "host", "room": code, "secret": secret})
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x82, 0x80 | len(payload)]) + mask + masked)
    return sock


def _connections(server: ServerProcess) -> int:
    return int(httpx.get(f"{server.base}/healthz").json()["connections"])


async def test_stalled_host_socket_is_dropped_and_never_delays_others(tmp_path: Path) -> None:
    server = ServerProcess(
        tmp_path, env={"KENNISKRING_COALESCE_MS": "5", "KENNISKRING_SEND_QUEUE": "50"}
    ).start()
    try:
        room = create_room(server.base, upload(server.base, FAST_QUIZ))
        code = room["code"]
        host = await Host(server.ws_url).open()
        await host.attach(code, room["host_secret"])
        phones = [await Phone(server.ws_url).open() for _ in range(PHONES)]
        await asyncio.gather(
            *(p.join(code, f"Deelnemer lange naam {i:02d}") for i, p in enumerate(phones))
        )

        # The stalled client: a raw socket with a tiny receive buffer that sends its hello and
        # then never reads, so the server's writes to it back up.
        stalled = _stalled_host(server.port, code, room["host_secret"])
        async with asyncio.timeout(10):
            while _connections(server) != PHONES + 2:
                await asyncio.sleep(0.05)

        dropped_after = None
        for i in range(TOGGLES):
            mark = len(host.frames)
            await host.control("lock" if i % 2 == 0 else "unlock")
            await host.wait_for(
                lambda f, locked=(i % 2 == 0): (
                    f.get("type") == "view" and f["room"]["locked"] is locked
                ),
                since=mark,
            )
            if i % 20 == 19 and _connections(server) == PHONES + 1:
                dropped_after = i + 1
                break
        # The hub gave up on the stalled socket (only the phones and the healthy host remain),
        # while the healthy host saw every single toggle.
        assert dropped_after is not None, "the stalled socket was never dropped"
        assert host.view is not None and host.view["room"]["locked"] is False
        healthy_bytes = sum(len(msgpack.packb(f)) for f in host.frames)
        # The stalled socket got less than the healthy host: frames after the drop went nowhere.
        stalled.setblocking(False)
        received = 0
        with contextlib.suppress(BlockingIOError, ConnectionResetError):
            while chunk := stalled.recv(1 << 20):
                received += len(chunk)
        stalled.close()
        assert received < healthy_bytes, (received, healthy_bytes)

        # Phones were never held up: each still answers at once and sees the next question.
        await host.control("start")
        views = await asyncio.gather(*(p.wait_view("question", index=0) for p in phones))
        assert len(views) == PHONES
        acks = await asyncio.gather(*(p.answer(0, choice=0) for p in phones))
        assert all(a["type"] == "ack" for a in acks)
        for client in [*phones, host]:
            await client.close()
    finally:
        server.stop()
