"""docs/PROTOCOL.md as a contract, on a real server: the behaviour a client writer relies on."""

from __future__ import annotations

import msgpack
import pytest

from tests.conftest import FAST_QUIZ, create_room, upload
from tests.support.phones import Frame, Host, Phone
from tests.support.servers import ServerProcess


async def _room(server: ServerProcess) -> tuple[dict[str, str], Host]:
    room = create_room(server.base, upload(server.base, FAST_QUIZ))
    host = await Host(server.ws_url).open()
    await host.attach(room["code"], room["host_secret"])
    return room, host


async def _error_after(phone: Phone, data: bytes | str) -> Frame:
    mark = len(phone.frames)
    await phone.send_raw(data)
    return await phone.wait_for(lambda f: f.get("type") == "error", since=mark)


@pytest.mark.parametrize(
    ("frame", "code", "ref"),
    [
        (msgpack.packb({"type": "launch_missiles"}), "bad_frame", "launch_missiles"),
        (msgpack.packb({"type": "ping", "pad": "x" * 5000}), "frame_too_large", "ping"),
        (msgpack.packb({"type": "input", "item": 0, "data": {}}), "hello_first", "input"),
        (msgpack.packb({"type": "hello", "role": "alien", "room": "1"}), "bad_frame", "hello"),
        (msgpack.packb({"no": "type"}), "bad_frame", None),
        (msgpack.packb([1, 2]), "bad_frame", None),
        (b"\xc1 not msgpack", "bad_frame", None),
        ('{"type": "ping"}', "bad_frame", None),  # a text frame
    ],
)
async def test_every_error_names_the_frame_it_answers(
    live_server: ServerProcess, frame: bytes | str, code: str, ref: str | None
) -> None:
    phone = await Phone(live_server.ws_url).open()
    error = await _error_after(phone, frame)
    assert error["code"] == code
    assert error.get("ref") == ref  # `ref` whenever the frame had a readable `type`
    assert (await phone.request({"type": "ping"}, "pong"))["type"] == "pong"  # still open
    await phone.close()


async def test_errors_on_a_joined_socket_carry_ref(live_server: ServerProcess) -> None:
    room, host = await _room(live_server)
    phone = await Phone(live_server.ws_url).open()
    await phone.join(room["code"], "Ref")
    bad = await _error_after(
        phone, msgpack.packb({"type": "input", "item": "0", "data": {"question": 0}})
    )
    assert (bad["code"], bad["ref"]) == ("bad_frame", "input")
    big = await _error_after(phone, msgpack.packb({"type": "input", "pad": "x" * 5000}))
    assert (big["code"], big["ref"]) == ("frame_too_large", "input")
    control = await _error_after(phone, msgpack.packb({"type": "control", "action": "start"}))
    assert (control["code"], control["ref"]) == ("not_host", "control")
    for client in (phone, host):
        await client.close()


async def test_the_room_in_the_socket_url_is_only_a_hint(live_server: ServerProcess) -> None:
    """`/ws?room=CODE` is for balancers: the hello decides the room, whatever the URL says."""
    first, first_host = await _room(live_server)
    second, second_host = await _room(live_server)
    named = await Phone(f"{live_server.ws_url}?room={first['code']}").open()
    welcome = await named.join(first["code"], "Hint")
    assert (welcome["room"], welcome["name"]) == (first["code"], "Hint")
    other = await Phone(f"{live_server.ws_url}?room={first['code']}").open()
    assert (await other.join(second["code"], "Elders"))["room"] == second["code"]
    for host in (first_host, second_host):  # one player each
        await host.wait_for(lambda f: f.get("type") == "view" and f["room"]["players"] == 1)
        assert host.view is not None and host.view["room"]["players"] == 1
    for client in (named, other, first_host, second_host):
        await client.close()


async def test_control_gets_done_once_the_change_is_stored(live_server: ServerProcess) -> None:
    _, host = await _room(live_server)
    mark = len(host.frames)
    await host.control("lock")
    done = await host.wait_for(lambda f: f.get("type") in ("done", "error"), since=mark)
    assert done == {"type": "done", "action": "lock"}
    await host.wait_for(lambda f: f.get("type") == "view" and f["room"]["locked"], since=mark)
    mark = len(host.frames)
    await host.control("next")  # not allowed in the lobby: an error, no done
    error = await host.wait_for(lambda f: f.get("type") in ("done", "error"), since=mark)
    assert (error["type"], error["code"], error["ref"]) == ("error", "not_allowed", "control")
    await host.close()


async def test_ack_too_late_and_not_open(live_server: ServerProcess) -> None:
    room, host = await _room(live_server)
    early, late = Phone(live_server.ws_url), Phone(live_server.ws_url)
    await early.open()
    await late.open()
    await early.join(room["code"], "Vroeg")
    await late.join(room["code"], "Laat")
    await host.control("start")
    await late.wait_view("question", index=0)
    ack = await early.answer(0, choice=2)
    assert ack == {"type": "ack", "item": 0, "question": 0, "choice": 2, "value": None}
    await host.control("close")
    await late.wait_view("reveal", index=0)
    # The question just closed: too late (also while the reveal and scoreboard are shown)…
    assert (await late.answer(0, choice=0))["code"] == "too_late"
    await host.control("next")
    await late.wait_view("question", index=1)
    # …once another question is open, an answer to the old one is for a question not open.
    assert (await late.answer(0, choice=0))["code"] == "not_open"
    for client in (early, late, host):
        await client.close()


async def test_a_second_hello_on_one_socket_switches_identity(live_server: ServerProcess) -> None:
    room, host = await _room(live_server)
    phone = await Phone(live_server.ws_url).open()
    first = await phone.join(room["code"], "Eerst")
    again = await phone.resume(room["code"], first["token"])
    assert again["type"] == "welcome" and again["player"] == first["player"]
    # A second socket with the same token is the same player: one answer between them.
    twin = await Phone(live_server.ws_url).open()
    assert (await twin.resume(room["code"], first["token"]))["player"] == first["player"]
    # A second player who does not answer keeps the question open (it would close as soon as
    # everybody answered, and the twin would be told it is too late).
    silent = await Phone(live_server.ws_url).open()
    await silent.join(room["code"], "Stil")
    await host.control("start")
    await twin.wait_view("question", index=0)
    assert (await phone.answer(0, choice=0))["type"] == "ack"
    assert (await twin.answer(0, choice=1))["code"] == "already_answered"
    for client in (phone, twin, silent, host):
        await client.close()
