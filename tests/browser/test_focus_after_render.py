"""Where focus goes when a phone's page is drawn anew (trial 7, a screen-reader user): the
control just used ("Doe mee", an answer button, "Opslaan") is gone from the new page, and focus
must not fall back to <body> (a screen reader would start again at the top). It goes to the new
page's first heading, which is read once, by the focus, not a second time by the live region."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.browser import PHONE, Pages, programme_host, start_quiz

pytestmark = pytest.mark.browser

FOCUSED = """() => {
  const a = document.activeElement;
  return {tag: a ? a.tagName : null, text: a ? a.textContent.trim() : null,
          inApp: Boolean(a && document.querySelector('#app').contains(a))};
}"""


# What the live region says that is no heading of the page any more ("" when nothing).
STALE = """() => {
  const said = document.querySelector('#announce').textContent;
  const now = [...document.querySelectorAll('#app h1, #app h2')].map((h) => h.textContent.trim());
  return said && !now.some((text) => text && said.includes(text)) ? said : '';
}"""


def focused_heading(page: Any) -> str:
    """The text of the heading in #app that has focus; fails when focus is elsewhere."""
    for _ in range(40):  # focus moves with the render after the frame arrived
        now = page.evaluate(FOCUSED)
        if now["tag"] in ("H1", "H2") and now["inApp"]:
            return str(now["text"])
        page.wait_for_timeout(50)
    raise AssertionError(f"focus is not on a heading of the page: {now}")


def keyboard_join(pages: Pages, code: str, name: str) -> Any:
    from playwright.sync_api import expect

    phone = pages.open(name, f"/join/{code}", PHONE)
    phone.locator("#join-name").fill(name)
    phone.locator("#join-name").press("Enter")
    expect(phone.locator("#join-form")).to_have_count(0)
    return phone


def test_focus_lands_on_the_new_heading_after_joining_and_answering(pages: Pages) -> None:
    from playwright.sync_api import expect

    host, _ = programme_host(pages, [{"quiz_id": "demo-kennisdeling"}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    anna = keyboard_join(pages, code, "Anna")
    keyboard_join(pages, code, "Bram")  # so that Anna's answer does not close the question
    assert focused_heading(anna)  # the lobby's heading, not <body>

    start_quiz(host)
    buttons = anna.locator(".answers button")
    buttons.first.focus()
    expect(buttons.first).to_be_focused()
    buttons.first.press("Enter")
    expect(anna.locator("main")).to_contain_text("Antwoord ontvangen")
    heading = focused_heading(anna)
    assert "Antwoord ontvangen" in heading
    # read once: by the focus, not also by the live region
    assert "Antwoord ontvangen" not in anna.locator("#announce").inner_text()
    # and the live region holds nothing that left the page (trial 8: a screen reader reading
    # the page through found an earlier page's heading there)
    stale = anna.evaluate(STALE)
    assert stale == "", stale
    pages.shot(anna, "focus-after-answer")
    pages.assert_clean()


def test_focus_stays_on_the_page_after_saving_a_grade(pages: Pages) -> None:
    from playwright.sync_api import expect

    host, _ = programme_host(pages, [{"kind": "circle", "content": {}}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    eva = keyboard_join(pages, code, "Eva")
    expect(eva.locator("#kring-entry")).to_be_visible()
    eva.locator(".domain-btn", has_text=re.compile(r"^participatie$")).click()
    eva.get_by_role("button", name="Cijfer 8", exact=True).click()
    eva.locator("#kring-save").focus()
    eva.locator("#kring-save").press("Enter")
    expect(eva.locator("#kring-status")).to_contain_text("Opgeslagen")
    eva.wait_for_timeout(300)  # the render after the save
    now = eva.evaluate(FOCUSED)
    assert now["tag"] != "BODY" and now["inApp"], now
    pages.assert_clean()
