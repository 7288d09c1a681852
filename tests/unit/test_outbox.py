"""The Outbox (server/hub/clients.py): frames queued in one loop turn leave in one write per
socket, in order; a socket that cannot take a direct write falls back to the async send; the
garbage collector held off for a broadcast is always given back."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterable

from server.hub.clients import CLOSE_OVERLOADED, Client, Outbox


class Wire:
    """The transport side of one socket: what was written directly, and what went by `send`."""

    def __init__(self, direct: bool = True) -> None:
        self.direct = direct
        self.writes: list[list[bytes]] = []
        self.sent: list[bytes] = []
        self.closed: list[int] = []

    def write(self, frames: Iterable[bytes], framed: dict[int, tuple[bytes, bytes]]) -> bool:
        if not self.direct:
            return False
        self.writes.append(list(frames))
        return True

    async def send(self, data: bytes) -> None:
        self.sent.append(data)

    async def close(self, code: int) -> None:
        self.closed.append(code)


def client(outbox: Outbox, wire: Wire, limit: int = 100) -> Client:
    return Client(wire.send, wire.close, limit, outbox=outbox, write=wire.write)


async def test_frames_of_one_turn_leave_in_one_write_per_socket() -> None:
    outbox = Outbox()
    wires = [Wire(), Wire()]
    a, b = (client(outbox, w) for w in wires)
    a.send(b"view")
    b.send(b"view")
    a.send(b"me-a")
    assert wires[0].writes == [] and wires[1].writes == []  # nothing before the turn ends
    await asyncio.sleep(0)
    assert wires[0].writes == [[b"view", b"me-a"]]
    assert wires[1].writes == [[b"view"]]
    a.send(b"ack")
    await asyncio.sleep(0)
    assert wires[0].writes[-1] == [b"ack"]


async def test_a_socket_without_a_direct_write_gets_its_frames_by_send_in_order() -> None:
    outbox = Outbox()
    wire = Wire(direct=False)
    c = client(outbox, wire)
    for frame in (b"1", b"2", b"3"):
        c.send(frame)
    for _ in range(5):
        await asyncio.sleep(0)
    assert wire.sent == [b"1", b"2", b"3"] and wire.writes == []


async def test_a_full_queue_cuts_the_socket() -> None:
    outbox = Outbox()
    wire = Wire(direct=False)
    c = client(outbox, wire, limit=3)
    assert all(c.send(b"x") for _ in range(3))
    assert c.send(b"one too many") is False
    assert c.dropped and c.close_code == CLOSE_OVERLOADED


async def test_the_garbage_collector_is_held_until_the_flush() -> None:
    assert gc.isenabled()
    outbox = Outbox()
    wire = Wire()
    c = client(outbox, wire)
    outbox.hold_gc()
    c.send(b"view")
    assert not gc.isenabled()
    await asyncio.sleep(0)
    assert wire.writes == [[b"view"]]
    assert gc.isenabled()


async def test_the_garbage_collector_comes_back_when_a_write_fails() -> None:
    outbox = Outbox()

    def broken(frames: Iterable[bytes], framed: dict[int, tuple[bytes, bytes]]) -> bool:
        raise RuntimeError("transport gone")

    c = Client(Wire().send, Wire().close, outbox=outbox, write=broken)
    outbox.hold_gc()
    c.send(b"view")
    loop = asyncio.get_running_loop()
    errors: list[object] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    await asyncio.sleep(0)
    assert gc.isenabled()
    assert errors  # the failure is reported, not swallowed


async def test_holding_twice_and_releasing_without_a_hold_are_harmless() -> None:
    outbox = Outbox()
    outbox.hold_gc()
    outbox.hold_gc()
    assert not gc.isenabled()
    outbox.release_gc()
    assert gc.isenabled()
    outbox.release_gc()
    assert gc.isenabled()
    gc.disable()  # someone else's choice is left alone
    try:
        outbox.hold_gc()
        outbox.release_gc()
        assert not gc.isenabled()
    finally:
        gc.enable()
