"""Shared pieces of the browser tests: Chromium, one Pages object per test, axe-core, helpers.

Drives Debian's Chromium (`/usr/bin/chromium`) through Playwright for Python; `playwright install`
is never needed. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("KENNISKRING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 640}
PROJECTOR = {"width": 1920, "height": 1080}
DEMO_TITLE = "Snelle demo: kennisdeling in 3 vragen"
WAIT_MS = 15_000
# The websocket of a page, `/ws?room=CODE` (connection.js socketUrl).
SOCKET = re.compile(r"/ws(\?|$)")
# axe-core: WCAG 2.0/2.1/2.2 A and AA; a serious or critical violation fails the test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_FAILING = ("serious", "critical")
# Where a test's pages come from (tests/browser/conftest.py's `base_url`).
ONE_SERVER, TWO_SERVERS = "one server", "two servers and Redis"
# A whole meeting, once on one server and once on two servers with Redis behind a load balancer
# without sticky sessions (docs/DEPLOYING.md): phones, host and projector on different servers.
ON_TWO_SERVERS = pytest.mark.parametrize(
    "base_url",
    [ONE_SERVER, pytest.param(TWO_SERVERS, marks=pytest.mark.redis)],
    indirect=True,
)
# What a page shows beyond the right edge of the screen, so that it would scroll sideways: the
# elements that reach past it (at most six), after the page's own width when that is wider.
SIDEWAYS = """() => {
  const width = document.documentElement.clientWidth;
  const out = [...document.querySelectorAll('body *')]
    .filter((n) => n.getBoundingClientRect().right > width + 0.5)
    .map((n) => `${n.tagName}.${n.className} ${(n.textContent || '').trim().slice(0, 30)}`);
  if (document.documentElement.scrollWidth > width) out.unshift(`page ${document.documentElement.scrollWidth} > ${width}`);
  return out.slice(0, 6);
}"""


def need_chromium() -> None:
    """Fail loudly (never skip) when the browser or Playwright is missing."""
    where = "in CI" if os.environ.get("CI") == "true" else "on this machine"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM} {where}: install Debian's package "
            "(`apt-get install -y chromium`) or set KENNISKRING_CHROMIUM. "
            "Do not run `playwright install`.",
            pytrace=False,
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail(
            f"Playwright for Python is not installed {where}: `pip install -e .[test]`.",
            pytrace=False,
        )


class Pages:
    """Every page of the test with its console errors and axe-core findings; a screenshot of a
    phase also runs axe-core on that page in that phase."""

    def __init__(self, browser: Any, base: str) -> None:
        self.browser = browser
        self.base = base
        self.contexts: list[Any] = []
        self.errors: list[str] = []
        self.axe_violations: list[str] = []
        self.axe_runs: list[str] = []
        SHOTS.mkdir(parents=True, exist_ok=True)

    def open(self, label: str, path: str, viewport: dict[str, int], **kwargs: Any) -> Any:
        context = self.browser.new_context(viewport=viewport, locale="nl-NL", **kwargs)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("pageerror", lambda err: self.errors.append(f"{label}: {err}"))
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"{label}: {msg.text}")
                # expected HTTP errors (a 404 room check, a 400 upload) are logged by Chromium too
                if msg.type == "error" and not msg.text.startswith("Failed to load resource")
                else None
            ),
        )
        page.goto(self.base + path)
        return page

    def shot(self, page: Any, name: str, *, axe: bool = True) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"))
        if axe:
            self.axe(page, name)

    def axe(self, page: Any, name: str) -> None:
        """Run axe-core (shipped by axe-playwright-python, no download) on the page as it is."""
        from axe_playwright_python.sync_playwright import Axe

        # Entry animations (a name popping into the lobby) would be measured half-transparent.
        page.evaluate(
            "Promise.allSettled(document.getAnimations()"
            ".filter((a) => a.effect && a.effect.getComputedTiming().iterations !== Infinity)"
            ".map((a) => a.finished))"
        )
        options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
        results = Axe().run(page, options=options)
        self.axe_runs.append(name)
        for violation in results.response["violations"]:
            if violation["impact"] not in AXE_FAILING:
                continue
            nodes = violation["nodes"]
            where = "; ".join(
                f"{node['target']} {node.get('failureSummary', '')}".replace("\n", " ")
                for node in nodes[:3]
            )
            self.axe_violations.append(
                f"{name}: {violation['id']} ({violation['impact']}, {len(nodes)} nodes) "
                f"{violation['help']} — {where}"
            )

    def assert_clean(self) -> None:
        """No console errors and no serious/critical axe-core violation on any page visited."""
        assert not self.errors, self.errors
        assert not self.axe_violations, "\n".join(self.axe_violations)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def control(host: Any, name: str) -> None:
    """Press a facilitator button (the buttons come from the view's `can` list)."""
    button = host.locator("#controls button", has_text=name)
    button.click()


class Dialogs:
    """A page's confirm dialogs: each answered as told by `next` (`accept` or dismiss) and its
    question kept in `asked`."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.asked: list[str] = []

    def next(self, accept: bool) -> None:
        def answer(dialog: Any) -> None:
            self.asked.append(dialog.message)
            (dialog.accept if accept else dialog.dismiss)()

        self.page.once("dialog", answer)


def sideways(page: Any) -> list[str]:
    """What on `page` reaches beyond the screen's right edge (`SIDEWAYS`): [] when the page does
    not scroll sideways."""
    return list(page.evaluate(SIDEWAYS))


def start_quiz(host: Any) -> None:
    """Press the quiz's Start once the host page counts the players who joined: a Start in a
    lobby the page still shows as empty asks first (quiz-host.js), and a test's phones may have
    joined a moment before the host's view says so."""
    from playwright.sync_api import expect

    expect(host.locator("#players h2")).not_to_have_text(re.compile(r"\(0\)"))
    control(host, "Start")


def answer(phone: Any, option: str, *, last: bool = False) -> None:
    """Tap the answer button whose text is `option` (whole text) or contains it."""

    buttons = phone.locator(".answers button")
    buttons.first.wait_for()  # the count below does not wait: before the question, it is 0
    exact = buttons.filter(has_text=re.compile(rf"^\s*{re.escape(option)}\s*$"))
    (exact if exact.count() == 1 else buttons.filter(has_text=option)).click()
    acknowledged(phone, last)


def estimate(phone: Any, value: int | str, *, last: bool = False) -> None:

    phone.locator("#estimate-value").fill(str(value))
    phone.locator(".estimate button[type=submit]").click()
    acknowledged(phone, last)


def acknowledged(phone: Any, last: bool) -> None:
    """The phone shows "Antwoord ontvangen!"; the last phone to answer may already be on the
    reveal, because the server closes the question once every connected phone has answered."""
    from playwright.sync_api import expect

    if last:
        expect(phone.locator(".received.is-received, .verdict").first).to_be_visible()
    else:
        expect(phone.locator(".received h2")).to_have_text("Antwoord ontvangen!")


def score(phone: Any) -> str:
    return str(phone.locator("#me-score").inner_text())


def join_phone(pages: Pages, code: str, name: str, lands_on: str) -> Any:
    """A phone that joins room `code` as `name` through the join page and lands on `lands_on`
    (a selector the werkvorm's phone page shows then)."""
    from playwright.sync_api import expect

    phone = pages.open(name, f"/join/{code}", PHONE, is_mobile=True, has_touch=True)
    phone.locator("#join-name").fill(name)
    phone.locator("#join-form button[type=submit]").click()
    expect(phone.locator(lands_on)).to_be_visible()
    return phone


def routed_phone(pages: Pages, code: str, name: str, route: Any) -> Any:
    """A phone joined to session `code` as `name`, its websocket through `route`."""
    from playwright.sync_api import expect

    context = pages.browser.new_context(viewport=PHONE, locale="nl-NL", is_mobile=True)
    pages.contexts.append(context)
    phone = context.new_page()
    phone.set_default_timeout(WAIT_MS)
    phone.on("pageerror", lambda err: pages.errors.append(f"{name}: {err}"))
    phone.route_web_socket(SOCKET, route)
    phone.goto(f"{pages.base}/join/{code}")
    phone.get_by_label("Je naam").fill(name)
    phone.get_by_role("button", name="Doe mee").click()
    expect(phone.locator("#join-form")).to_have_count(0)  # joined: the werkvorm's page shows
    expect(phone.locator("main")).to_contain_text(name)
    return phone


class HeldFrames:
    """Playwright websocket routing for one phone (`route`, for `routed_phone`) that holds the
    server's frames of the types in `kinds` (every frame: None) back from the phone while `hold`
    is set (`held`), and can send them on (`release`)."""

    def __init__(self, kinds: tuple[str, ...] | None = ("me",)) -> None:
        self.kinds = kinds
        self.hold = False
        self.held: list[bytes] = []
        self.phone: Any = None  # the page's side of the routed socket

    def route(self, ws: Any) -> None:
        import msgpack

        server = ws.connect_to_server()
        ws.on_message(lambda m: server.send(m))

        def to_phone(message: Any) -> None:
            frame = msgpack.unpackb(message) if isinstance(message, bytes) else {}
            kind = frame.get("type") if isinstance(frame, dict) else None
            if self.hold and (self.kinds is None or kind in self.kinds):
                self.held.append(message)
            else:
                ws.send(message)

        server.on_message(to_phone)
        self.phone = ws

    def held_types(self) -> list[tuple[object, object]]:
        """(type, code or phase) of each frame held."""
        import msgpack

        frames = [msgpack.unpackb(m) if isinstance(m, bytes) else {} for m in self.held]
        return [(f.get("type"), f.get("code", f.get("phase"))) for f in frames]

    def send(self, message: bytes) -> None:
        self.phone.send(message)

    def release(self) -> None:
        """Stop holding, and send what was held in order."""
        self.hold = False
        held, self.held = self.held, []
        for message in held:
            self.phone.send(message)


def programme_host(
    pages: Pages, programme: list[dict[str, Any]], lang: str = "nl", team: str = ""
) -> tuple[Any, list[str]]:
    """A room with `programme` (its first item running), its host page (in `lang`) on a
    1366×768 laptop, and that page's console."""
    import httpx

    body = {"programme": programme, "lang": lang, "team": team}
    reply = httpx.post(f"{pages.base}/api/rooms", json=body)
    assert reply.status_code == 201, reply.text
    room = reply.json()
    session = {"code": room["code"], "secret": room["host_secret"], "join_url": room["join_url"]}
    context = pages.browser.new_context(viewport={"width": 1366, "height": 768}, locale="nl-NL")
    pages.contexts.append(context)
    host = context.new_page()
    host.set_default_timeout(15_000)
    console: list[str] = []
    host.on("console", lambda msg: console.append(msg.text))
    host.on("pageerror", lambda err: pages.errors.append(f"host: {err}"))
    host.add_init_script(f"localStorage.setItem('kk:host', {json.dumps(json.dumps(session))})")
    host.goto(f"{pages.base}/host?lang={lang}")
    return host, console
