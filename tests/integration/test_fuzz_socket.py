"""Arbitrary frames at a live socket: only documented errors come back, the socket stays usable,
and a quiz played beside it in the same room ends with correct scores."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.messages import ERRORS
from tests.conftest import FAST_QUIZ, create_room, upload
from tests.support.fuzz import frames
from tests.support.phones import Host, Phone
from tests.support.servers import ROOT, ServerProcess

DOCUMENTED = set(re.findall(r"`([a-z_]+)`", (ROOT / "docs" / "PROTOCOL.md").read_text()))


@pytest.fixture(scope="module")
def room(live_server: ServerProcess) -> Iterator[dict[str, Any]]:
    yield create_room(live_server.base, upload(live_server.base, {**FAST_QUIZ, "id": "fuzz-kamer"}))


async def _fuzz(server: ServerProcess, code: str, batch: list[bytes | str], join: bool) -> None:
    phone = await Phone(server.ws_url).open()
    try:
        if join:
            assert (await phone.join(code, "Fuzzer"))["type"] == "welcome"
        mark = len(phone.frames)
        for data in batch:
            await phone.send_raw(data)
        # The socket is still there and answers in order after everything it was sent.
        await phone.send({"type": "ping"})
        await phone.wait_for(lambda f: f.get("type") == "pong", timeout=10, since=mark)
        for frame in phone.frames[mark:]:
            assert frame.get("type") in ("error", "welcome", "view", "me", "ack", "pong", "done")
            if frame["type"] == "error":
                assert frame["code"] in ERRORS["nl"] and frame["message"], frame
                assert frame["code"] in DOCUMENTED, f"{frame['code']} not in docs/PROTOCOL.md"
    finally:
        await phone.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(frames, min_size=1, max_size=25), join=st.booleans())
def test_a_socket_survives_any_frames(
    live_server: ServerProcess, room: dict[str, Any], batch: list[bytes | str], join: bool
) -> None:
    asyncio.run(_fuzz(live_server, room["code"], batch, join))


async def test_the_fuzzed_room_still_plays_a_quiz_with_correct_scores(
    live_server: ServerProcess, room: dict[str, Any]
) -> None:
    code = room["code"]
    host = await Host(live_server.ws_url).open()
    await host.attach(code, room["host_secret"])
    control = await Phone(live_server.ws_url).open()
    await control.join(code, "Controle")
    await host.control("start")
    await control.wait_view("question")
    assert (await control.answer(0, choice=0))["type"] == "ack"  # the right option
    await host.control("close")
    await control.wait_for(lambda f: f.get("type") == "me" and "result" in f)
    assert control.me is not None
    first = control.me["result"]
    assert first["correct"] is True and first["points"] > 0
    await host.control("next")
    await control.wait_for(
        lambda f: (
            f.get("type") == "view" and f.get("phase") == "question" and f["question"]["index"] == 1
        )
    )
    assert (await control.answer(1, choice=1))["type"] == "ack"  # wrong: the answer is true
    await host.control("close")
    await control.wait_for(
        lambda f: f.get("type") == "me" and f.get("result", {}).get("question") == 1
    )
    assert control.me["result"]["correct"] is False and control.me["result"]["points"] == 0
    score = control.me["score"]
    assert score == first["points"] + first["streak_bonus"]
    export = httpx.get(
        f"{live_server.base}/api/rooms/{code}/results.json",
        headers={"X-Host-Secret": room["host_secret"]},
    ).json()
    mine = next(p for p in export["players"] if p["name"] == "Controle")
    assert mine["score"] == score
    await control.close()
    await host.close()
