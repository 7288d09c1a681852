"""The bounded queue between a subscription and the fan-out."""

from __future__ import annotations

import asyncio

from server.hub.inbox import RESYNC, Inbox


async def test_messages_come_out_in_order() -> None:
    inbox = Inbox(limit=10)
    inbox.put(("111111", b"a"))
    inbox.put(("222222", b"b"))
    assert await inbox.get() == ("111111", b"a")
    assert await inbox.get() == ("222222", b"b")


async def test_a_full_inbox_becomes_one_resync_and_memory_stays_bounded() -> None:
    inbox = Inbox(limit=5)
    for i in range(5):
        inbox.put(("111111", bytes([i])))
    inbox.put(("111111", b"one too many"))
    assert len(inbox) == 1 and inbox.overflows == 1
    assert await inbox.get() == RESYNC
    for i in range(1000):
        inbox.put(("111111", bytes([i % 256])))
    assert len(inbox) <= 5


async def test_get_waits_for_a_put() -> None:
    inbox = Inbox()
    waiter = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    inbox.put(("333333", b"x"))
    assert await asyncio.wait_for(waiter, 1) == ("333333", b"x")
