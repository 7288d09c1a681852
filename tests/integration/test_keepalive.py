"""The server's websocket keepalive: a socket that keeps talking (the page's own `ping` every
10 s) is never pinged by the server; a silent one is pinged, and closed when it stops answering.

Real uvicorn on loopback with a short keepalive (KENNISKRING_KEEPALIVE_MS), and the bench's
minimal websocket client, which counts the pings it gets and can stop answering them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest

from bench import wsclient
from tests.support.servers import ServerProcess

KEEPALIVE_S = 0.5
APP_PING = msgpack.packb({"type": "ping"})


@pytest.fixture(scope="module")
def quick_keepalive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"KENNISKRING_KEEPALIVE_MS": str(round(KEEPALIVE_S * 1000))}
    server = ServerProcess(Path(tmp_path_factory.mktemp("keepalive")), env=env).start()
    yield server
    server.stop()


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict[str, object]] = []
        self.proto: wsclient.WsProtocol | None = None

    async def open(self, server: ServerProcess) -> wsclient.WsProtocol:
        self.proto = await wsclient.connect(
            "127.0.0.1", server.port, "/ws", self.on_frame, lambda _reason: None
        )
        return self.proto

    def on_frame(self, _t: float, payload: bytes) -> None:
        self.frames.append(msgpack.unpackb(payload))


async def test_a_talking_socket_is_not_pinged_and_a_silent_one_is(
    quick_keepalive: ServerProcess,
) -> None:
    talking, silent = Socket(), Socket()
    chatty = await talking.open(quick_keepalive)
    quiet = await silent.open(quick_keepalive)
    for _ in range(16):  # 3.2 s: six keepalive intervals
        chatty.send(APP_PING)
        await asyncio.sleep(0.2)
    assert quiet.pings >= 3, quiet.pings
    assert not quiet.closed, quiet.close_reason  # it answers the pings: it stays
    assert chatty.pings == 0
    assert [f["type"] for f in talking.frames].count("pong") >= 15
    # Once the talking socket goes quiet, it is pinged like any other.
    await asyncio.sleep(KEEPALIVE_S * 3)
    assert chatty.pings >= 1 and not chatty.closed
    chatty.close()
    quiet.close()


async def test_a_socket_that_stops_answering_is_closed(quick_keepalive: ServerProcess) -> None:
    dead = Socket()
    proto = await dead.open(quick_keepalive)
    proto.send(APP_PING)
    proto.answer_pings = False  # the phone's network is gone
    for _ in range(40):  # bounded: the pong timeout is one interval after the ping
        if proto.closed:
            break
        await asyncio.sleep(0.1)
    assert proto.closed and "1011" in proto.close_reason, proto.close_reason
    assert proto.pings == 1
