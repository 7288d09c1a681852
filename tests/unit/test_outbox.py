"""The Outbox (server/hub/clients.py): frames queued in one loop turn leave in one write per
socket, in order; a socket that cannot take a direct write falls back to the async send; the
garbage collector held off for a broadcast is always given back."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterable

import pytest

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


def broken_client(outbox: Outbox, wire: Wire) -> Client:
    """A socket whose direct write raises (its transport broke); `send` still works."""

    def broken(frames: Iterable[bytes], framed: dict[int, tuple[bytes, bytes]]) -> bool:
        raise RuntimeError("transport gone")

    return Client(wire.send, wire.close, outbox=outbox, write=broken)


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


async def test_a_failing_write_is_reported_and_keeps_nothing_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A socket whose transport breaks mid-broadcast: the error is logged, its frames go the
    async way (which ends that connection), the sockets after it still get theirs, and the
    garbage collector comes back."""
    outbox = Outbox()

    bad_wire, good_wire = Wire(), Wire()
    bad, good = broken_client(outbox, bad_wire), client(outbox, good_wire)
    outbox.hold_gc()
    bad.send(b"view")
    good.send(b"view")
    with caplog.at_level(logging.ERROR, logger="kenniskring.clients"):
        await asyncio.sleep(0)
        assert gc.isenabled()
        assert good_wire.writes == [[b"view"]]
        await asyncio.sleep(0)
    assert bad_wire.sent == [b"view"]
    assert "direct write" in caplog.text and "transport gone" in caplog.text


async def test_a_broadcast_writes_at_once_unless_frames_wait() -> None:
    """`Outbox.broadcast`: a socket with nothing queued gets the frame now; one with frames
    waiting gets it after them, at the end of the turn; one without a direct write by send."""
    outbox = Outbox()
    idle, busy, slow = Wire(), Wire(), Wire(direct=False)
    a, b, c = client(outbox, idle), client(outbox, busy), client(outbox, slow)
    b.send(b"ack")
    outbox.broadcast([a, b, c], b"view")
    assert idle.writes == [[b"view"]]  # before the turn ends
    assert busy.writes == [] and slow.sent == []
    for _ in range(3):
        await asyncio.sleep(0)
    assert busy.writes == [[b"ack", b"view"]]  # its order kept, one write
    assert slow.sent == [b"view"]
    assert idle.writes == [[b"view"]]  # nothing twice


async def test_a_broadcast_survives_a_broken_socket(caplog: pytest.LogCaptureFixture) -> None:
    outbox = Outbox()

    bad_wire, good_wire = Wire(), Wire()
    bad, good = broken_client(outbox, bad_wire), client(outbox, good_wire)
    with caplog.at_level(logging.ERROR, logger="kenniskring.clients"):
        outbox.broadcast([bad, good], b"view")
    assert good_wire.writes == [[b"view"]]
    assert "transport gone" in caplog.text
    for _ in range(3):
        await asyncio.sleep(0)
    assert bad_wire.sent == [b"view"]  # queued, and the async send took it


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


async def test_a_socket_that_went_away_mid_write_ends_its_writer_quietly() -> None:
    """The phone left while frames were queued for the async send: the writer ends, drops what
    was left, and leaves no unretrieved task exception behind."""

    class Gone(Exception):
        pass

    async def send(data: bytes) -> None:
        raise Gone

    async def close(code: int) -> None:
        raise Gone

    outbox = Outbox()
    c = Client(send, close, outbox=outbox, write=None)
    c.send(b"1")
    c.send(b"2")
    await asyncio.sleep(0)
    writer = c.writer
    assert writer is not None
    await asyncio.wait_for(asyncio.shield(writer), 1)
    assert writer.exception() is None and c.writer is None
    assert not c._pending


async def test_a_reply_is_written_at_once_unless_frames_wait() -> None:
    """`Client.send_now` for a reply (an ack, an error to the socket's own request): a socket
    with nothing queued gets it now, without waiting for the outbox's flush at the next loop
    turn; one with frames waiting gets it after them; one without a direct write, or whose
    write breaks, by send; a dropped socket gets nothing."""
    outbox = Outbox()
    idle, busy, slow = Wire(), Wire(), Wire(direct=False)
    a, b, c = client(outbox, idle), client(outbox, busy), client(outbox, slow)
    b.send(b"view")
    assert a.send_now(b"ack") and b.send_now(b"ack") and c.send_now(b"ack")
    assert idle.writes == [[b"ack"]]  # before the turn ends
    assert busy.writes == [] and slow.sent == []
    for _ in range(3):
        await asyncio.sleep(0)
    assert busy.writes == [[b"view", b"ack"]]  # behind what waited, in one write
    assert slow.sent == [b"ack"]
    assert idle.writes == [[b"ack"]]
    broken = broken_client(outbox, Wire())
    wire = Wire()
    gone = client(outbox, wire)
    gone.drop(1000)
    assert broken.send_now(b"ack") and not gone.send_now(b"ack")
    for _ in range(3):
        await asyncio.sleep(0)
    assert wire.writes == [] and wire.sent == []
