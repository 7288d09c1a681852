"""Zes stickers prioriteren over real websockets against a real uvicorn, in a room that first ran
the binnen- en buitenkring: cards (import, host, phone proposals), voting with refused moves,
reconnects, the cut and the minority's answers, the summary, exports and the team history; and
how many frames a sticker storm costs."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import time
import uuid
from typing import Any

import httpx

from tests.support.phones import Frame, Host, Phone, WsClient
from tests.support.servers import ServerProcess

KRING = {"kind": "circle", "content": {"title": "Onze kring"}}
DOTVOTE = {
    "kind": "dotvote",
    "content": {
        "title": "Scholingsplan 2027",
        "cap": 4,
        "cards": [
            {"domain": "inkomen", "onderwerp": "Schulden herkennen", "kwartaal": "Q1"},
            {"domain": "veiligheid", "onderwerp": "Meldcode", "doelgroep": "team"},
        ],
    },
}
CSV_FILE = (
    "domein;kwartaal;doelgroep;onderwerp;leervorm\r\n"
    "participatie;Q2;kennisgroep;Werk en dagbesteding;college\r\n"
    "psychische gezondheid;Q3;individueel;Signalen van depressie;e-learning\r\n"
)


def input_frame(data: Any, item: int = 1) -> Frame:
    return {"type": "input", "item": item, "data": data}


async def wait_dv(
    client: WsClient, phase: str, since: int = 0, timeout: float = 10.0, **match: Any
) -> Frame:
    def ok(f: Frame) -> bool:
        return (
            f.get("type") == "view"
            and f.get("activity") == "dotvote"
            and f.get("phase") == phase
            and all(k in f and (v is None or f[k] == v) for k, v in match.items())
        )

    return await client.wait_for(ok, timeout, since=since)


async def wait_me(client: WsClient, since: int, timeout: float = 10.0, **has: Any) -> Frame:
    def ok(f: Frame) -> bool:
        return (
            f.get("type") == "me"
            and f.get("activity") == "dotvote"
            and all(k in f and (v is None or f[k] == v) for k, v in has.items())
        )

    return await client.wait_for(ok, timeout, since=since)


async def done(host: Host, action: str, **args: Any) -> Frame:
    """Send a control; its `done` or `error`."""
    mark = len(host.frames)
    await host.control(action, **args)
    return await host.wait_for(
        lambda f: (
            f.get("type") in ("done", "error")
            and f.get("ref", "control") == "control"
            and (f.get("type") == "error" or f.get("action") == action)
        ),
        since=mark,
    )


async def error_of(client: WsClient, frame: Frame) -> Frame:
    reply = await client.request(frame, "ack")
    assert reply["type"] == "error", reply
    return reply


def hosted(server: ServerProcess, secret: str) -> dict[str, str]:
    return {"X-Host-Secret": secret}


async def test_full_flow_after_the_kring(live_server: ServerProcess) -> None:
    server = live_server
    team = f"Wijkteam {uuid.uuid4().hex[:6]}"
    response = httpx.post(
        f"{server.base}/api/rooms", json={"programme": [KRING, DOTVOTE], "team": team}
    )
    assert response.status_code == 201, response.text
    code, secret = response.json()["code"], response.json()["host_secret"]
    host = await Host(server.ws_url).open()
    await host.attach(code, secret)
    screen = await WsClient(server.ws_url).open()
    await screen.send({"type": "hello", "role": "screen", "room": code})
    phones = [await Phone(server.ws_url).open() for _ in range(5)]
    welcomes = [await p.join(code, f"Deelnemer {i}") for i, p in enumerate(phones)]
    tokens = [w["token"] for w in welcomes]
    clients: list[WsClient] = [host, screen, *phones]
    try:
        # ---- item 0: the kring, briefly -------------------------------------------------------
        for i, phone in enumerate(phones):
            ack = await phone.request(
                input_frame({"domain": "inkomen", "grade": 5 + i}, item=0), "ack"
            )
            assert ack["type"] == "ack", ack
        assert (await done(host, "lock_grades"))["type"] == "done"
        assert (await done(host, "reveal"))["type"] == "done"

        # ---- item 1: the dotvote; phones follow without joining again --------------------------
        marks = [len(p.frames) for p in phones]
        assert (await done(host, "begin", item=1))["type"] == "done"
        for phone, mark in zip(phones, marks, strict=True):
            view = await wait_dv(phone, "cards", since=mark)
            assert [c["onderwerp"] for c in view["cards"]] == ["Schulden herkennen", "Meldcode"]
            assert view["proposals_open"] is True and "proposals" not in view
        view = await wait_dv(host, "cards", proposals=None)
        assert "import_cards" in host.view["can"] and "open_voting" in host.view["can"]  # type: ignore[index]

        # import: a bad file changes nothing; a good one adds its cards
        url = f"{server.base}/api/rooms/{code}/import"
        bad = httpx.post(
            url,
            content=b"domein,onderwerp\nmaan,x\ninkomen,\n",
            headers={**hosted(server, secret), "content-type": "text/csv"},
        )
        assert bad.status_code == 400
        body = bad.json()
        assert body["code"] == "invalid_import" and "niets" in body["error"]
        assert [(e["row"], e["field"], e["code"]) for e in body["errors"]] == [
            (1, "domain", "invalid_domain"),
            (2, "onderwerp", "invalid_onderwerp"),
        ]
        assert all(e["message"] for e in body["errors"])
        assert body["errors"][0]["value"] == "maan"  # the wrong domain is named
        assert "value" not in body["errors"][1]
        assert (
            httpx.post(url, content=b"[1,", headers=hosted(server, secret)).json()["errors"][0][
                "code"
            ]
            == "not_json"
        )
        assert httpx.post(url, content=CSV_FILE.encode()).status_code == 403  # no secret
        good = httpx.post(
            url,
            files={"file": ("kaarten.csv", CSV_FILE.encode(), "text/csv")},
            headers=hosted(server, secret),
        )
        assert good.status_code == 200, good.text
        assert good.json() == {"imported": 2, "cards": 4}
        as_json = json.dumps([{"domein": "Veiligheid", "onderwerp": "Huiselijk geweld"}])
        good = httpx.post(
            url,
            content=as_json.encode(),
            headers={**hosted(server, secret), "content-type": "application/json"},
        )
        assert good.json() == {"imported": 1, "cards": 5}

        # the host adds, edits and merges; a phone may not
        assert (await done(host, "add_card", card={"domain": "inkomen", "onderwerp": "Dubbel"}))[
            "type"
        ] == "done"
        error = await done(host, "add_card", card={"domain": "maan", "onderwerp": "x"})
        assert error["code"] == "invalid_domain" and "domeinen" in error["message"]
        assert (await done(host, "merge_cards", card_id="c6", into="c1"))["type"] == "done"
        assert (await done(host, "remove_card", card_id="c6"))["code"] == "unknown_card"
        refused = await phones[0].request({"type": "control", "action": "add_card"}, "done")
        assert refused["code"] == "not_host"

        # phones propose; the host accepts one, dismisses the other
        proposal = {"domain": "participatie", "onderwerp": "Vrijwilligerswerk", "kwartaal": "q4"}
        ack = await phones[1].request(input_frame({"proposals": [proposal]}), "ack")
        assert ack == {"type": "ack", "item": 1, "proposals": 1}
        await phones[2].request(
            input_frame({"proposals": [{"domain": "inkomen", "onderwerp": "Toeslagen"}]}), "ack"
        )
        error = await error_of(phones[3], input_frame({"proposals": [{"domain": "inkomen"}]}))
        assert error["code"] == "invalid_card"
        error = await error_of(phones[3], input_frame({"proposals": [proposal] * 4}))
        assert error["code"] == "too_many_proposals"
        view = await wait_dv(host, "cards", proposed=2)
        keys = {p["onderwerp"]: p["key"] for p in view["proposals"]}
        assert {p["name"] for p in view["proposals"]} == {"Deelnemer 1", "Deelnemer 2"}
        assert (await done(host, "accept_proposals", keys=[keys["Vrijwilligerswerk"]]))[
            "type"
        ] == "done"
        assert (await done(host, "dismiss_proposals", keys=[keys["Toeslagen"]]))["type"] == "done"
        me = await phones[1].wait_for(
            lambda f: (
                f.get("type") == "me"
                and (f.get("proposals") or [{}])[0].get("status") == "accepted"
            )
        )
        assert me["proposals"][0]["card_id"] == "c7" and me["proposals"][0]["kwartaal"] == "Q4"
        await phones[2].wait_for(
            lambda f: (
                f.get("type") == "me"
                and (f.get("proposals") or [{}])[0].get("status") == "dismissed"
            )
        )

        # ---- voting ----------------------------------------------------------------------------
        error = await error_of(phones[0], input_frame({"stickers": {"c1": 1}}))
        assert error["code"] == "voting_closed"
        marks = [len(p.frames) for p in phones]
        screen_mark = len(screen.frames)
        assert (await done(host, "open_voting"))["type"] == "done"
        for phone, mark in zip(phones, marks, strict=True):
            view = await wait_dv(phone, "voting", since=mark)
            assert len(view["cards"]) == 6 and "totals" not in view
            me = await wait_me(phone, mark, stickers={})
            assert (me["left"], me["budget"], me["cap"]) == (6, 6, 4)
        view = await wait_dv(screen, "voting", since=screen_mark, of=5, done=0)
        assert "totals" not in view

        assert [c["id"] for c in view["cards"]] == ["c1", "c2", "c3", "c4", "c5", "c7"]
        # the final placements: phones 0–2 prefer c1, c2; phones 3–4 spread over the others
        final = [
            {"c1": 4, "c2": 2},
            {"c1": 3, "c2": 3},
            {"c1": 2, "c2": 2, "c7": 2},
            {"c3": 3, "c4": 3},
            {"c5": 1, "c7": 1},
        ]
        # first something else, then moves to the final placement
        for phone in phones:
            ack = await phone.request(input_frame({"stickers": {"c3": 1}}), "ack")
            assert ack["placed"] == 1 and ack["left"] == 5
        for phone, placement in zip(phones, final, strict=True):
            ack = await phone.request(input_frame({"stickers": placement}), "ack")
            assert ack == {
                "type": "ack",
                "item": 1,
                "stickers": placement,
                "placed": sum(placement.values()),
                "left": 6 - sum(placement.values()),
            }
        # refused moves change nothing; the socket and the room keep working
        for data, code_ in [
            ({"stickers": {"c1": 5}}, "over_cap"),
            ({"stickers": {"c1": 4, "c2": 3}}, "over_budget"),
            ({"stickers": {"c99": 1}}, "unknown_card"),
            ({"stickers": {"c1": -1}}, "invalid_stickers"),
            ({"stickers": [1, 2]}, "invalid_stickers"),
            ({"stickers": {"c1": True}}, "invalid_stickers"),
            ({"answer": "nu al?"}, "not_open"),
            ({"iets": "anders"}, "bad_frame"),
            ("geen map", "bad_frame"),
        ]:
            error = await error_of(phones[0], input_frame(data))
            assert error["code"] == code_, (data, error)
            assert error["message"] and error["ref"] == "input"
        error = await error_of(phones[0], input_frame({"stickers": {"c1": 1}}, item=0))
        assert error["code"] == "not_open"  # the kring is not open
        error = await error_of(host, input_frame({"stickers": {"c1": 1}}))
        assert error["code"] == "not_allowed"

        view = await wait_dv(screen, "voting", done=4, voters=5, placed=26)
        assert "totals" not in view
        host_view = await wait_dv(host, "voting", done=4)
        assert host_view["totals"] == {
            "c1": 9, "c2": 7, "c3": 3, "c4": 3, "c5": 1, "c7": 3,
        }  # fmt: skip
        assert (await done(host, "show_totals", show="ja"))["code"] == "invalid_switch"
        assert (await done(host, "show_totals", show=True))["type"] == "done"
        view = await wait_dv(screen, "voting", show_totals=True)
        assert view["totals"] == host_view["totals"]

        # reconnect restores the placement
        await phones[3].close()
        phones[3] = await Phone(server.ws_url).open()
        clients.append(phones[3])
        welcome = await phones[3].resume(code, tokens[3])
        assert welcome["type"] == "welcome"
        me = await wait_me(phones[3], 0, stickers=None)
        assert me["stickers"] == final[3] and me["left"] == 0
        view = await wait_dv(phones[3], "voting")
        assert view["cards"] and "totals" not in view

        # ---- result ----------------------------------------------------------------------------
        marks = [len(p.frames) for p in phones]
        assert (await done(host, "close_voting"))["type"] == "done"
        error = await error_of(phones[0], input_frame({"stickers": {"c1": 1}}))
        assert error["code"] == "voting_closed"
        view = await wait_dv(screen, "result", cut={"top": 3})
        ranking = [
            (r["card_id"], r["rank"], r["stickers"], r["prioritised"]) for r in view["ranking"]
        ]
        assert ranking == [
            ("c1", 1, 9, True),
            ("c2", 2, 7, True),
            ("c3", 3, 3, True),
            ("c4", 3, 3, True),
            ("c7", 3, 3, True),
            ("c5", 6, 1, False),
        ]
        assert view["tie"] is True  # top 3 never splits the tie on place 3
        assert (await done(host, "cut", top=0))["code"] == "invalid_cut"
        marks = [len(p.frames) for p in phones]
        assert (await done(host, "cut", top=2))["type"] == "done"
        view = await wait_dv(screen, "result", cut={"top": 2})
        prioritised = {r["card_id"] for r in view["ranking"] if r["prioritised"]}
        assert prioritised == {"c1", "c2"}
        assert view["minority"] == {"count": 3, "answered": 0}
        # exactly phones 2, 3, 4 have stickers below the cut
        expected = {2: ["c7"], 3: ["c3", "c4"], 4: ["c5", "c7"]}
        for i, phone in enumerate(phones):
            wanted = {"cards": expected[i], "answer": None} if i in expected else None
            if i in (0, 1):  # their `me` did not change with the cut: the one from the close
                me = await wait_me(phone, 0, minority=wanted)
            else:
                me = await wait_me(phone, marks[i], minority=wanted)
            assert me["stickers"] == final[i]
        error = await error_of(phones[0], input_frame({"answer": "Ik doe mee"}))
        assert error["code"] == "not_minority"
        error = await error_of(phones[2], input_frame({"answer": ""}))
        assert error["code"] == "invalid_answer"
        for i in (2, 3):
            ack = await phones[i].request(input_frame({"answer": f"Antwoord {i}"}), "ack")
            assert ack == {"type": "ack", "item": 1, "answer": f"Antwoord {i}"}
        view = await wait_dv(host, "result", minority={"count": 3, "answered": 2})
        assert view["answers"] == [
            {"text": "Antwoord 2", "cards": ["c7"]},
            {"text": "Antwoord 3", "cards": ["c3", "c4"]},
        ]
        view = await wait_dv(screen, "result", minority={"count": 3, "answered": 2})
        assert "answers" not in view
        assert (await done(host, "show_answers", show=True))["type"] == "done"
        assert (await done(host, "show_names", show=True))["type"] == "done"
        view = await screen.wait_for(
            lambda f: f.get("type") == "view" and "name" in (f.get("answers") or [{}])[0]
        )
        assert view["answers"][0] == {"text": "Antwoord 2", "cards": ["c7"], "name": "Deelnemer 2"}

        # ---- summary, exports, history ---------------------------------------------------------
        assert (await done(host, "owner", card_id="c1", owner="x"))["code"] == "not_allowed"
        assert (await done(host, "summary"))["type"] == "done"
        assert (await done(host, "owner", card_id="c5", owner="Piet"))["code"] == "unknown_card"
        assert (await done(host, "owner", card_id="c1", owner="Anna"))["type"] == "done"
        view = await wait_dv(phones[0], "summary", owners={"c1": "Anna", "c2": ""})
        ack = await phones[4].request(input_frame({"answer": "Laat antwoord"}), "ack")
        assert ack["type"] == "ack"

        results = f"{server.base}/api/rooms/{code}/results"
        data = httpx.get(f"{results}.json?item=1", headers=hosted(server, secret)).json()
        assert data["phase"] == "summary" and data["cut"] == {"top": 2} and data["voters"] == 5
        assert [r["card_id"] for r in data["ranking"] if r["prioritised"]] == ["c1", "c2"]
        assert data["ranking"][0]["owner"] == "Anna"
        assert {m["answer"] for m in data["minority"]} == {
            "Antwoord 2",
            "Antwoord 3",
            "Laat antwoord",
        }
        assert sum(r["stickers"] for r in data["ranking"]) == sum(sum(p.values()) for p in final)
        text = httpx.get(
            f"{results}.csv?item=1&dialect=excel-nl", headers=hosted(server, secret)
        ).text
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
        assert rows[0][0] == "rang" and rows[1][2] == "Schulden herkennen" and rows[1][9] == "Anna"
        md = httpx.get(f"{results}.md?item=1", headers=hosted(server, secret))
        assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
        assert md.text.startswith("# Scholingsplan 2027")
        assert "| inkomen | Schulden herkennen |  | Q1 |  | 9 | Anna |" in md.text
        assert "Antwoord 3" in md.text
        assert httpx.get(f"{results}.md?item=1").status_code == 403
        assert httpx.get(f"{results}.md?item=0", headers=hosted(server, secret)).status_code == 404
        kring = httpx.get(f"{results}.json?item=0", headers=hosted(server, secret)).json()
        assert len(kring["people"]) == 5  # the kring's results stay

        history = httpx.get(f"{server.base}/api/history/dotvote", params={"team": team}).json()
        assert history["collection"] == "dotvote" and len(history["history"]) == 1
        record = history["history"][0]
        assert [t["onderwerp"] for t in record["themes"]] == ["Schulden herkennen", "Meldcode"]
        assert record["themes"][0]["owner"] == "Anna" and record["room"] == code
        assert (
            len(
                httpx.get(f"{server.base}/api/history/kring", params={"team": team}).json()[
                    "history"
                ]
            )
            == 1
        )
        # a later meeting marks the theme as taken up
        mark = f"{server.base}/api/rooms/{code}/history/dotvote"
        change = {"room": code, "item": 1, "card_id": "c1", "taken_up": True, "note": "in mei"}
        assert httpx.post(mark, json=change).status_code == 403
        marked = httpx.post(mark, json=change, headers=hosted(server, secret))
        assert marked.status_code == 200, marked.text
        assert marked.json()["themes"][0]["taken_up"] is True
        assert (
            httpx.post(
                mark, json={**change, "card_id": "c5"}, headers=hosted(server, secret)
            ).status_code
            == 404
        )
        assert (
            httpx.post(
                mark, json={**change, "taken_up": "ja"}, headers=hosted(server, secret)
            ).json()["code"]
            == "invalid_history"
        )
        history = httpx.get(f"{server.base}/api/history/dotvote", params={"team": team}).json()
        assert history["history"][0]["themes"][0]["taken_up_note"] == "in mei"
        assert httpx.get(f"{server.base}/api/history/geheim").status_code == 404

        # the summary kept again (after `back`) keeps the mark made on it
        assert (await done(host, "back"))["type"] == "done"
        assert (await done(host, "summary"))["type"] == "done"
        history = httpx.get(f"{server.base}/api/history/dotvote", params={"team": team}).json()
        assert len(history["history"]) == 1
        theme = history["history"][0]["themes"][0]
        assert theme["taken_up"] is True and theme["taken_up_note"] == "in mei"

        # the room keeps working: back to the result, voting again
        assert (await done(host, "back"))["type"] == "done"
        assert (await done(host, "reopen_voting"))["type"] == "done"
        me = await wait_me(phones[0], 0, stickers=final[0], left=0)
        ack = await phones[0].request(input_frame({"stickers": {"c5": 6}}), "ack")
        assert ack["type"] == "error" and ack["code"] == "over_cap"
        ack = await phones[0].request(input_frame({"stickers": {"c5": 4}}), "ack")
        assert ack["stickers"] == {"c5": 4}
        # import only while in cards
        late = httpx.post(url, content=CSV_FILE.encode(), headers=hosted(server, secret))
        assert late.status_code == 409
    finally:
        for client in clients:
            try:
                await client.close()
            except Exception:
                pass


async def test_a_sticker_storm_sends_no_views_to_phones(live_server: ServerProcess) -> None:
    """40 phones move stickers for 3 s: no phone gets a view (only its ack and its own `me`),
    the projector's counters come at most ~5 times a second, and the final totals are exact."""
    server = live_server
    cards = [{"domain": "inkomen", "onderwerp": f"Thema {i}"} for i in range(8)]
    response = httpx.post(
        f"{server.base}/api/rooms",
        json={"programme": [{"kind": "dotvote", "content": {"cards": cards, "show_totals": True}}]},
    )
    code, secret = response.json()["code"], response.json()["host_secret"]
    host = await Host(server.ws_url).open()
    await host.attach(code, secret)
    screen = await WsClient(server.ws_url).open()
    await screen.send({"type": "hello", "role": "screen", "room": code})
    phones = [await Phone(server.ws_url).open() for _ in range(40)]
    for i, phone in enumerate(phones):
        await phone.join(code, f"Storm {i}")
    try:
        assert (await done(host, "open_voting"))["type"] == "done"
        for phone in phones:
            await wait_dv(phone, "voting")
            await phone.request({"type": "ping"}, "pong")
        ids = [f"c{i + 1}" for i in range(8)]
        marks = [len(p.frames) for p in phones]
        screen_mark = len(screen.frames)
        finals: list[dict[str, int]] = [{} for _ in phones]
        started = time.monotonic()

        async def storm(i: int, phone: Phone) -> None:
            rng = random.Random(i)
            placement: dict[str, int] = {}
            while time.monotonic() - started < 3.0:
                if sum(placement.values()) < 6:
                    card = rng.choice(ids)
                    placement[card] = placement.get(card, 0) + 1
                else:  # move one
                    src = rng.choice([c for c, n in placement.items() if n])
                    placement[src] -= 1
                    dst = rng.choice(ids)
                    placement[dst] = placement.get(dst, 0) + 1
                ack = await phone.request(input_frame({"stickers": placement}, item=0), "ack")
                assert ack["type"] == "ack", ack
                finals[i] = ack["stickers"]
                await asyncio.sleep(rng.uniform(0.05, 0.15))

        await asyncio.gather(*(storm(i, p) for i, p in enumerate(phones)))
        elapsed = time.monotonic() - started
        expected = {c: sum(f.get(c, 0) for f in finals) for c in ids}
        view = await wait_dv(screen, "voting", since=screen_mark, totals=expected, done=40)
        for phone, mark in zip(phones, marks, strict=True):
            await phone.request({"type": "ping"}, "pong")
            views = [f for f in phone.frames[mark:] if f.get("type") == "view"]
            assert views == [], views[:1]
            mes = [f for f in phone.frames[mark:] if f.get("type") == "me"]
            assert mes and mes[-1]["stickers"] == finals[phones.index(phone)]
        screen_views = [f for f in screen.frames[screen_mark:] if f.get("type") == "view"]
        # ~5 a second; allow slack for the last one after the storm
        assert len(screen_views) <= 5 * (elapsed + 1) + 2, (len(screen_views), elapsed)
        assert view["placed"] == 240
    finally:
        for client in [host, screen, *phones]:
            try:
                await client.close()
            except Exception:
                pass


async def test_a_refused_closing_command_leaves_inputs_open(live_server: ServerProcess) -> None:
    """`accept_proposals` reads the final proposals (the gate closes first); refused because
    they do not fit, it changes nothing and phones can go on proposing."""
    server = live_server
    cards = [{"domain": "inkomen", "onderwerp": f"Thema {i}"} for i in range(59)]
    response = httpx.post(
        f"{server.base}/api/rooms",
        json={"programme": [{"kind": "dotvote", "content": {"cards": cards}}]},
    )
    code, secret = response.json()["code"], response.json()["host_secret"]
    host = await Host(server.ws_url).open()
    await host.attach(code, secret)
    phone = await Phone(server.ws_url).open()
    await phone.join(code, "Voorsteller")
    try:
        two = [{"domain": "inkomen", "onderwerp": x} for x in ("Een", "Twee")]
        assert (await phone.request(input_frame({"proposals": two}, 0), "ack"))["type"] == "ack"
        await wait_dv(host, "cards", proposed=2)
        assert (await done(host, "accept_proposals", keys="all"))["code"] == "too_many_cards"
        ack = await phone.request(input_frame({"proposals": two[:1]}, 0), "ack")
        assert ack == {"type": "ack", "item": 0, "proposals": 1}
        mark = len(host.frames)
        assert (await done(host, "accept_proposals", keys="all"))["type"] == "done"
        view = await wait_dv(host, "cards", since=mark, proposed=0)
        assert len(view["cards"]) == 60 and view["cards"][-1]["origin"] == "phone"
    finally:
        for client in (host, phone):
            await client.close()


async def test_items_without_a_title_of_their_own_are_named_by_each_page(
    live_server: ServerProcess,
) -> None:
    """An English room runs a kring and a dotvote that were given no title: the views, the
    programme, the room's info and the team's records carry none (each page shows the
    werkvorm's name in its own language), the exports the English name. Records an earlier
    version kept with the Dutch name written out are served as having none; a title given
    stays."""
    from server.hub.bokaal import team_key
    from server.hub.filestore import FileStore

    server = live_server
    team = f"Wijkteam {uuid.uuid4().hex[:6]}"
    older = {"room": "000001", "item": 0, "team": team, "date": 1_700_000_000.0}
    earlier = [
        {**older, "title": "Zes stickers prioriteren", "themes": [{"card_id": "c1"}]},
        {**older, "item": 1, "title": "Scholingsplan 2026", "themes": []},
    ]
    store = FileStore(server.data_dir)
    store.put("dotvote", team_key(team), json.dumps(earlier).encode())
    store.put(
        "kring", team_key(team), json.dumps([{**older, "title": "Binnen- en buitenkring"}]).encode()
    )

    programme = [
        {"kind": "circle", "content": {}},
        {"kind": "dotvote", "content": {"cards": DOTVOTE["content"]["cards"]}},
    ]
    response = httpx.post(
        f"{server.base}/api/rooms", json={"programme": programme, "team": team, "lang": "en"}
    )
    assert response.status_code == 201, response.text
    code, secret = response.json()["code"], response.json()["host_secret"]
    assert httpx.get(f"{server.base}/api/rooms/{code}").json()["title"] == ""
    host = await Host(server.ws_url).open()
    await host.attach(code, secret)
    phone = await Phone(server.ws_url).open()
    await phone.join(code, "Anna")
    results = f"{server.base}/api/rooms/{code}/results"
    try:
        view = await host.wait_for(lambda f: f.get("type") == "view" and "programme" in f)
        assert [p["title"] for p in view["programme"]] == ["", ""]
        assert view["title"] == "" and (await phone.wait_view("entry"))["title"] == ""
        ack = await phone.request(input_frame({"domain": "inkomen", "grade": 8}, item=0), "ack")
        assert ack["type"] == "ack", ack
        assert (await done(host, "lock_grades"))["type"] == "done"
        assert (await done(host, "reveal"))["type"] == "done"
        kring = httpx.get(f"{results}.json?item=0", headers=hosted(server, secret)).json()
        assert kring["title"] == "Inner and outer circle"

        assert (await done(host, "begin", item=1))["type"] == "done"
        assert (await wait_dv(phone, "cards"))["title"] == ""
        assert (await done(host, "open_voting"))["type"] == "done"
        ack = await phone.request(input_frame({"stickers": {"c1": 2}}), "ack")
        assert ack["type"] == "ack", ack
        assert (await done(host, "close_voting"))["type"] == "done"
        assert (await done(host, "summary"))["type"] == "done"
        data = httpx.get(f"{results}.json?item=1", headers=hosted(server, secret)).json()
        assert data["title"] == "Six stickers: set priorities"
        md = httpx.get(f"{results}.md?item=1", headers=hosted(server, secret)).text
        assert md.startswith("# Six stickers: set priorities\n")

        def titles(collection: str) -> list[str]:
            url = f"{server.base}/api/history/{collection}"
            return [r["title"] for r in httpx.get(url, params={"team": team}).json()["history"]]

        assert titles("dotvote") == ["", "Scholingsplan 2026", ""]
        assert titles("kring") == ["", ""]
        # marking a theme of the earlier meeting answers with the record as served
        change = {"room": "000001", "item": 0, "card_id": "c1", "taken_up": True}
        marked = httpx.post(
            f"{server.base}/api/rooms/{code}/history/dotvote",
            json=change,
            headers=hosted(server, secret),
        )
        assert marked.status_code == 200, marked.text
        assert marked.json()["title"] == "" and marked.json()["themes"][0]["taken_up"] is True
    finally:
        for client in (host, phone):
            await client.close()
