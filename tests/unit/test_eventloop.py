"""EagerAcceptLoop (server/web/eventloop.py): uvloop that takes every connection waiting in the
kernel's accept queue at once, where plain uvloop takes one per loop iteration, sets plain HTTP
requests up at once and websocket upgrades as the handshakes in progress leave room. Real
sockets on 127.0.0.1; the loop is blocked while a thread connects, so the connections are all
waiting."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

import pytest

from server.web.eventloop import FEED_BATCH, Drain, EagerAcceptLoop, new_event_loop

WAITING = 300


class Counting(asyncio.Protocol):
    made = 0
    order: ClassVar[list[int]] = []  # client ports, in the order their connections were set up

    transports: ClassVar[list[asyncio.BaseTransport]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        Counting.made += 1
        peer = transport.get_extra_info("peername")  # None: the phone reset already
        Counting.order.append(peer[1] if peer else -1)
        Counting.transports.append(transport)


async def close_all() -> None:
    """The server's side of every connection the test made, closed before the loop ends."""
    for transport in Counting.transports:
        transport.close()
    Counting.transports = []
    for _ in range(5):
        await asyncio.sleep(0.01)


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    async def then_close() -> None:
        try:
            await main()
        finally:
            await close_all()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(then_close())


UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def connect_many(port: int, n: int, out: list[socket.socket], first: bytes = b"") -> None:
    for _ in range(n):
        sock = socket.create_connection(("127.0.0.1", port))
        if first:
            sock.sendall(first)
        out.append(sock)


def queue_up(port: int, n: int, first: bytes = b"") -> list[socket.socket]:
    """`n` connections (each sending `first`) made while the loop is blocked: all of them
    wait in the kernel's accept queue when the loop runs again."""
    clients: list[socket.socket] = []
    thread = threading.Thread(target=connect_many, args=(port, n, clients, first))
    thread.start()
    time.sleep(0.5)
    thread.join()
    return clients


def taken(server: Any) -> int:
    return sum(d.accepted for d in server.drains) + Counting.made


async def accepted_per_iteration(server: Any, port: int) -> list[int]:
    """Block the loop while WAITING connections queue up, then count the connections taken
    from the kernel's queue per loop iteration (at most 10 iterations); then wait (bounded)
    until every one of them is set up."""
    Counting.made, Counting.order = 0, []
    clients = queue_up(port, WAITING)
    counts = []
    try:
        for _ in range(10):
            before = taken(server)
            await asyncio.sleep(0)
            counts.append(taken(server) - before)
            if sum(d.accepted for d in server.drains) + 1 >= WAITING:
                break
        for _ in range(300):  # bounded: 3 s
            if Counting.made >= WAITING:
                break
            await asyncio.sleep(0.01)
        assert Counting.made == WAITING, "not every accepted connection was set up"
    finally:
        for sock in clients:
            sock.close()
    return counts


def test_the_loop_is_the_one_uvicorn_gets() -> None:
    from server.cli import EVENT_LOOP, uvicorn_options
    from server.config import Settings

    assert uvicorn_options(Settings())["loop"] == EVENT_LOOP
    assert isinstance(new_event_loop(), EagerAcceptLoop)


def test_every_waiting_connection_is_accepted_within_a_few_iterations() -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(
            Counting, "127.0.0.1", 0, backlog=2048
        )
        port = server.sockets[0].getsockname()[1]
        counts = await accepted_per_iteration(server, port)
        server.close()
        await server.wait_closed()
        # plain uvloop: [1, 1, 1, ...] (one per iteration, 300 iterations for 300 connections)
        assert len(counts) <= 4, counts

    run(main)


def test_a_server_on_a_socket_it_was_given_drains_too() -> None:
    """uvicorn's workers get their listening socket from the supervisor (`sock=`)."""

    async def main() -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(2048)
        port = listener.getsockname()[1]
        server = await asyncio.get_running_loop().create_server(
            Counting, sock=listener, backlog=2048
        )
        counts = await accepted_per_iteration(server, port)
        server.close()
        await server.wait_closed()
        assert len(counts) <= 4, counts

    run(main)


def test_nothing_is_accepted_once_the_server_is_closed() -> None:
    """The second descriptor on the listening socket is closed with the server: a connection
    after that is refused, not accepted by a drain nobody serves."""

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(
            Counting, "127.0.0.1", 0, backlog=2048
        )
        port = server.sockets[0].getsockname()[1]
        assert server.drains and all(not d.closed for d in server.drains)
        server.close()
        await server.wait_closed()
        assert all(d.closed for d in server.drains)
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection(("127.0.0.1", port), timeout=2),
        ):
            pass

    run(main)


def test_a_connection_gone_before_it_is_set_up_does_not_stop_the_drain() -> None:
    """A phone that connects and resets at once: the drain goes on accepting the next."""

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(
            Counting, "127.0.0.1", 0, backlog=2048
        )
        port = server.sockets[0].getsockname()[1]
        Counting.made = 0
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            sock.close()  # RST
        ok = socket.create_connection(("127.0.0.1", port))
        for _ in range(100):  # bounded: 1 s
            await asyncio.sleep(0.01)
            if Counting.made >= 1 and any(d.accepted for d in server.drains):
                break
        made, by_drain = Counting.made, sum(d.accepted for d in server.drains)
        ok.close()
        server.close()
        await server.wait_closed()
        assert made >= 1 and by_drain >= 1

    run(main)


def test_a_plain_request_is_set_up_before_the_websocket_upgrades_waiting_with_it() -> None:
    """A health check (or a page) that arrives behind 300 websocket upgrades is set up among
    the first, not after all of them."""

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(
            Counting, "127.0.0.1", 0, backlog=2048
        )
        port = server.sockets[0].getsockname()[1]
        Counting.made, Counting.order = 0, []
        clients: list[socket.socket] = []

        def crowd_then_probe() -> None:
            connect_many(port, WAITING, clients, UPGRADE)
            connect_many(port, 1, clients, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")

        thread = threading.Thread(target=crowd_then_probe)
        thread.start()
        time.sleep(0.5)  # noqa: ASYNC251 (the loop is blocked while they queue up)
        thread.join()
        probe_port = clients[-1].getsockname()[1]
        for _ in range(300):  # bounded: 3 s
            if Counting.made >= WAITING + 1:
                break
            await asyncio.sleep(0.01)
        for sock in clients:
            sock.close()
        server.close()
        await server.wait_closed()
        assert Counting.made == WAITING + 1
        # the upgrades are fed FEED_BATCH at a time; the plain request does not wait for them
        assert Counting.order.index(probe_port) <= FEED_BATCH, Counting.order.index(probe_port)

    run(main)


def test_upgrades_wait_while_the_handshakes_leave_no_room_and_close_with_the_server() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        listener = socket.socket()  # only the drain accepts here
        listener.bind(("127.0.0.1", 0))
        listener.listen(2048)
        port = listener.getsockname()[1]
        room = {"open": False}
        drain = Drain(loop, listener.fileno(), Counting, ready=lambda: room["open"])
        Counting.made = 0
        clients = queue_up(port, 40, UPGRADE)
        for _ in range(20):
            await asyncio.sleep(0.005)
        waiting = len(drain.upgrades)
        made_while_full = Counting.made
        room["open"] = True
        for _ in range(200):  # bounded: 2 s
            if not drain.upgrades:
                break
            await asyncio.sleep(0.01)
        assert waiting == 40 and made_while_full == 0
        assert not drain.upgrades
        # now some that never get their turn: closed with the server, not left hanging
        room["open"] = False
        late = queue_up(port, 10, UPGRADE)
        for _ in range(20):
            await asyncio.sleep(0.005)
        queued = len(drain.upgrades)
        drain.close()
        listener.close()
        ended = 0
        for sock in late:
            sock.settimeout(2)
            try:
                ended += sock.recv(1) == b""
            except ConnectionResetError:
                ended += 1
        for sock in clients + late:
            sock.close()
        assert queued == 10 and ended == 10

    run(main)
