"""How frames leave the server: straight to the transport under Kenniskring's uvicorn protocol
(server/web/wsprotocol.py), and through plain ASGI `send` under any other websocket protocol.

Both servers run in this test's event loop (real uvicorn on 127.0.0.1, real websocket clients),
so the test can also look at which path each socket took.
"""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import httpx
import pytest
import uvicorn

from server.hub import fanout
from server.hub.clients import Client
from server.web.wsprotocol import PROTOCOL_PATH
from tests.conftest import FAST_QUIZ
from tests.support.phones import Host, Phone, WsClient
from tests.support.servers import in_process


def _clients(server: uvicorn.Server) -> list[Client]:
    app = server.config.loaded_app
    while not hasattr(app, "state"):  # uvicorn wraps the app in its proxy-headers middleware
        app = app.app
    fanout = app.state.hub.fanout
    return [c for clients in fanout._rooms.values() for c in clients]


async def _hosted_room(address: str) -> tuple[str, Host]:
    """A room of FAST_QUIZ and its host, attached; returns the room code and the host."""
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        quiz = (await http.post("/api/quizzes", json=FAST_QUIZ)).json()["id"]
        room = (await http.post("/api/rooms", json={"quiz_id": quiz})).json()
    host = await Host(f"ws://{address}/ws").open()
    await host.attach(room["code"], room["host_secret"])
    return room["code"], host


async def _play_one_question(address: str) -> tuple[Phone, dict]:
    code, host = await _hosted_room(address)
    phone = await Phone(f"ws://{address}/ws").open()
    await phone.join(code, "Anna")
    await host.control("start")
    await phone.wait_view("question", index=0)
    ack = await phone.answer(0, choice=0)
    await host.control("close")
    reveal = await phone.wait_view("reveal")
    me = await phone.wait_for(lambda f: f.get("type") == "me" and "result" in f)
    assert phone.frames.index(reveal) < phone.frames.index(me)  # the view, then the verdict
    await host.close()
    return phone, {"ack": ack, "me": me}


@pytest.mark.parametrize("split_at", [1, 10_000], ids=["views-first", "one-write"])
@pytest.mark.parametrize(("ws", "direct"), [(PROTOCOL_PATH, True), ("websockets-sansio", False)])
async def test_frames_reach_the_phone_on_either_path(
    tmp_path: Path, ws: str, direct: bool, split_at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also with the shared views written before the personal frames (a big room) and with
    both in one write (a small room): the phone gets the same frames in the same order."""
    monkeypatch.setattr(fanout, "SPLIT_PERSONAL_AT", split_at)
    async with in_process(tmp_path, ws=ws) as (address, server):
        phone, got = await _play_one_question(address)
        assert got["ack"] == {"type": "ack", "item": 0, "question": 0, "choice": 0, "value": None}
        assert got["me"]["result"]["correct"] is True and got["me"]["score"] > 0
        clients = _clients(server)
        assert clients, "the phone is attached"
        # which way the frames went: the extension is offered only by our protocol
        assert all((c._write is not None) is direct for c in clients)
        # every broadcast held the garbage collector off until its frames were written
        assert gc.isenabled()
        await phone.close()


def _reveal_views(client: WsClient) -> list[dict]:
    return [f for f in client.frames if f.get("type") == "view" and f.get("phase") == "reveal"]


@pytest.mark.parametrize("preview_at", [1, 10_000], ids=["preview", "no-preview"])
async def test_a_close_shows_the_reveal_once_and_the_result_after_it(
    tmp_path: Path, preview_at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big room (thresholds lowered to 1) sees the reveal before the close is scored and
    saved (Fanout.preview); any room sees it once it is saved, before the renders
    (Fanout.show_saved): from the version the phones already show, so it comes before their
    own result, which is of the saved version. The render after the save must find the
    previewed views unchanged: every phone and the projector get one reveal view, with the
    right distribution, and the host gets its view with the scores."""
    monkeypatch.setattr(fanout, "SPLIT_PERSONAL_AT", 1)
    monkeypatch.setattr(fanout, "PREVIEW_AT", preview_at)
    async with in_process(tmp_path, ws=PROTOCOL_PATH) as (address, _):
        code, host = await _hosted_room(address)
        screen = await WsClient(f"ws://{address}/ws").open()
        await screen.send({"type": "hello", "role": "screen", "room": code})
        phones = [await Phone(f"ws://{address}/ws").open() for _ in range(3)]
        for i, phone in enumerate(phones):
            await phone.join(code, f"Speler {i}")
        await host.control("start")
        for phone in phones:
            await phone.wait_view("question", index=0)
        await phones[0].answer(0, choice=0)  # right
        await phones[1].answer(0, choice=2)  # wrong; the third does not answer
        await host.control("close")
        for phone in phones:
            await phone.wait_for(lambda f: f.get("type") == "me" and "result" in f)
        await screen.wait_view("reveal")
        host_view = await host.wait_for(
            lambda f: f.get("phase") == "reveal" and any(f.get("scores", {}).values())
        )
        await asyncio.sleep(0.3)  # room for a second reveal view, if one were sent
        for client in (*phones, screen):
            views = _reveal_views(client)
            assert len(views) == 1, [v["v"] for v in views]
            assert views[0]["reveal"]["distribution"] == [1, 0, 1, 0]
            assert views[0]["reveal"]["correct"] == [0]
        for phone in phones:
            view = _reveal_views(phone)[0]
            me = next(f for f in phone.frames if f.get("type") == "me" and "result" in f)
            assert phone.frames.index(view) < phone.frames.index(me)
            # shown before the renders: of the version shown before the close
            assert view["v"] < me["v"]
        results = [p.me["result"] for p in phones if p.me is not None]
        assert [r["correct"] for r in results] == [True, False, False]
        scores = host_view["scores"]
        assert {p["name"]: scores.get(p["id"], 0) > 0 for p in host_view["players"]} == {
            "Speler 0": True,
            "Speler 1": False,
            "Speler 2": False,
        }
        await host.control("scoreboard")
        for phone in phones:
            await phone.wait_view("scoreboard")
        for client in (host, screen, *phones):
            await client.close()
