"""A tired facilitator presses twice (trial 8): the second click or Enter of a "did it work?"
double press must not land on the button that took the first one's place. Start is replaced
by "Vraag nu sluiten" under the pointer and under the keyboard focus, and a second press 0.4 s
later closed the question it had just opened, with nobody's answer in it. The host page keeps
its controls disabled for a moment after each press (host.js SETTLE_MS)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.browser import Pages, answer, join_phone, programme_host

pytestmark = pytest.mark.browser

SECOND_PRESS_MS = 400


def quiz_lobby(pages: Pages) -> tuple[Any, Any]:
    from playwright.sync_api import expect

    host, _ = programme_host(pages, [{"quiz_id": "demo-kennisdeling"}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    anna = join_phone(pages, code, "Anna", "#app")
    join_phone(pages, code, "Bram", "#app")  # so that Anna's answer does not close it
    expect(host.locator("#players h2")).to_have_text(re.compile(r"\(2\)"))
    return host, anna


def still_open(host: Any, anna: Any) -> None:
    """The question the first press opened is still open: the second press did nothing, and
    Anna's answer counts."""
    from playwright.sync_api import expect

    host.wait_for_timeout(1000)  # a close would have reached both pages by now
    expect(anna.locator(".verdict")).to_have_count(0)
    expect(host.locator("#controls button", has_text="Vraag nu sluiten")).to_be_enabled()
    answer(anna, "Waar")
    expect(host.locator("#app")).to_contain_text("1 van 2")


def test_a_second_click_where_start_was_leaves_the_question_open(pages: Pages) -> None:
    host, anna = quiz_lobby(pages)
    box = host.locator("#controls button", has_text="Start").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    host.mouse.click(x, y)
    host.wait_for_timeout(SECOND_PRESS_MS)
    host.mouse.click(x, y)  # on whatever is there now
    still_open(host, anna)
    pages.assert_clean()


def test_a_second_enter_on_start_leaves_the_question_open(pages: Pages) -> None:
    host, anna = quiz_lobby(pages)
    host.locator("#controls button", has_text="Start").focus()
    host.keyboard.press("Enter")
    host.wait_for_timeout(SECOND_PRESS_MS)
    host.keyboard.press("Enter")  # on whatever has focus now
    still_open(host, anna)
    pages.assert_clean()
