"""Names and removal (issue 13, point 7) on a real server: long names are refused with a message,
one name in two Unicode forms is one name, and a kicked phone stays out until the host lets it in."""

from __future__ import annotations

import unicodedata

import httpx

from tests.conftest import FAST_QUIZ, create_room, upload
from tests.support.phones import Frame, Host, Phone
from tests.support.servers import ServerProcess

DEVICE = "a3f1c09e5b7d4e2f8a6b1c3d5e7f9012"


async def _room(server: ServerProcess) -> tuple[dict[str, str], Host]:
    room = create_room(server.base, upload(server.base, FAST_QUIZ))
    host = await Host(server.ws_url).open()
    await host.attach(room["code"], room["host_secret"])
    return room, host


async def _hello(phone: Phone, code: str, **fields: str) -> Frame:
    return await phone.request(
        {"type": "hello", "role": "phone", "room": code, **fields}, "welcome"
    )


async def test_a_long_name_is_refused_with_a_message_not_cut(live_server: ServerProcess) -> None:
    room, host = await _room(live_server)
    phone = await Phone(live_server.ws_url).open()
    error = await phone.join(
        room["code"], "Annemarie Wilhelmina van Oldenbarnevelt-Scholten" + "x" * 12
    )
    assert error["code"] == "name_invalid" and error["ref"] == "hello"
    assert "24" in error["message"]
    for client in (phone, host):
        await client.close()


async def test_one_name_in_two_unicode_forms_is_one_name(live_server: ServerProcess) -> None:
    room, host = await _room(live_server)
    composed = unicodedata.normalize("NFC", "été")
    decomposed = unicodedata.normalize("NFD", "été")
    assert composed != decomposed
    first, second = Phone(live_server.ws_url), Phone(live_server.ws_url)
    await first.open()
    await second.open()
    assert (await first.join(room["code"], composed))["name"] == composed
    # The second "été" is the same name: it gets the suffix, and is stored in NFC.
    assert (await second.join(room["code"], decomposed))["name"] == composed + " 2"
    for client in (first, second, host):
        await client.close()


async def test_a_kicked_phone_stays_out_until_the_host_lets_it_back(
    live_server: ServerProcess,
) -> None:
    room, host = await _room(live_server)
    code = room["code"]
    phone = await Phone(live_server.ws_url).open()
    welcome = await _hello(phone, code, name="Kees", device=DEVICE)
    mark = len(host.frames)
    await host.control("kick", player=welcome["player"])
    done = await host.wait_for(lambda f: f.get("type") in ("done", "error"), since=mark)
    assert done == {"type": "done", "action": "kick", "player": welcome["player"]}
    await phone.wait_error("kicked")
    await phone.closed.wait()
    # The host's view lists the removed player, to let back in.
    await host.wait_for(
        lambda f: (
            f.get("type") == "view"
            and f.get("removed") == [{"id": welcome["player"], "name": "Kees"}]
        )
    )
    # The same browser cannot come straight back under another name…
    again = await Phone(live_server.ws_url).open()
    refused = await _hello(again, code, name="Kees", device=DEVICE)
    assert refused["code"] == "kicked" and refused["ref"] == "hello"
    assert (await _hello(again, code, name="Niet Kees", device=DEVICE))["code"] == "kicked"
    # …nor with its token.
    assert (await again.resume(code, welcome["token"]))["code"] == "kicked"
    # Another phone can join.
    other = await Phone(live_server.ws_url).open()
    assert (await _hello(other, code, name="Kees", device="b" * 32))["type"] == "welcome"
    # The host lets it back in: it joins again with a name, as a new player.
    mark = len(host.frames)
    await host.control("unkick", player=welcome["player"])
    done = await host.wait_for(lambda f: f.get("type") in ("done", "error"), since=mark)
    assert done == {"type": "done", "action": "unkick", "player": welcome["player"]}
    await host.wait_for(lambda f: f.get("type") == "view" and f.get("removed") == [])
    assert (await again.resume(code, welcome["token"]))["code"] == "bad_token"
    back = await _hello(again, code, name="Kees", device=DEVICE)
    assert back["type"] == "welcome" and back["player"] != welcome["player"]
    assert back["name"] == "Kees 2"
    for client in (again, other, host):
        await client.close()


async def test_unkick_of_a_player_who_was_not_removed_is_refused(
    live_server: ServerProcess,
) -> None:
    _, host = await _room(live_server)
    mark = len(host.frames)
    await host.control("unkick", player="p-nobody")
    error = await host.wait_error("not_allowed", since=mark)
    assert error["ref"] == "control"
    await host.close()


async def test_a_player_kicked_after_answering_is_not_scored(live_server: ServerProcess) -> None:
    room, host = await _room(live_server)
    stay, go = Phone(live_server.ws_url), Phone(live_server.ws_url)
    await stay.open()
    await go.open()
    await stay.join(room["code"], "Blijft")
    gone = await go.join(room["code"], "Gaat")
    await host.control("start")
    await go.wait_view("question", index=0)
    assert (await go.answer(0, choice=0))["type"] == "ack"
    await host.control("kick", player=gone["player"])
    await go.closed.wait()
    await host.control("close")
    await host.wait_view("reveal", index=0)
    await host.control("scoreboard")
    board = await host.wait_for(
        lambda f: f.get("type") == "view" and f.get("phase") == "scoreboard"
    )
    assert [row["name"] for row in board["scoreboard"]["top"]] == ["Blijft"]
    assert [p["name"] for p in board["players"]] == ["Blijft"]
    for client in (stay, host):
        await client.close()


async def test_a_player_removed_later_leaves_the_podium_of_a_quiz_played_before(
    live_server: ServerProcess,
) -> None:
    """A quiz played to its podium, then a kring; the host removes a player during the kring.
    Back at the quiz, its podium and scoreboard rank the others only (not the removed player,
    nor a "?" for their name), and so does the quiz's export."""
    quiz_id = upload(live_server.base, FAST_QUIZ)
    response = httpx.post(
        f"{live_server.base}/api/rooms",
        json={"programme": [{"quiz_id": quiz_id}, {"kind": "circle", "content": {}}]},
    )
    assert response.status_code == 201, response.text
    room = response.json()
    code = room["code"]
    host = await Host(live_server.ws_url).open()
    await host.attach(code, room["host_secret"])
    phones = {name: await Phone(live_server.ws_url).open() for name in ("Anna", "Bram", "Cas")}
    players = {name: (await p.join(code, name))["player"] for name, p in phones.items()}
    await host.control("start")
    for phone in phones.values():
        await phone.wait_view("question", index=0)
        assert (await phone.answer(0, choice=0))["type"] == "ack"
    await host.control("finish")
    podium = await host.wait_view("podium")
    assert sorted(row["name"] for row in podium["podium"]["top"]) == ["Anna", "Bram", "Cas"]

    since = len(host.frames)
    await host.control("begin", item=1)
    await host.wait_for(lambda f: f.get("phase") == "entry", since=since)
    await host.control("kick", player=players["Bram"])
    await phones["Bram"].closed.wait()

    since = len(host.frames)
    await host.control("begin", item=0)
    back = await host.wait_for(lambda f: f.get("phase") == "podium", since=since)
    assert sorted(row["name"] for row in back["podium"]["top"]) == ["Anna", "Cas"]
    assert sorted(row["name"] for row in back["scoreboard"]["top"]) == ["Anna", "Cas"]
    me = await phones["Cas"].wait_for(
        lambda f: f.get("type") == "me" and f.get("item") == 0 and f.get("of") == 2
    )
    assert me["rank"] in (1, 2)
    export = httpx.get(
        f"{live_server.base}/api/rooms/{code}/results.json?item=0",
        headers={"X-Host-Secret": room["host_secret"]},
    ).json()
    assert "Bram" not in str(export) and "?" not in {p.get("name") for p in export["players"]}
    for client in (host, phones["Anna"], phones["Cas"]):
        await client.close()
