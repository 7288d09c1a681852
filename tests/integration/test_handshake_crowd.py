"""The handshake gate on a real server (uvicorn in this test's loop, real websocket clients):
with room for 2 handshakes at a time, 30 phones joining at once all get in, in order, the
gate never holds more than 2, and phones that hang up while waiting give their turn away."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx

from server.web.handshakes import HANDSHAKE_LIMIT, gate_for
from tests.conftest import FAST_QUIZ
from tests.support.phones import Phone
from tests.support.servers import in_process

UPGRADE = (
    "GET /ws HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def test_a_crowd_joining_at_once_passes_the_gate_two_at_a_time(tmp_path: Path) -> None:
    gate = gate_for(asyncio.get_running_loop())
    gate.limit, gate.peak, gate.waited = 2, 0, 0
    try:
        async with in_process(tmp_path) as (address, _):
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                quiz = (await http.post("/api/quizzes", json=FAST_QUIZ)).json()["id"]
                code = (await http.post("/api/rooms", json={"quiz_id": quiz})).json()["code"]
            # five that ask for a websocket and hang up at once, some while waiting their turn
            host, port = address.split(":")
            quitters = []
            for _ in range(5):
                sock = socket.create_connection((host, int(port)))
                sock.sendall(UPGRADE.format(address=address).encode())
                quitters.append(sock)
            phones = [Phone(f"ws://{address}/ws") for _ in range(30)]
            await asyncio.gather(*(p.open() for p in phones))
            for sock in quitters:
                sock.close()
            welcomes = await asyncio.wait_for(
                asyncio.gather(*(p.join(code, f"Speler {n}") for n, p in enumerate(phones))), 30
            )
            assert all(w["type"] == "welcome" for w in welcomes)
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                health = (await http.get("/healthz")).json()
            assert health["connections"] == 30
            assert gate.peak == 2, "more handshakes at once than the gate allows"
            assert gate.waited > 0, "nobody waited: the crowd was not a crowd"
            for _ in range(100):  # bounded: the quitters' connections end
                if not gate.busy:
                    break
                await asyncio.sleep(0.02)
            assert not gate.busy and gate.active == 0, "a slot was kept by a phone that left"
            await asyncio.gather(*(p.close() for p in phones))
    finally:
        gate.limit = HANDSHAKE_LIMIT
