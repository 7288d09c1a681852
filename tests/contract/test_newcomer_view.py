"""A socket that attaches to a room gets the view this worker last showed its role at once,
not after the room's next render: under load renders are paced up to a second apart, and every
phone of a 10,000-phone staff day waited for one before it showed the room. Here the render
pause is 30 s, so a view within the test's few seconds can only be that remembered one. A
countdown in it is aged by the time since it was made. Memory, a real Redis and a real Redis
Cluster (the `cluster` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.activities import quiz as q
from server.hub.bokaal import BokaalBook
from server.hub.rooms import Hub, HubSettings
from tests.conftest import FAST_QUIZ
from tests.contract.conftest import Cluster
from tests.contract.test_attendance import Clock, Socket, _backend, until

PAUSE_S = 30.0  # the render loop's pause between renders nothing urgent asked for


@pytest.fixture
async def slow_hub(cluster: Cluster) -> AsyncIterator[tuple[Hub, Clock]]:
    clock = Clock()
    backend = _backend(cluster)
    async with Hub(
        backend, BokaalBook(backend), HubSettings(coalesce_s=PAUSE_S), clock=clock
    ) as hub:
        yield hub, clock


async def _phone(hub: Hub, code: str, name: str, token: str = "") -> Socket:
    phone = Socket(hub)
    hello: dict[str, Any] = {"role": "phone", "room": code, "name": name}
    if token:
        hello["token"] = token
    await hub.hello(phone.client, hello)
    return phone


def _kinds(socket: Socket) -> list[str]:
    return [str(f.get("type")) for f in socket.frames]


async def test_a_phone_that_joins_shows_the_lobby_before_the_next_render(
    slow_hub: tuple[Hub, Clock],
) -> None:
    hub, _ = slow_hub
    code, _secret = await hub.create_room([("quiz", FAST_QUIZ)], "", "nl", "http://127.0.0.1")
    first = await _phone(hub, code, "Anna")  # an idle room renders at once
    await until(lambda: bool(first.views()), "the first phone's view")
    later = [await _phone(hub, code, name) for name in ("Bram", "Cor")]
    for phone in later:
        await until(lambda p=phone: bool(p.views()), "the lobby without a render", within=5.0)  # type: ignore[misc]
        assert _kinds(phone)[:2] == ["welcome", "view"]  # the token first, as always
        assert phone.views()[0]["phase"] == q.LOBBY
        assert phone.views()[0]["v"] == first.views()[0]["v"]
    # No render ran meanwhile: the first phone still has its one view.
    assert len(first.views()) == 1


async def test_a_phone_back_mid_question_sees_the_time_that_is_left(
    slow_hub: tuple[Hub, Clock],
) -> None:
    hub, clock = slow_hub
    quiz = {**FAST_QUIZ, "questions": [{**FAST_QUIZ["questions"][0], "points": 1000}]}
    code, secret = await hub.create_room([("quiz", quiz)], "", "nl", "http://127.0.0.1")
    host = Socket(hub)
    await hub.hello(host.client, {"role": "host", "room": code, "secret": secret})
    anna = await _phone(hub, code, "Anna")
    await hub.control(host.client, {"action": "start"})  # urgent: rendered at once
    await until(lambda: any(v["phase"] == q.QUESTION for v in anna.views()), "the question opens")
    shown = next(v for v in anna.views() if v["phase"] == q.QUESTION)
    token = next(f for f in anna.frames if f.get("type") == "welcome")["token"]
    clock.now += 7.0
    back = await _phone(hub, code, "Anna", token)  # the same player, on a new socket
    await until(lambda: bool(back.views()), "the question without a render", within=5.0)
    view = back.views()[0]
    assert view["phase"] == q.QUESTION
    assert view["v"] == shown["v"]
    left = view["question"]["remaining_ms"]
    assert left == shown["question"]["remaining_ms"] - 7000
