"""Safe on the internet: headers, odd frames and malformed uploads (a real server on loopback)."""

from __future__ import annotations

import httpx
import msgpack
import pytest

from tests.support.phones import Phone
from tests.support.servers import ServerProcess

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@pytest.mark.parametrize(
    "path",
    ["/", "/host", "/quizzes", "/bokaal", "/screen/123456", "/static/js/phone.js",
     "/static/css/app.css", "/api/quizzes", "/healthz", "/api/rooms/000000"],
)
def test_every_response_carries_the_security_headers(live_server: ServerProcess, path: str) -> None:
    response = httpx.get(f"{live_server.base}{path}")
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (path, name, response.headers)
    csp = {
        part.split(" ", 1)[0]: part.split(" ", 1)[1]
        for part in response.headers["content-security-policy"].split("; ")
    }
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert "camera=()" in response.headers["permissions-policy"]


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
        b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"q.json\"\r\n",
        b"--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n{}\r\n--other--\r\n",
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
