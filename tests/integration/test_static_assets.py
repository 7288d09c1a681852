"""Guest Wi-Fi: compressed HTTP responses, long-cached versioned static files, and a websocket that
the compression middleware never touches."""

from __future__ import annotations

import re

import httpx

from tests.support.phones import Phone
from tests.support.servers import ServerProcess

GZIP = {"Accept-Encoding": "gzip"}
IMMUTABLE = "public, max-age=31536000, immutable"


def _versioned_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+\?v=[0-9a-f]+)"', html)


def test_pages_and_assets_are_gzipped_and_versioned(live_server: ServerProcess) -> None:
    for path in ("/", "/join/123456", "/host", "/screen/123456", "/quizzes", "/bokaal"):
        page = httpx.get(live_server.base + path, headers=GZIP)
        assert page.status_code == 200, path
        assert page.headers["content-encoding"] == "gzip", path
        assert "no-store" not in page.headers.get("cache-control", "")
        urls = _versioned_urls(page.text)
        assert any(u.startswith("/static/css/app.css?v=") for u in urls), path
        # the import map sends every module of the graph to its versioned URL as well
        assert re.search(r'<script type="importmap">\{"imports": \{"/static/js/', page.text), path
        for url in urls:
            asset = httpx.get(live_server.base + url, headers=GZIP)
            assert asset.status_code == 200, url
            assert asset.headers["cache-control"] == IMMUTABLE, url
            if int(asset.headers.get("content-length", "0")) >= 500 and not url.endswith(".svg"):
                assert asset.headers["content-encoding"] == "gzip", url


def test_phone_page_preloads_its_whole_module_graph(live_server: ServerProcess) -> None:
    html = httpx.get(f"{live_server.base}/join/123456").text
    preloads = re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)
    names = {re.sub(r"\?v=.*", "", p) for p in preloads}
    assert {
        "/static/js/phone.js",
        "/static/js/connection.js",
        "/static/js/render.js",
        "/static/vendor/msgpack/Decoder.mjs",
        "/static/vendor/msgpack/utils/utf8.mjs",
    } <= names


def test_unversioned_or_stale_static_urls_revalidate(live_server: ServerProcess) -> None:
    for url in ("/static/js/phone.js", "/static/js/phone.js?v=000000000000"):
        response = httpx.get(live_server.base + url, headers=GZIP)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache", url
        assert "etag" in response.headers


async def test_websocket_is_not_compressed_by_the_http_middleware(
    live_server: ServerProcess,
) -> None:
    """A browser sends Accept-Encoding: gzip on the upgrade too; frames stay plain msgpack."""
    phone = await Phone(live_server.ws_url).open(additional_headers=GZIP)
    assert phone.ws is not None
    assert "content-encoding" not in phone.ws.response.headers
    error = await phone.request(
        {"type": "hello", "role": "phone", "room": "999999", "name": "Jo"}, "welcome"
    )
    assert error["code"] == "room_not_found"
    await phone.close()
