"""Security headers on every HTTP response: pages, API and static files (not the websocket);
scripts and style sheets get the few that apply to them (`SUBRESOURCE_HEADERS`).

A pure ASGI middleware (no per-request task, no body buffering): it only adds headers to the
`http.response.start` message. A page sets its own Content-Security-Policy (`policy_for`: its
import map by hash); every other response gets the strict default.
"""

from __future__ import annotations

import base64
import hashlib
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _policy(script_src: str) -> str:
    """Scripts only from this server, as modules: no inline script, no eval. The i18n
    catalogue in the pages is an inline *data* block (type="application/json"), which CSP does
    not execute or block."""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = _policy("'self'")
_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.S)


def policy_for(html: str) -> str:
    """A page's CSP: scripts from this server, plus the page's import map (an inline script
    that script-src governs) by the SHA-256 of its exact text."""
    found = _IMPORT_MAP.search(html)
    if found is None:
        return CONTENT_SECURITY_POLICY
    digest = base64.b64encode(hashlib.sha256(found.group(1).encode()).digest()).decode()
    return _policy(f"'self' 'sha256-{digest}'")


PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)

HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", PERMISSIONS_POLICY.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_NAMES = {name for name, _ in HEADERS}
_CSP = b"content-security-policy"

# A script or style sheet is no document: framing, opener and permissions policies do not apply
# to it, and its own CSP only matters if someone opens it as a page. It gets the short policy
# of a resource that runs nothing, which saves the phone page about 6 KB of headers on guest
# Wi-Fi (18 such files over HTTP/1.1).
SUBRESOURCE_POLICY = b"default-src 'none'; frame-ancestors 'none'"
SUBRESOURCE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (_CSP, SUBRESOURCE_POLICY),
]
_SUBRESOURCE_TYPES = (b"text/javascript", b"application/javascript", b"text/css")


def _subresource(scope: Scope, headers: list[tuple[bytes, bytes]]) -> bool:
    if not str(scope.get("path", "")).startswith("/static/"):
        return False
    kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    return kind.startswith(_SUBRESOURCE_TYPES)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() not in _NAMES]
                if _subresource(scope, headers):
                    message["headers"] = [
                        h for h in headers if h[0].lower() != _CSP
                    ] + SUBRESOURCE_HEADERS
                    await send(message)
                    return
                if not any(h[0].lower() == _CSP for h in headers):
                    headers.append((_CSP, CONTENT_SECURITY_POLICY.encode()))
                message["headers"] = headers + HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)
