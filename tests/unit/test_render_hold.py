"""The render after a round's previewed views waits in a burst (Fanout._hold): when the views of
at least HOLD_BURST rooms whose rounds take inputs were written within HOLD_S, each such room's
render waits until HOLD_S after its views, so the other rooms' questions go out first. A round
that takes no inputs (a reveal, whose render brings the phones their own results) never waits,
nor does a burst of fewer rooms. The flag comes with the views over the subscription too. A real
hub on the memory backend; the rooms have no sockets in it, so nothing is written."""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.hub.bokaal import BokaalBook
from server.hub.fanout import HOLD_BURST, HOLD_S
from server.hub.memory import MemoryBackend
from server.hub.room import pack
from server.hub.rooms import Hub, HubSettings

FRAMES: list[list[object]] = [["phone", b"k", b"v"]]


async def test_renders_wait_only_in_a_burst_of_input_taking_rounds(tmp_path: Path) -> None:
    backend = MemoryBackend(tmp_path)
    async with Hub(backend, BokaalBook(backend), HubSettings()) as hub:
        fanout = hub.fanout
        rooms = [str(200000 + i) for i in range(HOLD_BURST)]
        for code in rooms[:-1]:
            fanout._show_previewed(code, FRAMES, 1, collecting=True)
        assert fanout._hold(rooms[0]) == 0.0  # one room short of a burst
        fanout._show_previewed(rooms[-1], FRAMES, 1, collecting=True)
        waits = [fanout._hold(code) for code in rooms]
        assert all(0.0 < wait <= HOLD_S for wait in waits), waits
        # a reveal's views in the same burst: its render brings own results, at once
        fanout._show_previewed("300000", FRAMES, 1, collecting=False)
        assert fanout._hold("300000") == 0.0
        # a room whose next views take no inputs any more waits no longer either
        fanout._show_previewed(rooms[0], FRAMES, 2, collecting=False)
        assert fanout._hold(rooms[0]) == 0.0
        await asyncio.sleep(HOLD_S)
        assert [fanout._hold(code) for code in rooms] == [0.0] * HOLD_BURST  # the burst is over


async def test_the_flag_comes_with_another_worker_s_views(tmp_path: Path) -> None:
    backend = MemoryBackend(tmp_path)
    async with Hub(backend, BokaalBook(backend), HubSettings()) as hub:
        await asyncio.sleep(0.05)  # the listener waits on the empty inbox
        rooms = [str(400000 + i) for i in range(HOLD_BURST)]
        for code in rooms:
            message = {"preview": FRAMES, "version": 1, "collecting": True}
            backend._queue.put((code, pack(message)))
        backend._queue.put(("500000", pack({"preview": FRAMES, "version": 1})))
        async with asyncio.timeout(5):
            while len(backend._queue):
                await asyncio.sleep(0.001)
        assert all(hub.fanout._hold(code) > 0.0 for code in rooms)
        assert hub.fanout._hold("500000") == 0.0
