"""Bad input over the websocket gets a clear error and the connection and room keep working."""

from __future__ import annotations

import msgpack
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.conftest import FAST_QUIZ, create_room, upload
from tests.support.phones import Host, Phone
from tests.support.servers import ServerProcess


async def _room(server: ServerProcess) -> tuple[dict[str, str], Host]:
    room = create_room(server.base, upload(server.base, FAST_QUIZ))
    host = await Host(server.ws_url).open()
    await host.attach(room["code"], room["host_secret"])
    return room, host


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b"\xc1\xc1 not msgpack", "bad_frame"),
        (msgpack.packb([1, 2, 3]), "bad_frame"),
        (msgpack.packb({"no": "type"}), "bad_frame"),
        (msgpack.packb({"type": "launch_missiles"}), "bad_frame"),
        (msgpack.packb({"type": 7}), "bad_frame"),
        (msgpack.packb({"type": "input", "item": 0, "data": {"question": 0}}), "hello_first"),
        (msgpack.packb({"type": "control", "action": "start"}), "hello_first"),
        (
            msgpack.packb({"type": "hello", "role": "phone", "room": "000000", "name": "x"}),
            "room_not_found",
        ),
        (
            msgpack.packb({"type": "hello", "role": "phone", "room": "12ab", "name": "x"}),
            "room_not_found",
        ),
        (msgpack.packb({"type": "hello", "role": "alien", "room": "123456"}), "bad_frame"),
        (msgpack.packb({"type": "ping", "pad": "x" * 5000}), "frame_too_large"),
    ],
)
async def test_bad_frame_gets_error_and_socket_survives(
    live_server: ServerProcess, frame: bytes, code: str
) -> None:
    phone = Phone(live_server.ws_url)
    await phone.open()
    await phone.send_raw(frame)
    error = await phone.wait_error(code)
    assert error["message"] and error["message"][0].isupper()
    assert (await phone.request({"type": "ping"}, "pong"))["type"] == "pong"
    await phone.close()


async def test_text_frame_is_refused_politely(live_server: ServerProcess) -> None:
    phone = await Phone(live_server.ws_url).open()
    await phone.send_raw('{"type": "hello"}')
    assert (await phone.wait_error("bad_frame"))[
        "message"
    ] == "Dit bericht begrijpt de server niet."
    assert (await phone.request({"type": "ping"}, "pong"))["type"] == "pong"
    await phone.close()


async def test_english_errors_on_request(live_server: ServerProcess) -> None:
    phone = await Phone(live_server.ws_url).open()
    error = await phone.request(
        {"type": "hello", "role": "phone", "room": "999999", "name": "Jo", "lang": "en"}, "welcome"
    )
    assert error["code"] == "room_not_found" and "We don't know this code" in error["message"]
    await phone.close()


async def test_huge_frame_closes_only_that_socket(live_server: ServerProcess) -> None:
    room, host = await _room(live_server)
    ws = await connect(live_server.ws_url, max_size=2**20, compression=None)
    await ws.send(msgpack.packb({"type": "ping", "pad": "x" * 100_000}))
    await ws.wait_closed()
    assert ws.close_code == 1009
    # The room and other sockets are unaffected.
    phone = await Phone(live_server.ws_url).open()
    assert (await phone.join(room["code"], "Nog steeds"))["type"] == "welcome"
    await phone.close()
    await host.close()


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
async def test_foreign_origin_refused(live_server: ServerProcess, origin: str) -> None:
    with pytest.raises(InvalidStatus) as info:
        await connect(live_server.ws_url, origin=origin)  # type: ignore[arg-type]
    assert info.value.response.status_code == 403


async def test_own_origin_allowed(live_server: ServerProcess) -> None:
    phone = Phone(live_server.ws_url)
    await phone.open(origin=f"http://127.0.0.1:{live_server.port}")
    assert (await phone.request({"type": "ping"}, "pong"))["type"] == "pong"
    await phone.close()


async def test_answer_errors(live_server: ServerProcess) -> None:
    room, host = await _room(live_server)
    phone = await Phone(live_server.ws_url).open()
    await phone.join(room["code"], "Sam")
    assert (await phone.answer(0, choice=0))["code"] == "not_open"
    await host.control("start")
    await phone.wait_view("question", index=0)
    assert (await phone.answer(1, choice=0))["code"] == "not_open"
    assert (await phone.answer(0, choice=9))["code"] == "invalid_choice"
    wrong_type = {"type": "input", "item": 0, "data": {"question": 0, "choice": "a"}}
    assert (await phone.request(wrong_type, "ack"))["code"] == "invalid_choice"
    no_index = {"type": "input", "item": 0, "data": {"question": "0"}}
    assert (await phone.request(no_index, "ack"))["code"] == "bad_frame"
    no_item = {"type": "input", "data": {"question": 0, "choice": 0}}
    assert (await phone.request(no_item, "ack"))["code"] == "bad_frame"
    other_item = {"type": "input", "item": 1, "data": {"question": 0, "choice": 0}}
    assert (await phone.request(other_item, "ack"))["code"] == "not_open"
    assert (await phone.answer(0, choice=0))["type"] == "ack"
    await phone.close()
    await host.close()


async def test_host_controls_out_of_phase_and_unknown(live_server: ServerProcess) -> None:
    _, host = await _room(live_server)
    mark = len(host.frames)
    await host.control("next")
    assert (await host.wait_error("not_allowed", since=mark))["ref"] == "control"
    mark = len(host.frames)
    await host.control("selfdestruct")
    await host.wait_error("bad_frame", since=mark)
    await host.control("start")
    await host.wait_view("question")
    await host.close()


async def test_names_trimmed_unique_and_never_interpreted(live_server: ServerProcess) -> None:
    room, host = await _room(live_server)
    phones = [await Phone(live_server.ws_url).open() for _ in range(4)]
    names = ["  Anna   de  Vries ", "anna de vries", "<b>Bob</b>", "x" * 24]
    got = [(await p.join(room["code"], n))["name"] for p, n in zip(phones, names, strict=True)]
    assert got == ["Anna de Vries", "anna de vries 2", "<b>Bob</b>", "x" * 24]
    extra = await Phone(live_server.ws_url).open()
    for bad in ["", "   ", "y" * 25, 42]:
        assert (await extra.join(room["code"], bad))["code"] == "name_invalid"  # type: ignore[arg-type]
    for client in [*phones, extra, host]:
        await client.close()


async def test_lock_kick_and_bad_token(live_server: ServerProcess) -> None:
    room, host = await _room(live_server)
    code = room["code"]
    a = await Phone(live_server.ws_url).open()
    welcome = await a.join(code, "Weg")
    await host.control("lock")
    await host.wait_for(lambda f: f.get("type") == "view" and f["room"]["locked"])
    late = await Phone(live_server.ws_url).open()
    assert (await late.join(code, "Te laat"))["code"] == "room_locked"
    # Reconnects are still allowed in a locked room.
    await a.close()
    a = await Phone(live_server.ws_url).open()
    assert (await a.resume(code, welcome["token"]))["name"] == "Weg"
    await host.control("unlock")
    await host.wait_for(lambda f: f.get("type") == "view" and not f["room"]["locked"])
    assert (await late.join(code, "Te laat"))["type"] == "welcome"
    await host.control("kick", player=welcome["player"])
    kicked = await a.wait_error("kicked")
    assert "uit deze sessie" in kicked["message"]
    await a.closed.wait()
    again = await Phone(live_server.ws_url).open()
    assert (await again.resume(code, welcome["token"]))["code"] == "kicked"
    assert (await again.resume(code, "verzonnen-token"))["code"] == "bad_token"
    view = await host.wait_for(
        lambda f: f.get("type") == "view" and [p["name"] for p in f["players"]] == ["Te laat"]
    )
    assert view["room"]["players"] == 1
    for client in (again, late, host):
        await client.close()


async def test_room_full(tmp_path: object) -> None:
    from pathlib import Path

    server = ServerProcess(Path(str(tmp_path)), args=["--max-players", "2"]).start()
    try:
        room, host = await _room(server)
        phones = [await Phone(server.ws_url).open() for _ in range(3)]
        assert (await phones[0].join(room["code"], "A"))["type"] == "welcome"
        assert (await phones[1].join(room["code"], "B"))["type"] == "welcome"
        full = await phones[2].join(room["code"], "C")
        assert full["code"] == "room_full" and "vol" in full["message"]
        for client in [*phones, host]:
            await client.close()
    finally:
        server.stop()
