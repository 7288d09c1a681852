"""Safe on the internet: headers, odd frames and malformed uploads (a real server on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgpack
import pytest

from tests.conftest import FAST_QUIZ, create_room
from tests.support.phones import Phone
from tests.support.servers import ServerProcess

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/host",
        "/quizzes",
        "/bokaal",
        "/screen/123456",
        "/screen",
        "/does-not-exist",
        "/static/img/icon.svg",
        "/api/quizzes",
        "/healthz",
        "/api/rooms/000000",
    ],
)
def test_every_response_carries_the_security_headers(live_server: ServerProcess, path: str) -> None:
    response = httpx.get(f"{live_server.base}{path}")
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (path, name, response.headers)
    csp = {
        part.split(" ", 1)[0]: part.split(" ", 1)[1]
        for part in response.headers["content-security-policy"].split("; ")
    }
    sources = csp["script-src"].split()
    # From this server only; a page's import map by its hash; no 'unsafe-inline' or 'unsafe-eval'.
    assert sources[0] == "'self'" and all(s.startswith("'sha256-") for s in sources[1:])
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert "camera=()" in response.headers["permissions-policy"]
    assert response.headers["cross-origin-opener-policy"] == "same-origin"


@pytest.mark.parametrize(
    "path", ["/static/js/phone.js", "/static/css/app.css", "/static/vendor/msgpack/decode.mjs"]
)
def test_scripts_and_style_sheets_carry_the_headers_that_apply_to_them(
    live_server: ServerProcess, path: str
) -> None:
    """No document-only headers (framing, opener, permissions) on every script of the phone
    page over guest Wi-Fi; a script opened as a page still runs nothing."""
    response = httpx.get(f"{live_server.base}{path}")
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    csp = response.headers["content-security-policy"]
    assert csp == "default-src 'none'; frame-ancestors 'none'"
    for name in ("x-frame-options", "permissions-policy", "cross-origin-opener-policy"):
        assert name not in response.headers, (path, name)


@pytest.mark.parametrize("kind", [{}, [], {"a": 1}, [1, 2], b"hello", 1.5, None, True])
async def test_a_frame_whose_type_is_not_a_string_is_a_bad_frame(
    live_server: ServerProcess, kind: object
) -> None:
    phone = await Phone(live_server.ws_url).open()
    await phone.send_raw(msgpack.packb({"type": kind}))
    error = await phone.wait_error("bad_frame")
    assert error["message"]
    assert (await phone.request({"type": "ping"}, "pong"))["type"] == "pong"
    await phone.close()


@pytest.mark.parametrize(
    "body",
    [
        b"this is not multipart at all",
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="q.json"\r\n',
        b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\n{}\r\n--other--\r\n',
    ],
)
def test_malformed_multipart_gets_the_documented_error_body(
    live_server: ServerProcess, body: bytes
) -> None:
    response = httpx.post(
        f"{live_server.base}/api/quizzes",
        content=body,
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and all(e["message"] for e in errors)
    # The server goes on serving uploads.
    assert httpx.get(f"{live_server.base}/api/quizzes").status_code == 200


# ---- answer keys and ownership ------------------------------------------------------------------


def _upload(base: str, quiz: dict[str, Any], secret: str = "") -> httpx.Response:
    headers = {"X-Edit-Secret": secret} if secret else {}
    return httpx.post(f"{base}/api/quizzes", json=quiz, headers=headers)


def test_nobody_but_the_author_reads_the_answer_key(live_server: ServerProcess) -> None:
    base = live_server.base
    added = _upload(base, {**FAST_QUIZ, "id": "geheim-antwoord"}).json()
    public = httpx.get(f"{base}/api/quizzes/geheim-antwoord")
    assert public.status_code == 200
    assert public.json() == {
        "id": "geheim-antwoord",
        "title": FAST_QUIZ["title"],
        "theme": FAST_QUIZ["theme"],
        "author": FAST_QUIZ["author"],
        "language": "nl",
        "description": "",
        "questions": 3,
        "builtin": False,
        "full": False,
    }
    wrong = httpx.get(f"{base}/api/quizzes/geheim-antwoord", headers={"X-Edit-Secret": "raden"})
    assert "correct" not in wrong.text and "answer" not in wrong.json()
    full = httpx.get(
        f"{base}/api/quizzes/geheim-antwoord", headers={"X-Edit-Secret": added["edit_secret"]}
    ).json()
    assert full["questions"][0]["options"][0]["correct"] is True
    assert full["questions"][2]["estimate"]["answer"] == 50

    # The host of a room reads its quiz; a phone that knows the code does not.
    room = create_room(base, "geheim-antwoord")
    url = f"{base}/api/rooms/{room['code']}/content"
    assert httpx.get(url).status_code == 403
    assert httpx.get(url, headers={"X-Host-Secret": "raden"}).status_code == 403
    hosted = httpx.get(url, headers={"X-Host-Secret": room["host_secret"]})
    assert hosted.status_code == 200 and hosted.json()["questions"][1]["answer"] is True
    # Examples too: their keys are not handed out during a game.
    demo = httpx.get(f"{base}/api/quizzes/demo-kennisdeling").json()
    assert demo["full"] is False and isinstance(demo["questions"], int)


def test_an_upload_never_replaces_someone_elses_quiz(live_server: ServerProcess) -> None:
    base = live_server.base
    first = _upload(base, {**FAST_QUIZ, "id": "van-fatima", "title": "Fatima's quiz"})
    assert first.status_code == 201
    secret = first.json()["edit_secret"]

    other = _upload(base, {**FAST_QUIZ, "id": "van-fatima", "title": "Overschreven?"})
    assert other.status_code == 201
    assert other.json()["id"] == "van-fatima-2" and other.json()["renamed_from"] == "van-fatima"
    assert "van-fatima-2" in other.json()["message"]
    assert "vanuit de browser waarmee hij eerst is geüpload" in other.json()["message"]
    assert "titel" not in other.json()["message"]  # another title: no namesake
    namesake = _upload(base, {**FAST_QUIZ, "id": "ander-id", "title": " fatima's  QUIZ"})
    assert namesake.status_code == 201 and "renamed_from" not in namesake.json()
    assert "al een quiz met de titel ‘ fatima's  QUIZ’" in namesake.json()["message"]
    assert other.json()["edit_secret"] != secret
    kept = httpx.get(f"{base}/api/quizzes/van-fatima", headers={"X-Edit-Secret": secret}).json()
    assert kept["title"] == "Fatima's quiz"

    replaced = _upload(base, {**FAST_QUIZ, "id": "van-fatima", "title": "Versie 2"}, secret)
    assert replaced.status_code == 200 and replaced.json()["replaced"] is True
    assert "message" not in replaced.json()
    again = _upload(base, {**FAST_QUIZ, "id": "van-fatima", "title": "Versie 2"}, secret)
    assert "message" not in again.json()  # replacing a quiz is no namesake of itself
    assert replaced.json()["id"] == "van-fatima"
    listed = {q["id"]: q["title"] for q in httpx.get(f"{base}/api/quizzes").json()}
    assert listed["van-fatima"] == "Versie 2" and listed["van-fatima-2"] == "Overschreven?"


def test_only_the_author_deletes_a_quiz(live_server: ServerProcess) -> None:
    base = live_server.base
    secret = _upload(base, {**FAST_QUIZ, "id": "weg-ermee"}).json()["edit_secret"]
    url = f"{base}/api/quizzes/weg-ermee"
    assert httpx.delete(url).status_code == 403
    refused = httpx.delete(url, headers={"X-Edit-Secret": "raden"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_owner"
    assert httpx.get(url).status_code == 200
    assert httpx.delete(url, headers={"X-Edit-Secret": secret}).status_code == 204
    assert httpx.get(url).status_code == 404
    assert "weg-ermee" not in {q["id"] for q in httpx.get(f"{base}/api/quizzes").json()}
    builtin = httpx.delete(
        f"{base}/api/quizzes/demo-kennisdeling", headers={"X-Edit-Secret": secret}
    )
    assert builtin.status_code == 403


@pytest.fixture(scope="module")
def organised_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(
        tmp_path_factory.mktemp("organised"), env={"KENNISKRING_ORGANISER_KEY": "teamdag-2026"}
    ).start()
    try:
        yield server
    finally:
        server.stop()


def test_an_organiser_key_guards_rooms_and_uploads(organised_server: ServerProcess) -> None:
    base = organised_server.base
    room = {"quiz_id": "demo-kennisdeling"}
    missing = httpx.post(f"{base}/api/rooms", json=room)
    assert missing.status_code == 401 and missing.json()["code"] == "organiser_key_required"
    assert "organisatorsleutel" in missing.json()["error"]
    wrong = httpx.post(f"{base}/api/rooms", json=room, headers={"X-Organiser-Key": "gok"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "organiser_key_wrong"
    ok = httpx.post(f"{base}/api/rooms", json=room, headers={"X-Organiser-Key": "teamdag-2026"})
    assert ok.status_code == 201

    assert _upload(base, {**FAST_QUIZ, "id": "georganiseerd"}).status_code == 401
    uploaded = httpx.post(
        f"{base}/api/quizzes",
        json={**FAST_QUIZ, "id": "georganiseerd"},
        headers={"X-Organiser-Key": "teamdag-2026"},
    )
    assert uploaded.status_code == 201
    # Joining needs no key: phones only know the room code.
    assert httpx.get(f"{base}/api/rooms/{ok.json()['code']}").status_code == 200
    # An organiser may read the examples whole.
    demo = httpx.get(
        f"{base}/api/quizzes/demo-kennisdeling", headers={"X-Organiser-Key": "teamdag-2026"}
    ).json()
    assert isinstance(demo["questions"], list)
