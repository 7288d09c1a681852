"""The HTTP side against a real server: quiz upload and library, rooms, QR, exports, bokaal, pages."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import FAST_QUIZ, create_room, upload
from tests.support.phones import Host, Phone
from tests.support.servers import ServerProcess


def test_healthz(live_server: ServerProcess) -> None:
    response = httpx.get(f"{live_server.base}/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["backend"] == "memory"


def test_library_lists_examples_and_downloads(live_server: ServerProcess) -> None:
    quizzes = httpx.get(f"{live_server.base}/api/quizzes").json()
    ids = {q["id"] for q in quizzes if q["builtin"]}
    assert {"armoede-en-schulden", "demo-kennisdeling"} <= ids
    demo = httpx.get(f"{live_server.base}/api/quizzes/demo-kennisdeling")
    # Anyone sees what the list shows, never the questions and their answers.
    assert demo.status_code == 200 and demo.json()["questions"] == 3
    assert demo.json()["full"] is False and "correct" not in demo.text
    missing = httpx.get(f"{live_server.base}/api/quizzes/bestaat-niet")
    assert missing.status_code == 404 and missing.json()["error"] == "Deze quiz bestaat niet."


def test_upload_json_and_multipart(live_server: ServerProcess) -> None:
    quiz = {**FAST_QUIZ, "id": "upload-json", "title": "Geüpload"}
    assert upload(live_server.base, quiz) == "upload-json"
    body = json.dumps({**quiz, "id": "upload-file"}).encode()
    response = httpx.post(
        f"{live_server.base}/api/quizzes", files={"file": ("quiz.json", body, "application/json")}
    )
    assert response.status_code == 201, response.text
    reply = response.json()
    assert {k: reply[k] for k in ("id", "title", "questions", "replaced")} == {
        "id": "upload-file",
        "title": "Geüpload",
        "questions": 3,
        "replaced": False,
    }
    assert len(reply["edit_secret"]) >= 20
    listed = {q["id"] for q in httpx.get(f"{live_server.base}/api/quizzes").json()}
    assert {"upload-json", "upload-file"} <= listed


def test_upload_with_an_example_id_gets_a_new_id(live_server: ServerProcess) -> None:
    new_id = upload(live_server.base, {**FAST_QUIZ, "id": "demo-kennisdeling"})
    assert new_id == "demo-kennisdeling-2"
    original = httpx.get(f"{live_server.base}/api/quizzes/demo-kennisdeling").json()
    assert original["title"] != FAST_QUIZ["title"]


def _ids(base: str) -> set[str]:
    return {q["id"] for q in httpx.get(f"{base}/api/quizzes").json()}


def test_upload_reports_all_errors_at_once_and_stores_nothing(live_server: ServerProcess) -> None:
    before = _ids(live_server.base)
    broken = json.loads(json.dumps(FAST_QUIZ))
    broken["id"] = "kapot"
    broken["questions"][0]["time_limit"] = 3
    del broken["questions"][0]["options"][2]["text"]
    broken["questions"][1]["colour"] = "rood"
    response = httpx.post(f"{live_server.base}/api/quizzes", json=broken)
    assert response.status_code == 400
    errors = response.json()["errors"]
    messages = " | ".join(e["message"] for e in errors)
    assert len(errors) >= 3, errors
    assert "vraag 1" in messages and "antwoord 3" in messages and "vraag 2" in messages
    assert all(e["path"] for e in errors)
    assert _ids(live_server.base) == before


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"lang": "en"}, {}), ({}, {"Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"})],
)
def test_upload_errors_in_english(
    live_server: ServerProcess, params: dict[str, str], headers: dict[str, str]
) -> None:
    broken = json.loads(json.dumps(FAST_QUIZ))
    broken["questions"][0]["time_limit"] = 3
    del broken["questions"][0]["options"][2]["text"]
    url = f"{live_server.base}/api/quizzes"
    response = httpx.post(url, json=broken, params=params, headers=headers)
    assert response.status_code == 400
    messages = [e["message"] for e in response.json()["errors"]]
    assert "question 1: the time limit must be between 5 and 240 seconds (now 3)" in messages
    assert 'question 1, answer 3: the text is missing (field "text")' in messages
    # The path stays for programs (from 0); people read the message (from 1).
    assert "questions[0].options[2].text" in [e["path"] for e in response.json()["errors"]]
    dutch = httpx.post(url, json=broken, headers={"Accept-Language": "nl-NL,en;q=0.8"})
    assert 'vraag 1, antwoord 3: de tekst ontbreekt (veld "text")' in [
        e["message"] for e in dutch.json()["errors"]
    ]
    big = httpx.post(url, content=b" " * (300 * 1024), params=params, headers=headers)
    assert big.status_code == 413 and "larger than 256 KiB" in big.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        (b"{not json", "geen geldige JSON"),
        ('{"title": "caf\u00e9"}'.encode("latin-1"), "UTF-8"),
        (b"[]", ""),
    ],
)
def test_upload_garbage(live_server: ServerProcess, body: bytes, expect: str) -> None:
    response = httpx.post(
        f"{live_server.base}/api/quizzes",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and all(e["message"] for e in errors)
    assert expect in " ".join(e["message"] for e in errors)


def test_upload_too_large(live_server: ServerProcess) -> None:
    before = _ids(live_server.base)
    big = json.dumps({**FAST_QUIZ, "id": "te-groot", "description": "x" * 300_000}).encode()
    response = httpx.post(
        f"{live_server.base}/api/quizzes", content=big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "256 KiB" in response.json()["errors"][0]["message"]
    response = httpx.post(
        f"{live_server.base}/api/quizzes", files={"file": ("big.json", big, "application/json")}
    )
    assert response.status_code == 413
    assert _ids(live_server.base) == before


def test_uploads_survive_a_restart(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path).start()
    try:
        upload(server.base, {**FAST_QUIZ, "id": "blijft-bewaard"})
    finally:
        server.stop()
    again = ServerProcess(tmp_path).start()
    try:
        assert "blijft-bewaard" in _ids(again.base)
    finally:
        again.stop()


def test_rooms_api_errors_and_qr(live_server: ServerProcess) -> None:
    response = httpx.post(f"{live_server.base}/api/rooms", json={"quiz_id": "bestaat-niet"})
    assert response.status_code == 404 and "bestaat niet" in response.json()["error"]
    wrong = httpx.get(f"{live_server.base}/api/rooms/123456")
    assert wrong.status_code == 404 and "code kennen we niet" in wrong.json()["error"]
    english = httpx.get(f"{live_server.base}/api/rooms/123456?lang=en")
    assert "We don't know this code" in english.json()["error"]
    room = create_room(live_server.base, "demo-kennisdeling")
    assert len(room["code"]) == 6 and room["join_url"].endswith(f"/join/{room['code']}")
    info = httpx.get(f"{live_server.base}/api/rooms/{room['code']}").json()
    assert info["phase"] == "lobby" and info["players"] == 0
    qr = httpx.get(f"{live_server.base}/api/rooms/{room['code']}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in qr.content


async def _play(
    server: ServerProcess, team: str, winner_first: bool, nobody_right: bool = False
) -> dict[str, Any]:
    quiz = {**FAST_QUIZ, "id": "bokaal-quiz", "questions": FAST_QUIZ["questions"][:1]}
    upload(server.base, quiz)
    room = create_room(server.base, "bokaal-quiz", team=team)
    host = await Host(server.ws_url).open()
    await host.attach(room["code"], room["host_secret"])
    ann, bob = Phone(server.ws_url), Phone(server.ws_url)
    await ann.open()
    await bob.open()
    await ann.join(room["code"], "Ann")
    await bob.join(room["code"], "Bob")
    await host.control("start")
    await ann.wait_view("question")
    await bob.wait_view("question")
    right, wrong = (ann, bob) if winner_first else (bob, ann)
    await right.answer(0, choice=1 if nobody_right else 0)
    await wrong.answer(0, choice=1)
    await host.wait_view("reveal")
    await host.control("next")
    podium = await host.wait_view("podium")
    for client in (ann, bob, host):
        await client.close()
    return {
        "code": room["code"],
        "secret": room["host_secret"],
        "podium": podium["podium"],
        **podium["podium"].get("bokaal", {}),
    }


async def test_bokaal_passes_on_and_history_exports(live_server: ServerProcess) -> None:
    team = "Wijkteam Zuid (test)"
    first = await _play(live_server, team, winner_first=True)
    assert (first["winner"], first["previous"]) == ("Ann", None)
    second = await _play(live_server, team, winner_first=False)
    assert (second["winner"], second["previous"]) == ("Bob", "Ann")
    history = httpx.get(f"{live_server.base}/api/bokaal", params={"team": team}).json()["history"]
    assert [(h["winner"], h["previous"]) for h in history] == [("Ann", None), ("Bob", "Ann")]
    assert history[0]["author"] == "Testteam" and history[0]["theme"] == "Testen"
    other = httpx.get(f"{live_server.base}/api/bokaal", params={"team": "Ander team"}).json()
    assert other["history"] == []
    text = httpx.get(f"{live_server.base}/api/bokaal.csv", params={"team": team}).text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["date", "team"] and [r[5] for r in rows[1:]] == ["Ann", "Bob"]


async def test_nobody_wins_a_round_in_which_nobody_scored(live_server: ServerProcess) -> None:
    """Everyone answered wrong: nobody stands on the podium with 0 points, there is no winner,
    and the bokaal stays with the last winner (no record)."""
    team = "Wijkteam Nul (test)"
    first = await _play(live_server, team, winner_first=True)
    assert first["winner"] == "Ann" and [r["name"] for r in first["podium"]["top"]] == ["Ann"]
    assert "no_points" not in first["podium"]
    zero = await _play(live_server, team, winner_first=False, nobody_right=True)
    assert zero["podium"]["top"] == [] and zero["podium"]["no_points"] is True
    assert "bokaal" not in zero["podium"]
    history = httpx.get(f"{live_server.base}/api/bokaal", params={"team": team}).json()["history"]
    assert [h["winner"] for h in history] == ["Ann"]


async def test_results_export_needs_the_secret(live_server: ServerProcess) -> None:
    played = await _play(live_server, "", winner_first=True)
    url = f"{live_server.base}/api/rooms/{played['code']}/results"
    assert httpx.get(f"{url}.json").status_code == 403
    assert httpx.get(f"{url}.csv", headers={"X-Host-Secret": "fout"}).status_code == 403
    # The secret never travels in the URL (logs, history, proxies): there it does not count.
    assert httpx.get(f"{url}.json", params={"secret": played["secret"]}).status_code == 403
    data = httpx.get(f"{url}.json", headers={"X-Host-Secret": played["secret"]}).json()
    assert [r["name"] for r in data["ranking"]] == ["Ann", "Bob"]
    ann = data["players"][0]["answers"][0]
    assert ann["correct"] is True and ann["points"] > 0 and ann["time_ms"] >= 0
    text = httpx.get(f"{url}.csv", headers={"X-Host-Secret": played["secret"]}).text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "plek" and len(rows) == 3  # a Dutch room: Dutch column names
    assert rows[1][1] == "Ann" and rows[1][6] == "ja" and rows[2][6] == "nee"


async def test_play_again_resets_scores(live_server: ServerProcess) -> None:
    room = create_room(live_server.base, upload(live_server.base, FAST_QUIZ))
    host = await Host(live_server.ws_url).open()
    await host.attach(room["code"], room["host_secret"])
    phone = await Phone(live_server.ws_url).open()
    await phone.join(room["code"], "Rik")
    await host.control("start")
    await phone.wait_view("question")
    await phone.answer(0, choice=0)
    await host.control("finish")
    await host.wait_view("podium")
    mark = len(host.frames)
    await host.control("restart")
    lobby = await host.wait_for(lambda f: f.get("phase") == "lobby", since=mark)
    assert lobby["scores"] == {} and lobby["lobby"]["names"] == ["Rik"]
    seen = len(phone.frames)  # the new round's question, not the first round's
    await host.control("start")
    await phone.wait_for(
        lambda f: f.get("phase") == "question" and f["question"]["index"] == 0, since=seen
    )
    assert (await phone.answer(0, choice=1))["type"] == "ack"  # a new round takes answers again
    await asyncio.gather(phone.close(), host.close())


@pytest.mark.parametrize(
    "path", ["/", "/join/123456", "/host", "/screen/123456", "/quizzes", "/bokaal"]
)
def test_pages_render_in_both_languages(live_server: ServerProcess, path: str) -> None:
    nl = httpx.get(f"{live_server.base}{path}")
    en = httpx.get(f"{live_server.base}{path}?lang=en")
    assert nl.status_code == 200 and en.status_code == 200
    assert '<html lang="nl"' in nl.text and '<html lang="en"' in en.text
    assert "/static/js/" in nl.text
    assert en.cookies.get("lang") == "en"


@pytest.mark.parametrize("path", ["/", "/host", "/screen/123456", "/quizzes"])
def test_pages_follow_the_browser_language_until_one_is_chosen(
    live_server: ServerProcess, path: str
) -> None:
    """A browser that prefers English gets English pages; Dutch stays the default, and a
    language chosen on the page (?lang=, kept as a cookie) wins over the browser's."""
    url = f"{live_server.base}{path}"
    english = httpx.get(url, headers={"Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"})
    assert '<html lang="en"' in english.text
    assert "Accept-Language" in english.headers["vary"]
    assert '<html lang="nl"' in httpx.get(url, headers={"Accept-Language": "fr-FR,fr"}).text
    assert '<html lang="nl"' in httpx.get(url, headers={"Accept-Language": "en;q=0.5,nl"}).text
    chosen = httpx.get(url, headers={"Accept-Language": "en", "Cookie": "lang=nl"})
    assert '<html lang="nl"' in chosen.text
    asked = httpx.get(url, params={"lang": "nl"}, headers={"Accept-Language": "en"})
    assert '<html lang="nl"' in asked.text


def test_the_language_switch_keeps_the_page_query(live_server: ServerProcess) -> None:
    """`/host?quiz=X` (from "Start een sessie met deze quiz") switched to English is still the
    facilitator's page with X chosen: the switch only replaces `lang`."""
    page = httpx.get(f"{live_server.base}/host", params={"quiz": "mijn quiz&co", "lang": "nl"})
    links = re.findall(r'class="lang-switch" href="([^"]+)"', page.text)
    assert links == ["/host?quiz=mijn+quiz%26co&amp;lang=en"], links
    plain = httpx.get(f"{live_server.base}/quizzes")
    assert 'class="lang-switch" href="/quizzes?lang=en"' in plain.text


@pytest.mark.parametrize("path", ["/join", "/join/", "/join/12345", "/join/abc"])
def test_join_without_a_code_leads_to_where_the_code_is_typed(
    live_server: ServerProcess, path: str
) -> None:
    """`…/join` typed from a poster, without its code or with one that cannot be a code: the
    join page, where a phone types the code (and the language asked for comes along), not an
    English "Not Found"."""
    url = f"{live_server.base}{path}"
    response = httpx.get(url, headers={"Accept-Language": "nl-NL"})
    assert response.status_code == 302 and response.headers["location"] == "/"
    assert httpx.get(url, params={"lang": "en"}).headers["location"] == "/?lang=en"
    page = httpx.get(url, headers={"Accept-Language": "nl-NL"}, follow_redirects=True)
    assert page.status_code == 200 and 'data-code=""' in page.text


@pytest.mark.parametrize("path", ["/screen", "/screen/"])
def test_the_projector_page_without_a_code_leads_to_the_facilitator(
    live_server: ServerProcess, path: str
) -> None:
    """The projector's page opened without a code says, in the page's language, that it is
    opened from the facilitator's page, and links there."""
    url = f"{live_server.base}{path}"
    dutch = httpx.get(url, headers={"Accept-Language": "nl-NL"})
    assert dutch.status_code == 200 and dutch.headers["content-type"].startswith("text/html")
    text = html.unescape(dutch.text)
    assert '<html lang="nl"' in text and "vanaf de pagina van de begeleider" in text
    assert '<a class="btn btn-primary" href="/host?lang=nl">' in text
    english = html.unescape(httpx.get(url, headers={"Accept-Language": "en-GB,en"}).text)
    assert '<html lang="en"' in english and "from the facilitator's page" in english
    assert '<a class="btn btn-primary" href="/host?lang=en">' in english


@pytest.mark.parametrize("path", ["/doe-mee", "/join/123456/extra", "/host/setup", "/Host"])
def test_an_address_that_is_no_page_gets_a_404_page_in_its_language(
    live_server: ServerProcess, path: str
) -> None:
    """Status 404, but a page in the page's language (query, cookie, Accept-Language) with the
    pages' header and a link home; it runs no script and carries no catalogue."""
    url = f"{live_server.base}{path}"
    dutch = httpx.get(url, headers={"Accept-Language": "nl-NL"})
    assert dutch.status_code == 404 and dutch.headers["content-type"].startswith("text/html")
    assert '<html lang="nl"' in dutch.text and "<h1>Pagina niet gevonden</h1>" in dutch.text
    assert '<a class="brand" href="/?lang=nl">' in dutch.text
    assert '<a class="btn btn-primary" href="/?lang=nl">Naar de startpagina</a>' in dutch.text
    assert "Not Found" not in dutch.text and "<script" not in dutch.text
    assert "Accept-Language" in dutch.headers["vary"]
    english = httpx.get(url, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.status_code == 404 and "<h1>Page not found</h1>" in english.text
    assert '<a class="btn btn-primary" href="/?lang=en">To the home page</a>' in english.text
    kept = httpx.get(url, headers={"Accept-Language": "nl", "Cookie": "lang=en"})
    assert '<html lang="en"' in kept.text
    asked = httpx.get(url, params={"lang": "en"}, headers={"Accept-Language": "nl"})
    assert asked.status_code == 404 and '<html lang="en"' in asked.text


def test_what_is_no_page_keeps_a_404_of_its_own(live_server: ServerProcess) -> None:
    """Under /api/ an unknown address answers with the API's JSON error; a missing script,
    style sheet or image is a plain 404, not a page."""
    base = live_server.base
    api = httpx.get(f"{base}/api/nope", headers={"Accept-Language": "nl-NL"})
    assert api.status_code == 404
    assert api.json() == {"error": "Niet gevonden.", "code": "not_found"}
    assert httpx.get(f"{base}/api/rooms/000000/nope?lang=en").json()["error"] == "Not found."
    room = httpx.get(f"{base}/api/rooms/000000", headers={"Accept-Language": "nl-NL"})
    assert room.status_code == 404 and room.json()["code"] == "room_not_found"
    for path in ("/static/js/nope.js", "/static/css/nope.css", "/static/img/nope.svg"):
        missing = httpx.get(
            f"{base}{path}", headers={"Accept": "text/html", "Accept-Language": "nl"}
        )
        assert missing.status_code == 404, path
        assert (
            missing.headers["content-type"].startswith("text/plain") and missing.text == "Not Found"
        )


async def test_every_round_stays_exportable_after_play_again(live_server: ServerProcess) -> None:
    """Issue 13, point 8: 'Nog een keer' must not lose the first round."""
    room = create_room(live_server.base, upload(live_server.base, FAST_QUIZ))
    code, secret = room["code"], room["host_secret"]
    host = await Host(live_server.ws_url).open()
    await host.attach(code, secret)
    phone = await Phone(live_server.ws_url).open()
    await phone.join(code, "Rik")
    await host.control("start")
    await phone.wait_view("question")
    await phone.answer(0, choice=0)
    await host.control("finish")
    await host.wait_view("podium")
    mark = len(host.frames)
    await host.control("restart")
    await host.wait_for(lambda f: f.get("phase") == "lobby", since=mark)
    await host.control("start")
    await phone.wait_view("question", index=0)
    await phone.answer(0, choice=1)
    await host.control("finish")
    await host.wait_view("podium")
    url = f"{live_server.base}/api/rooms/{code}/results"
    auth = {"X-Host-Secret": secret}
    data = httpx.get(f"{url}.json", headers=auth).json()
    assert [r["round"] for r in data["rounds"]] == [1, 2]
    first, second = data["rounds"]
    assert first["players"][0]["name"] == "Rik" and first["players"][0]["answers"][0]["correct"]
    assert second["players"][0]["answers"][0]["correct"] is False
    only = httpx.get(f"{url}.json", params={"round": "1"}, headers=auth).json()
    assert only["round"] == 1 and [r["round"] for r in only["rounds"]] == [1]
    missing = httpx.get(f"{url}.json", params={"round": "7"}, headers=auth)
    assert missing.status_code == 404 and "ronde" in missing.json()["error"]
    text = httpx.get(f"{url}.csv", headers=auth).text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    col = {name: i for i, name in enumerate(rows[0])}
    assert sorted({r[col["ronde"]] for r in rows[1:]}) == ["1", "2"]
    excel = httpx.get(f"{url}.csv", params={"dialect": "excel-nl"}, headers=auth)
    assert excel.status_code == 200 and excel.text.startswith("\ufeffplek;naam;")
    assert "-excel.csv" in excel.headers["content-disposition"]
    await asyncio.gather(phone.close(), host.close())


def test_the_example_file_downloads_and_uploads_as_a_quiz(live_server: ServerProcess) -> None:
    """The quizzes page's "Voorbeeldbestand downloaden": one question of each type, not in the
    library (its answers are for anyone), and accepted as it is when uploaded."""
    reply = httpx.get(f"{live_server.base}/api/quiz-template")
    assert reply.status_code == 200
    assert 'filename="voorbeeld-quiz.json"' in reply.headers["content-disposition"]
    template = reply.json()
    assert {q["type"] for q in template["questions"]} == {
        "multiple_choice",
        "true_false",
        "estimate",
        "poll",
    }
    listed = httpx.get(f"{live_server.base}/api/quizzes").json()
    assert template["id"] not in {quiz["id"] for quiz in listed}
    assert upload(live_server.base, template) == template["id"]
    page = httpx.get(f"{live_server.base}/quizzes")
    assert 'href="/api/quiz-template"' in page.text and "Voorbeeldbestand downloaden" in page.text


def test_a_method_an_address_does_not_take_gets_a_clear_error(live_server: ServerProcess) -> None:
    """`DELETE /api/quizzes` (the list takes GET and POST) answers with the API's JSON error
    in the asker's language and every method it does take; a page asked with POST stays a plain
    405 (no page sends one)."""
    base = live_server.base
    wrong = httpx.delete(f"{base}/api/quizzes", headers={"Accept-Language": "nl-NL"})
    assert wrong.status_code == 405
    assert wrong.json() == {
        "error": "Dit adres kent die bewerking niet.",
        "code": "method_not_allowed",
    }
    assert {m.strip() for m in wrong.headers["allow"].split(",")} == {"GET", "HEAD", "POST"}
    one = httpx.put(f"{base}/api/quizzes/demo-kennisdeling")  # a quiz: shown and deleted
    assert one.status_code == 405 and one.json()["code"] == "method_not_allowed"
    assert {m.strip() for m in one.headers["allow"].split(",")} == {"GET", "HEAD", "DELETE"}
    english = httpx.delete(f"{base}/api/quizzes?lang=en").json()
    assert english["error"] == "This address does not take that method."
    page = httpx.post(f"{base}/host")
    assert page.status_code == 405 and page.text == "Method Not Allowed"
    assert httpx.get(f"{base}/api/quizzes").status_code == 200  # the address still works


def test_every_werkvorm_s_default_content_is_offered(live_server: ServerProcess) -> None:
    """`GET /api/werkvormen`: what a programme item of each werkvorm gets without content of
    its own, which the facilitator's page offers in its add form; the quiz needs a quiz file."""
    from server.activities.circle import DEFAULT_DOMAINS

    reply = httpx.get(f"{live_server.base}/api/werkvormen")
    assert reply.status_code == 200
    defaults = reply.json()["defaults"]
    assert defaults["quiz"] is None
    assert defaults["circle"]["domains"] == list(DEFAULT_DOMAINS)
    assert defaults["dotvote"]["domains"] == list(DEFAULT_DOMAINS)
    assert defaults["dotvote"]["stickers"] == 6
