"""Ending a session, seen in Chromium: "Sessie afsluiten" on the facilitator's page tells the
phones and the projector that the session is over, the host page keeps every download, a phone
that opens the join link afterwards sees the end instead of the join form, and after "Nieuwe
sessie" the sessions left on this laptop are listed with their downloads."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAST_QUIZ, upload
from tests.support.browser import (
    PHONE,
    Dialogs,
    Pages,
    answer,
    join_phone,
    programme_host,
    start_quiz,
)

pytestmark = pytest.mark.browser

SCREEN = {"width": 1920, "height": 1080}
ENDED_PHONE = "De sessie is afgelopen. Bedankt voor het meedoen!"


def _download(host: Any, button: Any) -> tuple[int, str, str]:
    """Click an export button; the HTTP status of its fetch, the file the browser saved and
    the name it was offered under."""
    with host.expect_response(lambda r: "/results." in r.url) as response:
        with host.expect_download() as download:
            button.click()
    path = download.value.path()
    text = Path(path).read_text(encoding="utf-8-sig")
    return response.value.status, text, download.value.suggested_filename


def test_the_host_ends_the_session_and_keeps_the_downloads(pages: Pages) -> None:
    from playwright.sync_api import expect

    team = f"Team Eind {uuid.uuid4().hex[:6]}"
    programme = [{"quiz_id": upload(pages.base, FAST_QUIZ)}, {"kind": "circle", "content": {}}]
    host, _ = programme_host(pages, programme, team=team)
    code = host.locator("#session-code").inner_text().replace(" ", "")
    join_host = re.sub(r"^https?://", "", host.locator("#join-url").inner_text()).split("/")[0]
    screen = pages.open("screen", f"/screen/{code}", SCREEN)
    anna = join_phone(pages, code, "Anna", ".joined-as")
    expect(host.locator("#players h2")).to_have_text(re.compile(r"\(1\)"))
    host.get_by_role("button", name="Start", exact=True).click()  # not "Start volgende: …"
    answer(anna, "Niemand", last=True)
    expect(host.locator(".phase-badge")).to_have_text("Antwoord")

    dialogs = Dialogs(host)
    dialogs.next(accept=False)  # asked first; dismissed: nothing happens
    host.locator("#end-session").click()
    assert dialogs.asked and "De sessie afsluiten?" in dialogs.asked[0]
    # The quiz is at its reveal, not its podium: the facilitator is told it gets no end.
    assert dialogs.asked[0].startswith("‘Testquiz’ is nog niet afgerond: na het afsluiten")
    # The kring that never ran is dropped with the session, and there is no way back (trial 8).
    assert "Nog niet gespeeld: ‘Binnen- en buitenkring’. Die vervallen" in dialogs.asked[0]
    assert "Dit kan niet ongedaan worden gemaakt" in dialogs.asked[0]
    expect(anna.locator("#session-ended")).to_have_count(0)
    dialogs.next(accept=True)
    host.locator("#end-session").click()

    expect(anna.locator("#session-ended")).to_contain_text(ENDED_PHONE)
    expect(anna.locator("#ended-other")).to_have_attribute("href", "/")
    expect(screen.locator("#screen-ended h1")).to_have_text("De sessie is afgelopen")
    expect(screen.locator("#screen-ended")).to_contain_text(team)  # the team's bokaal page
    # Readable from the back row (trial 8): the heading is the largest text, above the thanks,
    # and the bokaal's address is the phones' server's, as one types it (no %20).
    expect(screen.locator(".bokaal-line")).to_contain_text(f"{join_host}/bokaal?team={team}")
    sizes = screen.evaluate(
        """() => ['#screen-ended h1', '#screen-ended .screen-wait'].map((s) => {
             const n = document.querySelector(s); const r = n.getBoundingClientRect();
             return {size: parseFloat(getComputedStyle(n).fontSize), top: r.top, width: r.width};
           })"""
    )
    heading, thanks = sizes
    assert heading["size"] > thanks["size"] and heading["top"] < thanks["top"], sizes
    assert heading["width"] > 600, sizes  # one line across the screen, not a narrow column
    ended = host.locator("#session-ended")
    expect(ended.locator("h1")).to_have_text("Sessie afgesloten")
    expect(host.locator("#controls")).to_have_count(0)  # no werkvorm controls any more
    status, text, name = _download(host, ended.locator("button.export", has_text="CSV").first)
    assert status == 200 and "Anna" in text
    assert name == f"kenniskring-{code}-1-testquiz.csv"  # what it holds, found again later

    # The join link of the ended session: its end, not the join form.
    late = pages.open("Laat", f"/join/{code}", PHONE, is_mobile=True, has_touch=True)
    expect(late.locator("#session-ended")).to_contain_text(ENDED_PHONE)
    expect(late.locator("#join-form")).to_have_count(0)

    # A new session: the one just ended is listed with its downloads.
    host.locator("#new-session").click()
    expect(host.locator("#host-setup")).to_be_visible()
    earlier = host.locator(f'#earlier-sessions li.earlier-session[data-code="{code}"]')
    expect(earlier).to_contain_text(f"Sessie {code[:3]} {code[3:]}")
    expect(earlier).to_contain_text(team)
    status, text, _ = _download(host, earlier.locator("button.export").first)
    assert status == 200 and "Anna" in text
    pages.assert_clean()


def test_a_session_left_running_stays_downloadable_on_this_laptop(pages: Pages) -> None:
    from playwright.sync_api import expect

    host, _ = programme_host(pages, [{"quiz_id": upload(pages.base, FAST_QUIZ)}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    anna = join_phone(pages, code, "Anna", ".joined-as")
    start_quiz(host)
    answer(anna, "Niemand", last=True)
    expect(host.locator(".phase-badge")).to_have_text("Antwoord")
    dialogs = Dialogs(host)
    dialogs.next(accept=True)
    host.locator("#new-session").click()
    assert "blijven op dit apparaat te downloaden" in dialogs.asked[0]
    earlier = host.locator(f'#earlier-sessions li.earlier-session[data-code="{code}"]')
    expect(earlier).to_be_visible()
    status, text, _ = _download(host, earlier.locator("button.export").first)
    assert status == 200 and "Anna" in text
    # A session whose room no longer exists leaves the list quietly (a new tab of this
    # browser: the same storage, no session running).
    gone = {"code": "000001", "secret": "x", "team": "", "date": 0}
    host.evaluate(
        "(gone) => { const list = JSON.parse(localStorage.getItem('kk:host:earlier'));"
        " localStorage.setItem('kk:host:earlier', JSON.stringify([gone, ...list])); }",
        gone,
    )
    again = host.context.new_page()
    again.on("pageerror", lambda err: pages.errors.append(f"again: {err}"))
    again.goto(f"{pages.base}/host")
    expect(again.locator("#host-setup")).to_be_visible()
    expect(again.locator(f'#earlier-sessions li[data-code="{code}"]')).to_be_visible()
    expect(again.locator('#earlier-sessions li[data-code="000001"]')).to_have_count(0)
    assert "000001" not in again.evaluate("localStorage.getItem('kk:host:earlier')")
    pages.assert_clean()
