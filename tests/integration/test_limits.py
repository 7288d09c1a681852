"""Limits that stop one client without hurting a real room (a real server on loopback).

The server runs with small limits so a test reaches them in a fraction of a second; the addresses
come from `X-Forwarded-For`, which uvicorn trusts from 127.0.0.1 as it would from a local reverse
proxy, so one test plays several clients (TEST-NET addresses: nothing is sent to them).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from server.web.limits import Limits, Rate
from tests.conftest import FAST_QUIZ
from tests.support.phones import Host, Phone
from tests.support.servers import ROOT, ServerProcess

LIMITS = "join=20/1,room=5/0.2,probe=10/0.2,upload=3/0.1,frame=30/10,frame_strikes=40"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(
        tmp_path_factory.mktemp("limited"), env={"KENNISKRING_LIMITS": LIMITS}
    ).start()
    try:
        yield server
    finally:
        server.stop()


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def _room(server: ServerProcess, address: str) -> str:
    response = httpx.post(
        f"{server.base}/api/rooms", json={"quiz_id": "demo-kennisdeling"}, headers=_from(address)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["code"])


async def _join(server: ServerProcess, code: str, name: str, address: str) -> tuple[Phone, dict]:
    phone = await Phone(server.ws_url).open(additional_headers=_from(address))
    reply = await phone.request(
        {"type": "hello", "role": "phone", "room": code, "name": name}, "welcome"
    )
    return phone, reply


async def test_a_class_behind_one_address_joins_then_a_flood_is_slowed(
    limited: ServerProcess,
) -> None:
    code = _room(limited, "203.0.113.1")
    results = await asyncio.gather(
        *(_join(limited, code, f"Leerling {i}", "203.0.113.10") for i in range(30))
    )
    welcomed = [r for _, r in results if r["type"] == "welcome"]
    refused = [r for _, r in results if r["type"] == "error"]
    # The burst (20, and at most a token or two refilled meanwhile) joins; the rest is told why.
    assert 20 <= len(welcomed) <= 23, len(welcomed)
    assert refused and {r["code"] for r in refused} == {"rate_limited"}
    assert refused[0]["message"].startswith("Even rustig aan")
    # The refused socket stays usable, and a phone behind another address joins at once.
    phone, _ = next(pair for pair in results if pair[1]["type"] == "error")
    assert (await phone.request({"type": "ping"}, "pong"))["type"] == "pong"
    teacher, other = await _join(limited, code, "Docent", "203.0.113.20")
    assert other["type"] == "welcome"
    await teacher.close()
    # Resuming with a token is never limited: a class whose Wi-Fi blinked comes back at once.
    token = welcomed[0]["token"]
    back = await phone.request(
        {"type": "hello", "role": "phone", "room": code, "token": token}, "welcome"
    )
    assert back["type"] == "welcome"
    # The steady rate lets the next one in after a short wait.
    await asyncio.sleep(1.2)
    late, later = await _join(limited, code, "Laatkomer", "203.0.113.10")
    assert later["type"] == "welcome"
    await late.close()
    for p, _ in results:
        await p.close()


def test_room_creation_is_limited_per_address(limited: ServerProcess) -> None:
    statuses = [
        httpx.post(
            f"{limited.base}/api/rooms",
            json={"quiz_id": "demo-kennisdeling"},
            headers=_from("203.0.113.30"),
        ).status_code
        for _ in range(8)
    ]
    assert statuses[:5] == [201] * 5 and 429 in statuses[5:]
    refused = httpx.post(
        f"{limited.base}/api/rooms",
        json={"quiz_id": "demo-kennisdeling"},
        headers=_from("203.0.113.30"),
    )
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert refused.headers["retry-after"]
    assert _room(limited, "203.0.113.31")  # another organiser is not affected


async def test_guessing_room_codes_is_stopped_for_every_code(limited: ServerProcess) -> None:
    real = _room(limited, "203.0.113.40")
    prober = "203.0.113.41"
    statuses = [
        httpx.get(f"{limited.base}/api/rooms/{100000 + i}", headers=_from(prober)).status_code
        for i in range(12)
        if str(100000 + i) != real
    ]
    assert statuses.count(404) >= 10 and statuses[-1] == 429
    # Once out of guesses, the real code waits too: guessing gives nothing away.
    assert httpx.get(f"{limited.base}/api/rooms/{real}", headers=_from(prober)).status_code == 429
    phone = await Phone(limited.ws_url).open(additional_headers=_from(prober))
    reply = await phone.request(
        {"type": "hello", "role": "phone", "room": real, "name": "X"}, "welcome"
    )
    assert reply["type"] == "error" and reply["code"] == "rate_limited"
    await phone.close()
    # Everyone else still finds the room.
    assert (
        httpx.get(f"{limited.base}/api/rooms/{real}", headers=_from("203.0.113.42")).status_code
        == 200
    )


def test_uploads_are_limited_per_address(limited: ServerProcess) -> None:
    statuses = [
        httpx.post(
            f"{limited.base}/api/quizzes",
            json={**FAST_QUIZ, "id": f"spam-{i}"},
            headers=_from("203.0.113.50"),
        ).status_code
        for i in range(5)
    ]
    assert statuses[:3] == [201] * 3 and statuses[3:] == [429, 429]
    listed = {q["id"] for q in httpx.get(f"{limited.base}/api/quizzes").json()}
    assert "spam-3" not in listed and "spam-4" not in listed


async def test_a_flooding_socket_is_told_once_then_closed_and_others_play_on(
    limited: ServerProcess,
) -> None:
    code = _room(limited, "203.0.113.60")
    calm, _ = await _join(limited, code, "Rustig", "203.0.113.61")
    flood, _ = await _join(limited, code, "Spammer", "203.0.113.62")
    assert flood.ws is not None
    with pytest.raises(ConnectionClosed):
        for _ in range(500):
            await flood.ws.send(b"\x81\xa4type\xa4ping")
            await asyncio.sleep(0)
        await asyncio.wait_for(flood.closed.wait(), 10)
        await flood.ws.send(b"\x81\xa4type\xa4ping")
    await asyncio.wait_for(flood.closed.wait(), 10)
    assert flood.ws.close_code == 1008
    told = [e for e in flood.errors if e["code"] == "rate_limited"]
    assert 1 <= len(told) <= 2  # once when throttling starts, once at the close: not per frame
    await flood.close()
    # A phone at a human pace is never throttled.
    for _ in range(5):
        assert (await calm.request({"type": "ping"}, "pong"))["type"] == "pong"
    assert not calm.errors
    await calm.close()


async def test_the_pages_pings_do_not_use_up_the_frame_allowance(limited: ServerProcess) -> None:
    """The page's own `ping` (one per 10 s, a few more after a screen unlock) is answered by
    the websocket protocol itself: four of them in a window leave the socket's frame bucket
    (30 here) whole, so 33 pings in one burst after the hello are all answered and none refused."""
    code = _room(limited, "203.0.113.70")
    phone, _ = await _join(limited, code, "Pinger", "203.0.113.71")
    assert phone.ws is not None
    mark = len(phone.frames)
    for _ in range(33):  # the hello took one of the 30
        await phone.ws.send(b"\x81\xa4type\xa4ping")

    def pongs() -> int:
        return sum(frame.get("type") == "pong" for frame in phone.frames[mark:])

    with contextlib.suppress(TimeoutError):  # a refused ping gets no pong: the count tells
        await phone.wait_for(lambda _frame: pongs() >= 33 or bool(phone.errors), timeout=5)
    assert not phone.errors, phone.errors
    assert pongs() == 33
    await phone.close()


def test_defaults_are_the_documented_ones() -> None:
    """SECURITY.md's table lists every limit with its default; the code must agree."""
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    defaults = Limits()
    for name in ("join", "room", "probe", "upload", "frame"):
        rate: Rate = getattr(defaults, name)
        assert f"`{name}={rate}`" in text, (name, str(rate))
    assert Limits.parse("off").enabled is False
    assert Limits.parse("join=5/0.5").join == Rate(5, 0.5)
    with pytest.raises(ValueError):
        Limits.parse("joins=5/1")


@pytest.fixture(scope="module")
def small_room_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(
        tmp_path_factory.mktemp("seats"),
        env={"KENNISKRING_SEAT_GRACE_MS": "400"},
        args=["--max-players", "3"],
    ).start()
    try:
        yield server
    finally:
        server.stop()


async def test_seats_of_phones_that_left_the_lobby_are_freed_after_a_grace(
    small_room_server: ServerProcess,
) -> None:
    server = small_room_server
    code = _room(server, "203.0.113.70")
    bots = []
    for i in range(3):
        bot, welcome = await _join(server, code, f"Bot {i}", "203.0.113.71")
        assert welcome["type"] == "welcome"
        bots.append(bot)
    for bot in bots:
        await bot.close()
    real, refused = await _join(server, code, "Echte speler", "203.0.113.72")
    assert refused["type"] == "error" and refused["code"] == "room_full"  # left just now
    await asyncio.sleep(0.6)  # the seat grace (400 ms) passes
    again = await real.request(
        {"type": "hello", "role": "phone", "room": code, "name": "Echte speler"}, "welcome"
    )
    assert again["type"] == "welcome" and again["name"] == "Echte speler"
    await real.close()


async def test_the_facilitator_removes_every_disconnected_player_at_once(
    small_room_server: ServerProcess,
) -> None:
    server = small_room_server
    room = httpx.post(
        f"{server.base}/api/rooms",
        json={"quiz_id": "demo-kennisdeling"},
        headers=_from("203.0.113.80"),
    ).json()
    host = await Host(server.ws_url).open()
    await host.attach(room["code"], room["host_secret"])
    stays, _ = await _join(server, room["code"], "Blijft", "203.0.113.81")
    gone, welcome = await _join(server, room["code"], "Weg", "203.0.113.82")
    await gone.close()
    await host.wait_for(
        lambda f: (
            f.get("type") == "view"
            and any(p["name"] == "Weg" and not p["online"] for p in f.get("players", []))
        )
    )
    mark = len(host.frames)
    await host.control("remove_offline")
    done = await host.wait_for(lambda f: f.get("type") in ("done", "error"), since=mark)
    assert done == {"type": "done", "action": "remove_offline", "removed": 1}
    view = await host.wait_for(
        lambda f: f.get("type") == "view" and [p["name"] for p in f["players"]] == ["Blijft"],
        since=mark,
    )
    assert "remove_offline" in view["can"]
    # The removed phone is not banned: its old token is gone, it may join again with a name.
    back = await Phone(server.ws_url).open()
    refused = await back.request(
        {"type": "hello", "role": "phone", "room": room["code"], "token": welcome["token"]},
        "welcome",
    )
    assert refused["type"] == "error" and refused["code"] == "bad_token"
    rejoined = await back.join(room["code"], "Weg")
    assert rejoined["type"] == "welcome" and rejoined["name"] == "Weg"
    for client in (stays, back, host):
        await client.close()
