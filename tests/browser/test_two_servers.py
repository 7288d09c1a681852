"""One of two machines goes down in the middle of a question, seen in Chromium.

docs/DEPLOYING.md runs several machines on one Redis behind a load balancer without sticky
sessions, and promises for "one machine of several goes down": the phones on it reconnect through
the others, nothing acknowledged is lost. Here two servers (one worker each) share a Redis behind
a round-robin balancer (tests/support/balancer.py); the host, the projector and four phones are
spread over both. Server A is killed (SIGKILL: no goodbye, its presence stays in Redis) while two
answers are in; the balancer takes it out, every page comes back through server B by itself, the
two answers are still there, and the question ends with all four counted.

With room affinity (a balancer that hashes the websocket URL's `room`, docs/DEPLOYING.md) every
page of a room, reloads included, lands on the server its room hashes to.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import upload
from tests.support.balancer import Balancer, servers_behind_a_balancer
from tests.support.browser import PHONE, PROJECTOR, Pages, answer, control, start_quiz

pytestmark = [pytest.mark.browser, pytest.mark.redis]

QUIZ: dict[str, Any] = {
    "format": 1,
    "id": "twee-servers",
    "title": "Twee servers, een vraag",
    "theme": "Uitval",
    "author": "Kenniskring",
    "language": "nl",
    "questions": [
        {
            "id": "q1",
            "type": "true_false",
            "text": "Als een server uitvalt, gaat de quiz door op de andere.",
            "time_limit": 120,
            "answer": True,
        }
    ],
}
NAMES = ("Anna", "Bram", "Chris", "Dewi")
# What Chromium logs when a page's reconnect reaches the balancer before it has taken the dead
# server out (the balancer then closes the connection before the handshake): expected here.
FAILED_RECONNECT = re.compile(
    r"WebSocket connection to 'ws://127\.0\.0\.1:\d+/ws\?room=\d+' failed"
)


def wait_for(condition: Any, what: str, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        time.sleep(0.05)


def all_on(balancer: Balancer, port: int, count: int) -> bool:
    """Exactly `count` websockets open, all of them on backend `port`."""
    return balancer.open_websockets[port] == count == sum(balancer.open_websockets.values())


def test_a_server_that_goes_down_mid_question_loses_no_answer(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with servers_behind_a_balancer(tmp_path) as deployment:
        balancer = deployment.balancer
        down, up = deployment.servers
        pages = Pages(browser, deployment.base)
        try:
            upload(deployment.base, QUIZ)
            host = pages.open("host", "/host", {"width": 1280, "height": 900})
            host.get_by_label(re.compile(re.escape(str(QUIZ["title"])))).check()
            host.locator("#start-session").click()
            expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
            code = host.locator("#session-code").inner_text().replace(" ", "")
            screen = pages.open("screen", f"/screen/{code}", PROJECTOR)
            phones = {}
            for name in NAMES:
                phone = pages.open(name, f"/join/{code}", PHONE, is_mobile=True, has_touch=True)
                phone.locator("#join-name").fill(name)
                phone.locator("#join-form button[type=submit]").click()
                expect(phone.locator(".joined-as")).to_contain_text(name)
                phones[name] = phone
            expect(screen.locator(".player-count")).to_have_text("4 deelnemers")
            pages_open = 2 + len(NAMES)
            wait_for(lambda: sum(balancer.open_websockets.values()) == pages_open, "all sockets")
            on_down = balancer.open_websockets[down.port]
            assert 1 <= on_down < pages_open, dict(balancer.open_websockets)

            start_quiz(host)
            for phone in phones.values():
                expect(phone.locator(".answers button")).to_have_count(2)
            answer(phones["Anna"], "Waar")
            answer(phones["Bram"], "Niet waar")
            expect(screen.locator("#answered")).to_have_text("2 van 4 beantwoord")

            # Server A goes down without a goodbye; the balancer notices and takes it out.
            down.kill()
            balancer.take_out(down.port)
            wait_for(lambda: all_on(balancer, up.port, pages_open), "every page back on B")

            # Every page is itself again, on server B; the two answers are kept.
            for name, phone in phones.items():
                expect(phone.locator("#conn-banner")).to_be_hidden()
                expect(phone.locator("#me-name")).to_have_text(name)
            for name in ("Anna", "Bram"):
                expect(phones[name].locator(".received h2")).to_have_text("Antwoord ontvangen!")
            expect(phones["Anna"].locator(".received .chosen")).to_contain_text("Waar")
            expect(screen.locator("#answered")).to_have_text("2 van 4 beantwoord")
            expect(host.locator("#host-answered")).to_have_text("2 van 4 beantwoord")

            # The other two answer through B: everyone answered, so the question closes.
            answer(phones["Chris"], "Waar")
            answer(phones["Dewi"], "Waar", last=True)
            expect(screen.locator(".right-answer")).to_have_text("Het goede antwoord: Waar")
            expect(screen.locator(".bar-row.is-correct .bar-count")).to_contain_text("3")
            for name in ("Anna", "Chris", "Dewi"):
                expect(phones[name].locator(".verdict h1")).to_have_text("Goed!")
            expect(phones["Bram"].locator(".verdict h1")).to_have_text("Helaas, fout")
            expect(phones["Bram"].locator(".reveal")).to_contain_text("Jij koos: Niet waar")

            # The facilitator goes on as if nothing happened.
            control(host, "Toon tussenstand")
            expect(screen.locator(".screen-scoreboard .score-row")).to_have_count(4)
            expect(phones["Bram"].locator(".scoreboard-phone .rank")).to_have_text(
                "Je staat op plek 4 van 4"
            )
            assert balancer.open_websockets[down.port] == 0
            pages.errors = [e for e in pages.errors if not FAILED_RECONNECT.search(e)]
            pages.assert_clean()
        finally:
            pages.close()


def start_room(pages: Pages, label: str) -> tuple[Any, str]:
    """A host page that started the quiz's room; its code."""
    from playwright.sync_api import expect

    host = pages.open(label, "/host", {"width": 1280, "height": 900})
    host.get_by_label(re.compile(re.escape(str(QUIZ["title"])))).check()
    host.locator("#start-session").click()
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    return host, host.locator("#session-code").inner_text().replace(" ", "")


def test_a_balancer_with_room_affinity_keeps_each_room_on_one_server(
    browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with servers_behind_a_balancer(tmp_path, by_room=True) as deployment:
        balancer = deployment.balancer
        pages = Pages(browser, deployment.base)
        try:
            upload(deployment.base, QUIZ)
            rooms = [start_room(pages, f"host-{i}") for i in range(2)]
            phones: dict[str, list[Any]] = {}
            for (host, code), names in zip(rooms, (NAMES[:2], NAMES[2:]), strict=True):
                screen = pages.open(f"screen-{code}", f"/screen/{code}", PROJECTOR)
                phones[code] = []
                for name in names:
                    phone = pages.open(name, f"/join/{code}", PHONE, is_mobile=True)
                    phone.locator("#join-name").fill(name)
                    phone.locator("#join-form button[type=submit]").click()
                    expect(phone.locator(".joined-as")).to_contain_text(name)
                    phones[code].append(phone)
                expect(screen.locator(".player-count")).to_have_text("2 deelnemers")
                start_quiz(host)
                answer(phones[code][0], "Waar")
                expect(screen.locator("#answered")).to_have_text("1 van 2 beantwoord")
            # A phone that reloads comes back through the balancer to its room's server.
            for first, _ in phones.values():
                first.reload()
                expect(first.locator(".received h2")).to_have_text("Antwoord ontvangen!")
            wait_for(lambda: sum(balancer.open_websockets.values()) == 8, "all sockets")
            codes = {code for _, code in rooms}
            # Every websocket said its room in its URL, and each room's went to one server.
            assert set(balancer.rooms) == codes, dict(balancer.rooms)
            for code in codes:
                assert len(balancer.rooms[code]) == 1, (code, dict(balancer.rooms))
            assert sum(balancer.websockets.values()) == 10  # 8 pages + 2 reloads
            pages.assert_clean()
        finally:
            pages.close()
