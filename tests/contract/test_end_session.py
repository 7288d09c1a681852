"""The facilitator ends the session (`control` `end_session`), on every backend: only the host
may; afterwards every view says so (`room.ended`), inputs, new players and commands are refused
with `session_ended`, nothing closes by itself any more, and the results stay exportable."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from server.activities import quiz as q
from server.hub.backend import Write
from server.hub.bokaal import BokaalBook
from server.hub.errors import HubError
from server.hub.memory import MemoryBackend
from server.hub.rooms import Hub, HubSettings
from tests.contract.test_attendance import (
    Clock,
    Socket,
    _last,
    _room_with_phones,
    until,
)
from tests.contract.test_preview_across_workers import _quiz_room
from tests.support.phones import answer_frame


async def test_only_the_host_ends_the_session(hub_and_clock: tuple[Hub, Clock]) -> None:
    hub, _clock = hub_and_clock
    code, host, phones = await _room_with_phones(hub, 1)
    with pytest.raises(HubError) as refused:
        await hub.control(phones[0].client, {"action": "end_session"})
    assert refused.value.code == "not_host"
    loaded = await hub.load(code)
    assert loaded is not None and not loaded[1].ended
    assert "end_session" in _last(host)["can"] and _last(host)["room"]["ended"] is False
    # The phone still answers: nothing ended.
    assert (await hub.input(phones[0].client, answer_frame(0, 0)))["type"] == "ack"


async def test_an_ended_session_refuses_inputs_joins_and_commands(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    hub, clock = hub_and_clock
    code, host, phones = await _room_with_phones(hub, 2)
    await hub.input(phones[0].client, answer_frame(0, 1))  # an answer while it runs
    await hub.control(host.client, {"action": "end_session"})
    await until(lambda: {"type": "done", "action": "end_session"} in host.frames, "the host's done")
    await until(lambda: _last(host).get("room", {}).get("ended") is True, "the host sees it")
    assert _last(host)["can"] == []  # no commands any more
    await until(lambda: _last(phones[1]).get("room", {}).get("ended") is True, "phones see it")

    # An input, a new player, any command: refused with their own code.
    with pytest.raises(HubError) as late_input:
        await hub.input(phones[1].client, answer_frame(0, 0))
    assert late_input.value.code == "session_ended"
    with pytest.raises(HubError) as late_join:
        await hub.hello(Socket(hub).client, {"role": "phone", "room": code, "name": "Laat"})
    assert late_join.value.code == "session_ended"
    for action, extra in [
        ("close", {}),
        ("lock", {}),
        ("begin", {"item": 0}),
        ("remove_offline", {}),
    ]:
        with pytest.raises(HubError) as refused:
            await hub.control(host.client, {"action": action, **extra})
        assert refused.value.code == "session_ended", action
    with pytest.raises(HubError) as added:
        await hub.add_item(code, "circle", {})
    assert added.value.code == "session_ended"

    # The open question was closed and scored by the end: the answer given counts.
    loaded = await hub.load(code)
    assert loaded is not None
    room = loaded[1]
    assert room.ended and room.activity.phase(room.state) == q.REVEAL
    exported = await hub.export(code, room, 0)
    assert exported["questions_played"] == 1
    given = {p["name"]: p["answers"][0]["answer"] for p in exported["players"]}
    assert given == {"Speler 0": "Niemand", "Speler 1": ""}, given
    # Time runs on: nothing changes any more (no scoreboard, no next question).
    clock.now += 120
    await asyncio.sleep(0.3)
    loaded = await hub.load(code)
    assert loaded is not None and loaded[1].activity.phase(loaded[1].state) == q.REVEAL

    # A hello after it: the projector, the host and a returning phone get the ended view.
    screen = Socket(hub)
    await hub.hello(screen.client, {"role": "screen", "room": code})
    await until(lambda: _last(screen).get("room", {}).get("ended") is True, "the screen's view")
    token = next(f["token"] for f in phones[0].frames if f.get("type") == "welcome")
    back = Socket(hub)
    welcome = await hub.hello(back.client, {"role": "phone", "room": code, "token": token})
    assert welcome["type"] == "welcome"
    await until(lambda: _last(back).get("room", {}).get("ended") is True, "the phone's view")

    # Ending again changes nothing.
    await hub.control(host.client, {"action": "end_session"})


async def test_the_results_stay_exportable_after_the_end(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    hub, _clock = hub_and_clock
    code, host, phones = await _room_with_phones(hub, 1)
    await hub.input(phones[0].client, answer_frame(0, 0))
    await until(lambda: _last(host).get("phase") == q.REVEAL, "the question closes")
    await hub.control(host.client, {"action": "end_session"})
    loaded = await hub.load(code)
    assert loaded is not None and loaded[1].ended
    exported = await hub.export(code, loaded[1], 0)
    assert [row["name"] for row in exported["ranking"]] == ["Speler 0"]
    # The programme item that ran counts as run (its downloads are offered).
    await until(lambda: _last(host).get("room", {}).get("ended") is True, "the ended view")
    assert _last(host)["programme"][0]["ran"] is True


class LosingSaves(MemoryBackend):
    """The memory backend whose saves lose their race while `losing` is set, as when another
    worker saved the room first every time."""

    losing = False

    async def save_room(
        self, code: str, version: int, doc: bytes, writes: Sequence[Write] = ()
    ) -> bool:
        if self.losing:
            return False
        return await super().save_room(code, version, doc, writes)


async def test_an_end_that_cannot_be_saved_leaves_the_session_running(tmp_path: Path) -> None:
    """Ending gives up (`busy`) when its save loses every race: the session then runs on, whole
    (new players, the quiz, answers), instead of refusing inputs as ended while nothing says
    it ended; the facilitator ends it on the next try."""
    backend = LosingSaves(tmp_path)
    async with Hub(backend, BokaalBook(backend), HubSettings(coalesce_s=0.01)) as hub:
        code, host = await _quiz_room(hub)
        phone = Socket(hub)
        await hub.hello(phone.client, {"role": "phone", "room": code, "name": "Anna"})
        backend.losing = True
        with pytest.raises(HubError) as busy:
            await hub.control(host.client, {"action": "end_session"})
        assert busy.value.code == "busy"
        backend.losing = False
        # The lobby takes no answers yet: refused as before, not as an ended session (the
        # phone would say the session is over).
        with pytest.raises(HubError) as lobby:
            await hub.input(phone.client, answer_frame(0, 0))
        assert lobby.value.code == "not_open"
        await hub.hello(Socket(hub).client, {"role": "phone", "room": code, "name": "Bram"})
        await hub.control(host.client, {"action": "start"})
        assert (await hub.input(phone.client, answer_frame(0, 0)))["type"] == "ack"
        await hub.control(host.client, {"action": "end_session"})
        with pytest.raises(HubError) as ended:
            await hub.input(phone.client, answer_frame(0, 1))
        assert ended.value.code == "session_ended"
