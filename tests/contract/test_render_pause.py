"""A phase change cuts a room's render pause short, also when it arrives during a render.

Renders that nothing urgent asked for are paced: the coalescing pause, grown on a busy worker
(server/hub/pacing.py, up to a second). A phase change wakes the room's render loop at once, or,
when it arrives while the room is being rendered, right after the unpaced coalescing pause. Here
the worker is held busy with a paced pause of 30 s, so a view within the test's few seconds can
only come from that wake. Memory, a real Redis and a real Redis Cluster (the `cluster`
fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.activities import quiz as q
from server.hub.bokaal import BokaalBook
from server.hub.pacing import Pacer
from server.hub.rooms import Hub, HubSettings
from tests.contract.conftest import Cluster
from tests.contract.test_attendance import Clock, Socket, _backend, _room_with_phones, until

COALESCE_S = 0.05  # the unpaced pause
PACED_S = 30.0  # the pause of a worker the pacer finds busy


@pytest.fixture
async def paced_hub(cluster: Cluster) -> AsyncIterator[Hub]:
    backend = _backend(cluster)
    async with Hub(
        backend, BokaalBook(backend), HubSettings(coalesce_s=COALESCE_S), clock=Clock()
    ) as hub:
        # Busy for good: its clocks never move, so it never takes a new reading.
        hub.fanout.pacer = Pacer(cpu=lambda: 0.0, wall=lambda: 0.0, longest=PACED_S)
        hub.fanout.pacer.factor = PACED_S / COALESCE_S
        yield hub


def _phase(socket: Socket) -> Any:
    views = socket.views()
    return views[-1]["phase"] if views else None


def _revealed(hub: Hub, code: str, version: int, doc: bytes) -> bool:
    return bool(hub.rooms.get(code, version, doc).state.phase == q.REVEAL)


async def test_a_phase_change_during_a_render_is_shown_without_waiting_for_the_pause(
    paced_hub: Hub,
) -> None:
    """The host closes the question; while the render of that close is reading the room, the
    host already asks for the scoreboard. That render shows the reveal it read; the scoreboard
    follows after the unpaced pause, not 30 s later. (Under load the host's next screen was
    late by up to a second.)"""
    hub = paced_hub
    code, host, (anna,) = await _room_with_phones(hub, 1)

    read = hub.backend.snapshot
    asked = False

    async def read_then_the_host_goes_on(*args: Any, **kwargs: Any) -> Any:
        nonlocal asked
        snap = await read(*args, **kwargs)
        if not asked and snap.room is not None and _revealed(hub, code, *snap.room):
            asked = True
            await hub.control(host.client, {"action": "scoreboard"})
            # Still within this render: until the change's message has marked the room again.
            await until(lambda: code in hub.fanout._dirty, "the scoreboard's message arrives")
        return snap

    hub.backend.snapshot = read_then_the_host_goes_on  # type: ignore[method-assign]
    try:
        await hub.control(host.client, {"action": "close"})
        await until(lambda: asked, "a render reads the closed room")
        await until(lambda: _phase(host) == q.SCOREBOARD, "the scoreboard", within=5.0)
    finally:
        hub.backend.snapshot = read  # type: ignore[method-assign]
    assert _phase(anna) == q.SCOREBOARD
