"""EagerAcceptLoop (server/web/eventloop.py): uvloop that takes every connection waiting in the
kernel's accept queue at once, where plain uvloop takes one per loop iteration. Real sockets on
127.0.0.1; the loop is blocked while a thread connects, so the connections are all waiting."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from server.web.eventloop import EagerAcceptLoop, new_event_loop

WAITING = 300


class Counting(asyncio.Protocol):
    made = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        Counting.made += 1


def run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())


def connect_many(port: int, n: int, out: list[socket.socket]) -> None:
    for _ in range(n):
        sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        out.append(sock)


async def accepted_per_iteration(server: Any, port: int) -> list[int]:
    """Block the loop while WAITING connections queue up, then count connection_made per
    loop iteration (at most 10 iterations)."""
    Counting.made = 0
    clients: list[socket.socket] = []
    thread = threading.Thread(target=connect_many, args=(port, WAITING, clients))
    thread.start()
    time.sleep(0.5)  # noqa: ASYNC251 (blocks the loop on purpose: the connections queue up)
    thread.join()
    counts = []
    try:
        for _ in range(10):
            before = Counting.made
            await asyncio.sleep(0)
            counts.append(Counting.made - before)
            if Counting.made >= WAITING:
                break
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
        assert sum(counts) == WAITING, counts
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
        assert sum(counts) == WAITING and len(counts) <= 4, counts

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
