"""Ending a session on a real server (docs/PROTOCOL.md, `end_session`): the websocket refusals
and the HTTP side — the room's info says it ended, its host gets the programme for the
downloads, a werkvorm can no longer be added, and the results still download."""

from __future__ import annotations

import httpx

from tests.conftest import FAST_QUIZ, create_room, upload
from tests.support.phones import Host, Phone, answer_frame
from tests.support.servers import ServerProcess


async def test_an_ended_session_over_websocket_and_http(live_server: ServerProcess) -> None:
    base = live_server.base
    room = create_room(base, upload(base, FAST_QUIZ))
    code, secret = room["code"], room["host_secret"]
    host = await Host(live_server.ws_url).open()
    await host.attach(code, secret)
    phone = await Phone(live_server.ws_url).open()
    await phone.join(code, "Anna")
    refused = await phone.request({"type": "control", "action": "end_session"}, "done")
    assert (refused["type"], refused["code"]) == ("error", "not_host")

    await host.command("end_session")
    ended = await phone.wait_for(
        lambda f: f.get("type") == "view" and f["room"].get("ended") is True
    )
    assert ended["room"]["ended"] is True
    late = await phone.request(answer_frame(0, 0), "ack")
    assert (late["type"], late["code"], late["ref"]) == ("error", "session_ended", "input")
    assert "afgelopen" in late["message"]
    newcomer = await Phone(live_server.ws_url).open()
    join = await newcomer.request(
        {"type": "hello", "role": "phone", "room": code, "name": "Laat", "lang": "en"}, "welcome"
    )
    assert (join["type"], join["code"]) == ("error", "session_ended")
    assert "ended" in join["message"]

    info = httpx.get(f"{base}/api/rooms/{code}").json()
    assert info["ended"] is True and "programme" not in info
    hosted = httpx.get(f"{base}/api/rooms/{code}", headers={"X-Host-Secret": secret}).json()
    assert hosted["programme"] == [{"kind": "quiz", "title": "Testquiz", "ran": True}]
    added = httpx.post(
        f"{base}/api/rooms/{code}/programme",
        json={"kind": "circle", "content": {}},
        headers={"X-Host-Secret": secret},
    )
    assert (added.status_code, added.json()["code"]) == (409, "session_ended")
    results = httpx.get(
        f"{base}/api/rooms/{code}/results.csv?item=0", headers={"X-Host-Secret": secret}
    )
    assert results.status_code == 200
    for client in (host, phone, newcomer):
        await client.close()
