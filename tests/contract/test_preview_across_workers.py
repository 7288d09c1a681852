"""A big room's reveal before it is scored reaches the phones on every worker: the closing
worker publishes the previewed views and the other workers write them without reading the room
(two hubs on one real Redis, in one process, so that the room-size threshold can be lowered)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.activities import quiz as q
from server.hub import fanout
from server.hub.bokaal import BokaalBook
from server.hub.redis import RedisBackend
from server.hub.rooms import Hub, HubSettings
from tests.conftest import FAST_QUIZ
from tests.contract.test_attendance import Socket, until
from tests.support.phones import answer_frame
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
async def two_workers(redis_server: RedisServer) -> AsyncIterator[tuple[Hub, Hub]]:
    namespace = f"kkp{uuid.uuid4().hex[:8]}"
    hubs = []
    for _ in range(2):
        backend = RedisBackend(redis_server.url, namespace=namespace)
        hubs.append(Hub(backend, BokaalBook(backend), HubSettings(coalesce_s=0.01)))
    async with hubs[0] as a, hubs[1] as b:
        yield a, b


def _frames(socket: Socket, kind: str, phase: str | None = None) -> list[dict[str, Any]]:
    return [
        f
        for f in socket.frames
        if f.get("type") == kind and (phase is None or f.get("phase") == phase)
    ]


async def test_the_reveal_preview_reaches_the_phones_of_the_other_worker(
    two_workers: tuple[Hub, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "PREVIEW_AT", 3)  # a "big" room of 3 players
    closing, other = two_workers
    quiz = {**FAST_QUIZ, "questions": [{**FAST_QUIZ["questions"][0], "points": 1000}]}
    code, secret = await closing.create_room([("quiz", quiz)], "", "nl", "http://127.0.0.1")
    host = Socket(closing)
    await closing.hello(host.client, {"role": "host", "room": code, "secret": secret})
    here = Socket(closing)
    await closing.hello(here.client, {"role": "phone", "room": code, "name": "Hier"})
    there = [Socket(other) for _ in range(2)]
    for i, phone in enumerate(there):
        await other.hello(phone.client, {"role": "phone", "room": code, "name": f"Daar {i}"})
    await closing.control(host.client, {"action": "start"})
    phones = [here, *there]
    await until(lambda: all(_frames(p, "view", q.QUESTION) for p in phones), "the question")
    await closing.input(here.client, answer_frame(0, 0))
    await other.input(there[0].client, answer_frame(0, 1))
    await asyncio.sleep(0.1)  # both workers have rendered the answers
    await closing.control(host.client, {"action": "close"})

    def scored(phone: Socket) -> bool:
        return any(f.get("result") for f in _frames(phone, "me"))

    await until(lambda: all(scored(p) for p in phones), "every phone's result")
    await asyncio.sleep(0.2)  # renders after the save come and go
    for phone in there:
        reveals = _frames(phone, "view", q.REVEAL)
        result = next(f for f in _frames(phone, "me") if f.get("result"))
        # One reveal view, and it is the preview: at the version the phone showed before the
        # close, lower than that of the result, which came with the render after the save.
        assert len(reveals) == 1
        assert reveals[0]["v"] < result["v"]
        assert reveals[0]["reveal"]["distribution"][:2] == [1, 1]
