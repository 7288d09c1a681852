"""A room with a programme [quiz, kring] over real websockets against a real uvicorn: 21 phones
play the quiz, follow the host into the binnen- en buitenkring without joining again, enter,
meet their partners through two rotations, and see the team's map; exports and the history."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from tests.conftest import FAST_QUIZ, upload
from tests.support.phones import Frame, Host, Phone, WsClient
from tests.support.servers import ServerProcess

PHONES = 21  # odd: exactly one trio
DOMAINS = ["inkomen", "veiligheid", "participatie"]
QUIZ: dict[str, Any] = {
    **FAST_QUIZ,
    "id": "test-kring-quiz",
    "questions": [FAST_QUIZ["questions"][1]],
}
KRING = {"kind": "circle", "content": {"title": "Onze kring"}}  # the default eight domains


# A word of each error's own Dutch message (not the generic "Dat kan nu niet.").
WORD = {"invalid_grade": "cijfer", "invalid_domain": "domein", "invalid_reason": "toelichting"}


def entry_of(i: int) -> dict[str, Any]:
    """Phone i's final entry: every domain gets several grades, among them 7, 8 and 9."""
    return {"domain": DOMAINS[i % 3], "grade": (i * 7) % 10 + 1, "reason": f"reden {i}"}


def input_frame(data: dict[str, Any], item: int = 1) -> Frame:
    return {"type": "input", "item": item, "data": data}


def create_programme_room(server: ServerProcess, team: str = "") -> dict[str, Any]:
    quiz_id = upload(server.base, QUIZ)
    response = httpx.post(
        f"{server.base}/api/rooms",
        json={"programme": [{"quiz_id": quiz_id}, KRING], "team": team},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def shown_average(grades: list[int]) -> float:
    exact = Decimal(sum(grades)) / Decimal(len(grades))
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


async def wait_me(client: WsClient, since: int, timeout: float = 10.0, **has: Any) -> Frame:
    """The first `me` from frame index `since` with every key of `has` (value None: present)."""

    def ok(f: Frame) -> bool:
        if f.get("type") != "me":
            return False
        return all(k in f and (v is None or f[k] == v) for k, v in has.items())

    return await client.wait_for(ok, timeout, since=since)


async def wait_phase(
    client: WsClient, phase: str, since: int = 0, timeout: float = 10.0, **match: Any
) -> Frame:
    def ok(f: Frame) -> bool:
        return (
            f.get("type") == "view"
            and f.get("activity") == "circle"
            and f.get("phase") == phase
            and all(f.get(k) == v for k, v in match.items())
        )

    return await client.wait_for(ok, timeout, since=since)


def seating(mes: list[Frame], names: list[str]) -> dict[str, frozenset[str]]:
    """Each phone's name → the names of its partners, checked to be symmetric."""
    partners = {names[i]: frozenset(p["name"] for p in me["partners"]) for i, me in enumerate(mes)}
    for name, others in partners.items():
        assert others, f"{name} has no partner"
        for other in others:
            assert name in partners[other], (name, other)
    return partners


async def test_quiz_then_kring_for_21_phones(live_server: ServerProcess) -> None:
    server = live_server
    room = create_programme_room(server)
    code, secret = room["code"], room["host_secret"]
    host = await Host(server.ws_url).open()
    assert (await host.attach(code, secret))["type"] == "welcome"
    screen = await WsClient(server.ws_url).open()
    await screen.send({"type": "hello", "role": "screen", "room": code})
    phones = [await Phone(server.ws_url).open() for _ in range(PHONES)]
    names = [f"Speler {i}" for i in range(PHONES)]
    welcomes = await asyncio.gather(*(p.join(code, n) for p, n in zip(phones, names, strict=True)))
    tokens = [w["token"] for w in welcomes]
    players = [w["player"] for w in welcomes]

    # ---- item 0: the quiz, played to its reveal ------------------------------------------------
    await host.control("start")
    for phone in phones:
        await phone.wait_view("question", index=0)
        assert (await phone.answer(0, choice=0))["type"] == "ack"
    await screen.wait_view("reveal", index=0)
    for phone in phones:
        await phone.wait_view("reveal", index=0)
        await phone.request({"type": "ping"}, "pong")  # everything sent before is read

    # ---- item 1: the kring; every phone follows without joining again ------------------------
    marks = [len(p.frames) for p in phones]
    await host.control("begin", item=1)
    for phone, mark in zip(phones, marks, strict=True):
        view = await phone.wait_for(lambda f: f.get("type") == "view", since=mark)
        assert (view["activity"], view["item"], view["phase"]) == ("circle", 1, "entry")
    # Nobody re-joined: the same players, no new welcome.
    assert all(
        not [f for f in p.frames[m:] if f.get("type") == "welcome"]
        for p, m in zip(phones, marks, strict=True)
    )
    # Only the host edits the domains; the phones' next view carries the new list.
    intruder = phones[5]
    for action, extra in [
        ("domains", {"domains": ["hack"]}),
        ("lock_grades", {}),
        ("rotate", {"places": 1}),
        ("reveal", {}),
        ("privacy", {"hide_names": True}),
    ]:
        mark = len(intruder.frames)
        await intruder.send({"type": "control", "action": action, **extra})
        assert (await intruder.wait_error("not_host", since=mark))["message"].startswith("Alleen")
    mark = len(phones[0].frames)
    await host.control("domains", domains=DOMAINS)
    for phone in phones:
        await wait_phase(phone, "entry", domains=DOMAINS)

    # ---- entries: invalid ones refused with a Dutch message, the socket keeps working ---------
    tester = phones[1]
    refused = [
        ({"domain": DOMAINS[0], "grade": 0}, "invalid_grade"),
        ({"domain": DOMAINS[0], "grade": 11}, "invalid_grade"),
        ({"domain": DOMAINS[0], "grade": "7"}, "invalid_grade"),
        ({"domain": DOMAINS[0], "grade": True}, "invalid_grade"),
        ({"domain": DOMAINS[0], "grade": 7.5}, "invalid_grade"),
        ({"domain": "onbekend domein", "grade": 7}, "invalid_domain"),
        ({"domain": DOMAINS[0], "grade": 7, "reason": "x" * 281}, "invalid_reason"),
        ({"domain": DOMAINS[0], "grade": 7, "reason": 12}, "invalid_reason"),
    ]
    for data, wanted in refused:
        reply = await tester.request(input_frame(data), "ack")
        assert (reply["type"], reply["code"]) == ("error", wanted), (data, reply)
        assert WORD[wanted] in reply["message"], reply  # a Dutch message of its own
        assert (await tester.request({"type": "ping"}, "pong"))["type"] == "pong"
    # An entry for the quiz item (not the one running) is refused too.
    wrong_item = await tester.request(input_frame(entry_of(1), item=0), "ack")
    assert wrong_item["code"] == "not_open"

    # Phone 0 first enters something else, then changes it before the lock.
    first = {"domain": DOMAINS[2], "grade": 2, "reason": "eerst"}
    assert (await phones[0].request(input_frame(first), "ack"))["grade"] == 2
    me = await wait_me(phones[0], 0, entry=None)
    await phones[0].wait_for(
        lambda f: f.get("type") == "me" and (f.get("entry") or {}).get("reason") == "eerst"
    )
    for i, phone in enumerate(phones):
        ack = await phone.request(input_frame(entry_of(i)), "ack")
        assert ack["type"] == "ack" and ack["item"] == 1, (i, ack)
        assert (ack["domain"], ack["grade"]) == (entry_of(i)["domain"], entry_of(i)["grade"])
    me = await phones[0].wait_for(
        lambda f: f.get("type") == "me" and (f.get("entry") or {}).get("reason") == "reden 0"
    )
    assert me["entry"] == {**entry_of(0), "stale": False}
    entered = await host.wait_for(
        lambda f: f.get("type") == "view" and f.get("phase") == "entry" and f.get("entered") == 21
    )
    assert entered["of"] == PHONES

    # ---- lock: circles, places, partners and their entries ------------------------------------
    marks = [len(p.frames) for p in phones]
    await host.control("lock_grades")
    rounds = await wait_phase(host, "rounds")
    assert rounds["round"] == 1 and rounds["trio"] > 0
    assert rounds["inner"] + rounds["outer"] == PHONES
    mes = [await wait_me(p, m, seated=True) for p, m in zip(phones, marks, strict=True)]
    by_name = {names[i]: entry_of(i) for i in range(PHONES)}
    for i, me in enumerate(mes):
        assert me["circle"] in ("inner", "outer") and me["place"] >= 1, me
        assert me["entry"] == {**entry_of(i), "stale": False}
        for partner in me["partners"]:
            assert partner["entry"] == {**by_name[partner["name"]], "stale": False}
            assert partner["circle"] != me["circle"] or me["trio"], (i, me)
    trio = [names[i] for i, me in enumerate(mes) if me["trio"]]
    assert len(trio) == 3, trio  # exactly one trio of 21
    round1 = seating(mes, names)
    assert all(round1[n] == frozenset(set(trio) - {n}) for n in trio)
    assert sum(1 for n in names if len(round1[n]) == 1) == PHONES - 3

    # An entry after the lock is refused.
    late = await phones[2].request(input_frame(entry_of(3)), "ack")
    assert late["type"] == "error" and late["code"] in ("not_open", "too_late"), late

    # ---- two rotations (1 place, then 2) change the partners ----------------------------------
    seatings = [round1]
    for places, round_no in ((1, 2), (2, 3)):
        marks = [len(p.frames) for p in phones]
        await host.control("rotate", places=places)
        view = await wait_phase(host, "rounds", round=round_no)
        assert view["requested"] == places
        mes = [await wait_me(p, m, seated=True) for p, m in zip(phones, marks, strict=True)]
        seated = seating(mes, names)
        changed = [n for n in names if seated[n] != seatings[-1][n]]
        assert len(changed) >= PHONES - 3, (places, changed)  # (a trio may keep one member)
        assert sum(1 for me in mes if me["trio"]) == 3
        seatings.append(seated)

    # ---- a phone back with its token gets its seat, partner and entry back ---------------------
    before = mes[4]
    await phones[4].close()
    phones[4] = await Phone(server.ws_url).open()
    back = await phones[4].resume(code, tokens[4])
    assert (back["player"], back["name"]) == (players[4], names[4])
    again = await wait_me(phones[4], 0, seated=True)
    for key in ("circle", "place", "partners", "entry", "trio", "extra"):
        assert again[key] == before[key], key

    # ---- reveal: per domain count and average of the entered grades, names of 7–9 -------------
    await host.control("reveal")
    revealed = await wait_phase(screen, "reveal")
    phone_view = await wait_phase(phones[0], "reveal")
    figures = {d["domain"]: d for d in revealed["domains"]}
    assert list(figures) == DOMAINS
    for domain in DOMAINS:
        given = [
            (names[i], entry_of(i)["grade"])
            for i in range(PHONES)
            if i % 3 == DOMAINS.index(domain)
        ]
        grades = [g for _, g in given]
        figure = figures[domain]
        assert figure["count"] == len(grades)
        assert figure["average"] == shown_average(grades)
        assert figure["distribution"] == [grades.count(g) for g in range(1, 11)]
        named = {g["grade"]: g["names"] for g in figure["named"]}
        for grade in (7, 8, 9):
            assert named[grade] == sorted(n for n, g in given if g == grade), (domain, grade)
        assert any(named.values()), domain  # the test data has names to show
    assert all("named" not in d for d in phone_view["domains"])  # a phone sees no names
    assert "overview" not in phone_view

    marks = len(screen.frames)
    await host.control("privacy", hide_names=True)
    hidden = await wait_phase(screen, "reveal", since=marks, hide_names=True)
    assert all("named" not in d for d in hidden["domains"])
    assert "overview" not in hidden
    assert [d["average"] for d in hidden["domains"]] == [figures[d]["average"] for d in DOMAINS]

    # ---- exports of both programme items, JSON and CSV ----------------------------------------
    def get(path: str) -> httpx.Response:
        response = httpx.get(
            f"{server.base}/api/rooms/{code}/{path}", headers={"X-Host-Secret": secret}
        )
        assert response.status_code == 200, (path, response.text)
        return response

    quiz = get("results.json?item=0").json()
    assert {p["name"] for p in quiz["players"]} == set(names)
    assert all(len(p["answers"]) == 1 for p in quiz["players"])
    assert get("results.csv?item=0").text.splitlines()[0]
    kring = get("results.json?item=1").json()
    people = {p["name"]: p for p in kring["people"]}
    assert set(people) == set(names)
    for i, name in enumerate(names):
        wanted = entry_of(i)
        assert {k: people[name][k] for k in ("domain", "grade", "reason")} == wanted
        assert people[name]["valid"] is True
    for figure in kring["per_domain"]:
        grades = [entry_of(i)["grade"] for i in range(PHONES) if DOMAINS[i % 3] == figure["domain"]]
        assert figure["average"] == sum(grades) / len(grades)
    text = get("results.csv?item=1").text
    assert text.startswith("\ufeff")  # a BOM, as every werkvorm's CSV: Excel reads accents right
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["naam", "domein", "cijfer", "toelichting", "geldig"]
    per_person = {r[0]: r[1:] for r in rows[1 : PHONES + 1]}
    assert per_person == {
        names[i]: [entry_of(i)["domain"], str(entry_of(i)["grade"]), entry_of(i)["reason"], "ja"]
        for i in range(PHONES)
    }
    assert rows[PHONES + 1] == []
    for client in [*phones, host, screen]:
        await client.close()


async def _kring_revealed(server: ServerProcess, team: str, grades: list[int]) -> str:
    """A room whose programme is one kring, for `team`: one phone per grade enters it in the
    first domain, the host locks and reveals. Returns the room code."""
    response = httpx.post(
        f"{server.base}/api/rooms",
        json={"programme": [{"kind": "circle", "content": {"domains": DOMAINS}}], "team": team},
    )
    assert response.status_code == 201, response.text
    room = response.json()
    host = await Host(server.ws_url).open()
    await host.attach(room["code"], room["host_secret"])
    phones = [await Phone(server.ws_url).open() for _ in grades]
    for i, phone in enumerate(phones):
        await phone.join(room["code"], f"Collega {i}")
    for phone, grade in zip(phones, grades, strict=True):
        reply = await phone.request(input_frame({"domain": DOMAINS[0], "grade": grade}, 0), "ack")
        assert reply["type"] == "ack", reply
    await host.control("lock_grades")
    await wait_phase(host, "rounds")
    await host.control("reveal")
    await wait_phase(host, "reveal")
    for client in [*phones, host]:
        await client.close()
    return str(room["code"])


async def test_kring_history_per_team(live_server: ServerProcess) -> None:
    team = f"Wijkteam {uuid.uuid4().hex[:8]}"
    url = f"{live_server.base}/api/history/kring"
    assert httpx.get(url, params={"team": team}).json()["history"] == []
    first = await _kring_revealed(live_server, team, [7, 8])
    second = await _kring_revealed(live_server, team, [4, 5, 9])
    other = await _kring_revealed(live_server, team + " anders", [6, 6])
    response = httpx.get(url, params={"team": f"  {team} "})
    assert response.status_code == 200
    history = response.json()["history"]
    assert [h["room"] for h in history] == [first, second]
    assert all(h["team"] == team and h["item"] == 0 for h in history)
    assert [h["domains"][0]["count"] for h in history] == [2, 3]
    assert [h["domains"][0]["average"] for h in history] == [7.5, 6.0]
    assert history[0]["domains"][0]["names"] == ["Collega 1", "Collega 0"]  # 8, then 7
    assert [
        h["room"] for h in httpx.get(url, params={"team": team + " anders"}).json()["history"]
    ] == [other]
    assert httpx.get(url).json()["history"] == []
    assert (
        httpx.get(f"{live_server.base}/api/history/geheim", params={"team": team}).status_code
        == 404
    )


async def test_the_programme_tells_a_finished_item_from_one_left_halfway(
    live_server: ServerProcess,
) -> None:
    """A quiz left in its lobby is `ran` but not `finished` (the host page says "onderbroken",
    "Hier verdergaan"); played to its podium and left, it is `finished` ("gedaan"); the
    running item's `finished` follows its phase."""
    room = create_programme_room(live_server)
    host = await Host(live_server.ws_url).open()
    assert (await host.attach(room["code"], room["host_secret"]))["type"] == "welcome"
    phone = await Phone(live_server.ws_url).open()
    await phone.join(room["code"], "Anna")

    async def programme_after(action: str, phase: str, **extra: Any) -> list[dict[str, Any]]:
        """The programme in the host's first view of `phase` after `action`."""
        since = len(host.frames)
        await host.control(action, **extra)
        view = await host.wait_for(
            lambda f: f.get("type") == "view" and f.get("phase") == phase, since=since
        )
        return [{k: p[k] for k in ("kind", "ran", "finished")} for p in view["programme"]]

    unfinished = {"kind": "circle", "ran": False, "finished": False}
    assert await programme_after("begin", "entry", item=1) == [
        {"kind": "quiz", "ran": True, "finished": False},
        {"kind": "circle", "ran": False, "finished": False},
    ]
    assert await programme_after("begin", "lobby", item=0) == [
        {"kind": "quiz", "ran": True, "finished": False},
        {**unfinished, "ran": True},
    ]
    await host.control("start")
    await phone.wait_view("question", index=0)
    assert await programme_after("finish", "podium") == [
        {"kind": "quiz", "ran": True, "finished": True},  # the running quiz, at its podium
        {**unfinished, "ran": True},
    ]
    assert await programme_after("begin", "entry", item=1) == [
        {"kind": "quiz", "ran": True, "finished": True},
        {**unfinished, "ran": True},
    ]
    await host.close()
    await phone.close()
