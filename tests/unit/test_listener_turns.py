"""The fan-out's listener shows what other workers published, message after message, and the
inbox hands out what is queued without a pause. After a slice of that work (LISTEN_SLICE) the
listener lets the event loop's other ready tasks run: a burst of other workers' views must not
hold back this worker's own transitions (whose saves the other workers wait for) or its acks.
A real hub on the memory backend; the burst (about 15 ms of work here) is put in its inbox at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.hub.bokaal import BokaalBook
from server.hub.memory import MemoryBackend
from server.hub.room import pack
from server.hub.rooms import Hub, HubSettings

BURST = 9500  # below the inbox's limit (10,000), where it would resync instead


async def test_a_burst_on_the_subscription_leaves_other_tasks_their_turns(
    tmp_path: Path,
) -> None:
    backend = MemoryBackend(tmp_path)
    async with Hub(backend, BokaalBook(backend), HubSettings()) as hub:
        await asyncio.sleep(0.05)  # the listener waits on the empty inbox
        inbox = backend._queue
        for i in range(BURST):  # change messages of rooms this worker does not show
            inbox.put((f"{100000 + i % 50}", pack({"seq": i})))
        left_when_ran: list[int] = []

        async def own_work() -> None:  # ready as the listener starts on the burst
            await asyncio.sleep(0)
            left_when_ran.append(len(inbox))

        task = asyncio.create_task(own_work())
        async with asyncio.timeout(10):
            while len(inbox):
                await asyncio.sleep(0.001)
            await task
        assert not hub.fanout._rooms  # (nothing was shown: none of these rooms is here)
    # It ran while the burst was still being worked through, not after all of it.
    assert left_when_ran and 0 < left_when_ran[0] < BURST
