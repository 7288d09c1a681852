"""A whole Themaquiz over real websockets against a real uvicorn: 24 phones, reconnects, bad moves."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx

from tests.conftest import FAST_QUIZ, create_room, upload
from tests.support.phones import Host, Phone, WsClient
from tests.support.servers import ServerProcess

PHONES = 24


async def _join_all(server: ServerProcess, code: str, n: int) -> list[Phone]:
    phones = [await Phone(server.ws_url).open() for _ in range(n)]
    welcomes = await asyncio.gather(*(p.join(code, f"Speler {i}") for i, p in enumerate(phones)))
    assert all(w["type"] == "welcome" for w in welcomes), welcomes
    return phones


async def _started(
    server: ServerProcess, quiz: dict[str, Any], phones: int
) -> tuple[str, Host, list[Phone]]:
    """A fresh room of `quiz` with its host and `phones` joined phones; question 0 is open."""
    quiz_id = upload(server.base, quiz)
    room = create_room(server.base, quiz_id)
    host = await Host(server.ws_url).open()
    await host.attach(room["code"], room["host_secret"])
    joined = await _join_all(server, room["code"], phones)
    await host.control("start")
    return room["code"], host, joined


async def _two_phones_first_answered(
    server: ServerProcess,
) -> tuple[str, Host, Phone, Phone]:
    """A room code, its host and two phones; question 0 is open and phone a answered it (0)."""
    code, host, (a, b) = await _started(server, FAST_QUIZ, 2)
    await a.wait_view("question", index=0)
    assert (await a.answer(0, choice=0))["type"] == "ack"
    return code, host, a, b


async def test_full_quiz_with_reconnect_late_duplicate_and_intruder(
    live_server: ServerProcess,
) -> None:
    quiz_id = upload(live_server.base, FAST_QUIZ)
    room = create_room(live_server.base, quiz_id, team="Jeugdteam Oost")
    code = room["code"]
    host = await Host(live_server.ws_url).open()
    screen = await WsClient(live_server.ws_url).open()
    assert (await host.attach(code, room["host_secret"]))["type"] == "welcome"
    await screen.send({"type": "hello", "role": "screen", "room": code})
    phones = await _join_all(live_server, code, PHONES)
    lobby = await screen.wait_for(
        lambda f: f.get("type") == "view" and f.get("lobby", {}).get("count") == PHONES
    )
    assert "Speler 0" in lobby["lobby"]["names"]

    # A phone cannot steer the room.
    intruder = phones[5]
    mark = len(intruder.frames)
    await intruder.send({"type": "control", "action": "start"})
    assert (await intruder.wait_error("not_host", since=mark))["message"].startswith("Alleen")
    # A host hello with a wrong secret is refused too, and that socket still works afterwards.
    fake_host = await Host(live_server.ws_url).open()
    assert (await fake_host.attach(code, "raad-maar"))["code"] == "not_host"
    assert (await fake_host.request({"type": "ping"}, "pong"))["type"] == "pong"
    await fake_host.close()

    rng = random.Random(7)
    expected_choice: dict[int, list[int | float]] = {}
    await host.control("start")
    for index in range(3):
        views = await asyncio.gather(*(p.wait_view("question", index=index) for p in phones))
        question = views[0]["question"]
        assert all(v["question"]["index"] == index for v in views)
        assert "reveal" not in views[0] and "correct" not in str(question)

        if index == 0:
            # Phone 3 drops mid-question and comes back with its token, answers after resuming.
            first = phones[3].welcome
            assert first is not None
            await phones[3].close()
            phones[3] = await Phone(live_server.ws_url).open()
            back = await phones[3].resume(code, first["token"])
            assert (back["name"], back["player"]) == ("Speler 3", first["player"])
            await phones[3].wait_view("question", index=0)

        choices: list[int | float] = []
        for i, phone in enumerate(phones):
            if question["type"] == "estimate":
                value: int | float = rng.choice([50, 48, 90, 10])
                ack = await phone.answer(index, value=value)
            else:
                value = rng.randrange(len(question["options"]))
                ack = await phone.answer(index, choice=value)
            assert ack["type"] == "ack", (i, ack)
            choices.append(value)
        expected_choice[index] = choices

        # Duplicate: the first answer counts, the second gets a clear message.
        dup = (
            await phones[0].answer(index, choice=0)
            if question["type"] != "estimate"
            else (await phones[0].answer(index, value=1))
        )
        assert dup["code"] == "already_answered" and "al beantwoord" in dup["message"]

        # All connected phones answered → the question closes by itself.
        reveal = await screen.wait_view("reveal", index=index)
        if question["type"] != "estimate":
            counts = [0] * len(question["options"])
            for c in choices:
                counts[int(c)] += 1
            assert reveal["reveal"]["distribution"] == counts
        assert reveal["answered"]["count"] == PHONES

        # A late answer after the close is refused and changes nothing.
        late = await phones[1].answer(index, choice=0)
        assert late["code"] == "too_late"
        if index < 2:
            await host.control("scoreboard")
            board = await screen.wait_view("scoreboard")
            assert len(board["scoreboard"]["top"]) == 10
            await host.control("next")
    await host.control("next")
    podium = await screen.wait_view("podium")
    assert podium["podium"]["bokaal"]["winner"] == podium["podium"]["top"][0]["name"]

    # Everybody's own frame agrees with the exported results.
    export = httpx.get(
        f"{live_server.base}/api/rooms/{code}/results.json",
        headers={"X-Host-Secret": room["host_secret"]},
    ).json()
    by_name = {p["name"]: p for p in export["players"]}
    assert len(by_name) == PHONES
    await asyncio.sleep(0.3)
    for i, phone in enumerate(phones):
        me = phone.me
        assert me is not None
        assert me["score"] == by_name[f"Speler {i}"]["score"], i
        assert me["rank"] == by_name[f"Speler {i}"]["rank"]
        assert len(by_name[f"Speler {i}"]["answers"]) == 3
    scores = [p["score"] for p in export["ranking"]]
    assert scores == sorted(scores, reverse=True)
    assert podium["podium"]["top"][0]["score"] == scores[0]
    for client in [*phones, host, screen]:
        await client.close()


async def test_reconnect_keeps_score_and_given_answer(live_server: ServerProcess) -> None:
    code, host, a, b = await _two_phones_first_answered(live_server)
    token = a.welcome["token"]  # type: ignore[index]
    await a.close()  # screen lock in the middle of a question
    a2 = await Phone(live_server.ws_url).open()
    welcome = await a2.resume(code, token)
    assert welcome["name"] == "Speler 0"
    me = await a2.wait_for(lambda f: f.get("type") == "me" and "answer" in f)
    assert me["answer"] == {"question": 0, "choice": 0, "value": None}
    again = await a2.answer(0, choice=1)  # a second tap after the reload
    assert again["code"] == "already_answered"
    await host.control("close")
    await a2.wait_view("reveal")
    result = await a2.wait_for(lambda f: f.get("type") == "me" and "result" in f)
    assert result["result"]["correct"] is True and result["score"] > 500
    score = result["score"]
    await a2.close()
    a3 = await Phone(live_server.ws_url).open()
    await a3.resume(code, token)
    me = await a3.wait_for(lambda f: f.get("type") == "me")
    assert me["score"] == score and me["name"] == "Speler 0"
    for client in (a3, b, host):
        await client.close()


# The close at the question's deadline (it used to wait 5 real seconds here) is
# tests/contract/test_attendance.py::test_the_question_closes_at_its_deadline_on_the_hub_clock,
# on the hub's clock; tests/faults/test_worker_kill.py still sees a real server close on time.


async def test_scoreboard_and_next_question_send_no_personal_frames(
    live_server: ServerProcess,
) -> None:
    """`me` goes out only when it changes (docs/PROTOCOL.md): the reveal brings each phone its
    result; the scoreboard and the next question are one shared view, with no `me` per phone."""
    _, host, a, b = await _two_phones_first_answered(live_server)
    await host.control("close")
    for phone in (a, b):
        await phone.wait_view("reveal")
        await phone.wait_for(lambda f: f.get("type") == "me" and "result" in f)
    revealed = {id(p): dict(p.me or {}) for p in (a, b)}
    since = {id(p): len(p.frames) for p in (a, b)}
    await host.control("scoreboard")
    for phone in (a, b):
        await phone.wait_view("scoreboard")
    await host.control("next")
    for phone in (a, b):
        await phone.wait_view("question", index=1)
        await phone.request({"type": "ping"}, "pong")  # everything sent before is read
        later = phone.frames[since[id(phone)] :]
        assert [f for f in later if f.get("type") == "me"] == []
        assert {f.get("phase") for f in later if f.get("type") == "view"} >= {
            "scoreboard",
            "question",
        }
    assert (await b.answer(1, choice=1))["type"] == "ack"
    me = await b.wait_for(lambda f: f.get("type") == "me" and "answer" in f, since=since[id(b)])
    assert me["answer"] == {"question": 1, "choice": 1, "value": None}
    assert me["result"] == {k: v for k, v in revealed[id(b)]["result"].items()}
    assert me["score"] == revealed[id(b)]["score"]
    for client in (a, b, host):
        await client.close()


async def test_scoreboard_movement_follows_the_ranks_before_the_question(
    live_server: ServerProcess,
) -> None:
    """The arrows on the scoreboard compare with the ranking before the question; the close takes
    that ranking from the render's cache when it has one, so it must be the right one."""
    _, host, (a, b, c) = await _started(live_server, FAST_QUIZ, 3)
    names = {id(a): "Speler 0", id(b): "Speler 1", id(c): "Speler 2"}
    for phone in (a, b, c):
        await phone.wait_view("question", index=0)
    # Question 1 (option 0 is right): a right and fast, c right and slower, b wrong.
    assert (await a.answer(0, choice=0))["type"] == "ack"
    await asyncio.sleep(0.3)
    assert (await c.answer(0, choice=0))["type"] == "ack"
    assert (await b.answer(0, choice=1))["type"] == "ack"
    await host.wait_view("reveal", index=0)  # everyone answered: closed by itself
    await host.control("scoreboard")
    first = (await host.wait_view("scoreboard"))["scoreboard"]["top"]
    before = {row["name"]: row["rank"] for row in first}
    assert before == {names[id(a)]: 1, names[id(c)]: 2, names[id(b)]: 3}
    assert [row["movement"] for row in first] == [0, 0, 0]
    await host.control("next")
    for phone in (a, b, c):
        await phone.wait_view("question", index=1)
    # Question 2 (true: option 0): c and b right, a wrong, so c passes a.
    assert (await c.answer(1, choice=0))["type"] == "ack"
    assert (await b.answer(1, choice=0))["type"] == "ack"
    assert (await a.answer(1, choice=1))["type"] == "ack"
    await host.wait_view("reveal", index=1)
    mark = len(host.frames)
    await host.control("scoreboard")
    second = (
        await host.wait_for(
            lambda f: f.get("type") == "view" and f.get("phase") == "scoreboard", since=mark
        )
    )["scoreboard"]["top"]
    assert second[0]["name"] == names[id(c)]
    for row in second:
        assert row["movement"] == before[row["name"]] - row["rank"], row
    assert second[0]["movement"] == 1
    for client in (a, b, c, host):
        await client.close()
