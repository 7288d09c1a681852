"""HandshakeGate (server/web/handshakes.py): at most `limit` websocket handshakes at once, the
rest in arrival order; a slot is never lost to a phone that left while it waited."""

from __future__ import annotations

import asyncio

from server.web.handshakes import HandshakeGate


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


async def turn() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_at_most_limit_at_once_and_the_rest_in_arrival_order() -> None:
    gate = HandshakeGate(limit=2)
    started: list[int] = []
    assert gate.enter() and gate.enter()
    assert not gate.enter()  # full

    def waiter(n: int) -> bool:
        started.append(n)
        return True

    for n in range(3):
        gate.wait(lambda n=n: waiter(n))
    gate.leave()
    await turn()
    assert started == [0] and gate.active == 2  # the slot went straight to the first waiting
    gate.leave()
    gate.leave()
    await turn()
    assert started == [0, 1, 2] and gate.active == 2
    gate.leave()
    gate.leave()
    assert gate.active == 0 and not gate.busy
    assert gate.peak == 2 and gate.waited == 3


async def test_a_phone_gone_while_waiting_passes_its_slot_on() -> None:
    gate = HandshakeGate(limit=1)
    assert gate.enter()
    started: list[str] = []
    gate.wait(lambda: False)  # left before its turn
    gate.wait(lambda: started.append("next") is None)
    gate.leave()
    await turn()
    assert started == ["next"] and gate.active == 1
    gate.leave()
    assert gate.active == 0


async def test_when_every_waiting_phone_is_gone_the_slot_is_freed() -> None:
    gate = HandshakeGate(limit=1)
    assert gate.enter()
    gate.wait(lambda: False)
    gate.leave()
    await turn()
    assert gate.active == 0 and not gate.busy
    assert gate.enter()  # usable again


async def test_last_active_is_now_while_busy_then_when_it_went_idle() -> None:
    clock = Clock()
    gate = HandshakeGate(limit=1, clock=clock)
    assert gate.last_active() == 0.0
    assert gate.enter()
    clock.now = 60.0
    assert gate.last_active() == 60.0
    clock.now = 61.0
    gate.leave()
    clock.now = 70.0
    assert gate.last_active() == 61.0
