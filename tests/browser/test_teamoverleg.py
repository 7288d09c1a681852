"""What a first game with five phones in a real teamoverleg found (issue 13), seen in Chromium:
each phone's own language, the facilitator on a phone, the toelichting and bokaal on a phone,
tap targets, and the phone page's weight on guest Wi-Fi."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import upload
from tests.support.browser import DEMO_TITLE, PHONE, Pages, answer, control, start_quiz

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
# One true/false question with time to spare for screenshots and axe-core runs mid-question.
TRUE_FALSE_QUIZ: dict[str, Any] = {
    "format": 1,
    "id": "waar-of-niet-waar",
    "title": "Waar of niet waar: de themaquiz",
    "theme": "Kennisdeling",
    "author": "Kenniskring",
    "language": "nl",
    "questions": [
        {
            "id": "q1",
            "type": "true_false",
            "text": "Bij de themaquiz bereidt elk teamoverleg een ander teamlid het thema voor.",
            "time_limit": 120,
            "answer": True,
            "toelichting": "Wat doe je: spreek nu af wie het volgende thema voorbereidt.",
        }
    ],
}
TRUE_FALSE_TITLE = str(TRUE_FALSE_QUIZ["title"])


def start_session(pages: Pages, path: str = "/host", title: str = DEMO_TITLE) -> Any:
    """The facilitator starts the quiz called `title` and returns the host page."""
    from playwright.sync_api import expect

    if title == TRUE_FALSE_TITLE:
        upload(pages.base, TRUE_FALSE_QUIZ)
    host = pages.open("host", path, {"width": 1280, "height": 900})
    host.get_by_label(re.compile(re.escape(title))).check()
    host.locator("#start-session").click()
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    return host


def join(pages: Pages, label: str, code: str, name: str, query: str = "") -> Any:
    from playwright.sync_api import expect

    phone = pages.open(label, f"/join/{code}{query}", PHONE, is_mobile=True, has_touch=True)
    phone.locator("#join-name").fill(name)
    phone.locator("#join-form button[type=submit]").click()
    expect(phone.locator(".joined-as")).to_contain_text(name)
    return phone


def in_view(page: Any, selector: str) -> bool:
    """The element is wholly inside the viewport as the page is scrolled now."""
    return bool(
        page.locator(selector).evaluate(
            "(n) => { const r = n.getBoundingClientRect();"
            " return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; }"
        )
    )


def test_each_phone_shows_labels_in_its_own_language(pages: Pages) -> None:
    """A Dutch room with an English phone, and an English room with a Dutch phone."""
    from playwright.sync_api import expect

    host = start_session(pages, title=TRUE_FALSE_TITLE)
    code = host.locator("#session-code").inner_text().replace(" ", "")
    english = join(pages, "english", code, "Emma", "?lang=en")
    expect(english.locator(".joined-as")).to_have_text("You're playing as Emma")
    assert english.url.endswith(f"/join/{code}?lang=en")  # the address bar keeps the choice
    dutch = join(pages, "dutch", code, "Daan")

    start_quiz(host)
    expect(english.locator(".answers button")).to_have_text(["True", "False"])
    expect(dutch.locator(".answers button")).to_have_text(["Waar", "Niet waar"])
    pages.shot(english, "i13-phone-en-question-in-nl-room")
    answer(english, "True", last=True)
    expect(english.locator(".received .chosen")).to_contain_text("True")
    answer(dutch, "Niet waar", last=True)
    expect(english.locator(".verdict h1")).to_have_text("Correct!")
    expect(english.locator(".reveal .right-answer")).to_have_text("The right answer: True")
    expect(english.locator(".reveal")).to_contain_text("You chose: True")
    expect(dutch.locator(".reveal .right-answer")).to_have_text("Het goede antwoord: Waar")
    pages.shot(english, "i13-phone-en-reveal-in-nl-room")

    # the English phone switches to Dutch mid-game: same player, Dutch labels, ?lang=nl kept
    english.get_by_role("link", name="Nederlands").click()
    expect(english.locator(".reveal .right-answer")).to_have_text("Het goede antwoord: Waar")
    assert english.url.endswith(f"/join/{code}?lang=nl")
    expect(english.locator("#me-name")).to_have_text("Emma")

    # the other way round: an English room, a Dutch phone
    for context in pages.contexts:
        context.close()
    pages.contexts.clear()
    host_en = start_session(pages, "/host?lang=en", title=TRUE_FALSE_TITLE)
    code_en = host_en.locator("#session-code").inner_text().replace(" ", "")
    phone_nl = join(pages, "dutch2", code_en, "Fenna", "?lang=nl")
    control(host_en, "Start")
    expect(phone_nl.locator(".answers button")).to_have_text(["Waar", "Niet waar"])
    answer(phone_nl, "Waar", last=True)
    expect(phone_nl.locator(".reveal .right-answer")).to_have_text("Het goede antwoord: Waar")
    pages.shot(phone_nl, "i13-phone-nl-reveal-in-en-room")
    pages.assert_clean()


def test_facilitator_runs_the_session_from_a_phone(pages: Pages) -> None:
    from playwright.sync_api import expect

    # a laptop: the demo the README names is preselected and "Start" needs no scrolling
    laptop = pages.open("laptop", "/host", LAPTOP)
    expect(laptop.get_by_label(re.compile(re.escape(DEMO_TITLE)))).to_be_checked()
    assert in_view(laptop, "#start-session"), "Start een sessie is below the fold at 1366×768"
    pages.shot(laptop, "i13-host-1366-setup")

    # a phone as remote: after starting, the code and the projector link are on screen
    host = pages.open("host-phone", "/host", PHONE, is_mobile=True, has_touch=True)
    expect(host.get_by_label(re.compile(re.escape(DEMO_TITLE)))).to_be_checked()
    pages.shot(host, "i13-host-phone-0-setup")
    # a facilitator scrolls through the quiz list and the team field before starting
    host.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert host.evaluate("window.scrollY") > 0
    host.locator("#start-session").click()
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    expect(host.locator("#open-screen")).to_be_visible()
    # the session starts at the top of the page, whatever was scrolled on the setup form
    assert host.evaluate("window.scrollY") == 0
    assert in_view(host, "#session-code"), "the room code is off-screen on the phone"
    assert in_view(host, "#open-screen"), "the projector link is off-screen on the phone"
    pages.shot(host, "i13-host-phone-1-lobby")

    code = host.locator("#session-code").inner_text().replace(" ", "")
    player = join(pages, "player", code, "Gijs")
    start = host.locator("#controls button", has_text="Start")
    start.scroll_into_view_if_needed()
    start.click()
    expect(player.locator(".answers button")).to_have_count(2)
    pages.shot(host, "i13-host-phone-2-question")
    answer(player, "Waar", last=True)
    expect(host.locator(".phase-badge")).to_have_text("Antwoord")
    pages.shot(host, "i13-host-phone-3-reveal")
    pages.assert_clean()


def test_toelichting_bokaal_and_targets_on_a_phone(pages: Pages) -> None:
    from playwright.sync_api import expect

    team = "Team Telefoon"
    host = start_session(pages, title=TRUE_FALSE_TITLE)
    code = host.locator("#session-code").inner_text().replace(" ", "")
    phone = join(pages, "phone", code, "Hanna")
    start_quiz(host)
    answer(phone, "Waar", last=True)
    # the toelichting is readable on the phone without hunting for a hidden control
    expect(phone.locator(".reveal .explain-text")).to_be_visible()
    expect(phone.locator(".reveal .explain-text")).to_contain_text("Wat doe je")
    pages.shot(phone, "i13-phone-reveal-toelichting")

    # tap targets: every link on the join and host pages is at least 24 px high
    small: list[str] = []
    join_page = pages.open("join", f"/join/{code}", PHONE, is_mobile=True, has_touch=True)
    expect(join_page.locator("#join-name")).to_be_visible()
    setup = pages.open("setup", "/host", PHONE, is_mobile=True, has_touch=True)
    expect(setup.get_by_label(re.compile(re.escape(DEMO_TITLE)))).to_be_visible()
    for label, page in (("join", join_page), ("setup", setup), ("host", host), ("phone", phone)):
        sizes = page.locator("a").evaluate_all(
            "(links) => links.filter((a) => a.getClientRects().length)"
            ".map((a) => [a.textContent.trim(), a.getBoundingClientRect().height])"
        )
        small += [f"{label}: {text!r} {height:.1f}px" for text, height in sizes if height < 24]
    assert not small, small

    # the bokaal history on a phone: the table can be scrolled, also by keyboard
    _finish_with_team(pages, team)
    bokaal = pages.open("bokaal", f"/bokaal?team={team}", PHONE, is_mobile=True, has_touch=True)
    expect(bokaal.locator(".bokaal-table tbody tr").first).to_be_visible()
    wrap = bokaal.locator(".table-wrap")
    expect(wrap).to_have_attribute("tabindex", "0")
    expect(wrap).to_have_attribute("role", "region")
    width = wrap.evaluate("(n) => [n.scrollWidth, n.clientWidth]")
    if width[0] > width[1]:
        wrap.focus()
        bokaal.keyboard.press("ArrowRight")
        bokaal.keyboard.press("End")
        expect(wrap).not_to_have_js_property("scrollLeft", 0)
    pages.shot(bokaal, "i13-phone-bokaal")
    pages.assert_clean()


def _finish_with_team(pages: Pages, team: str) -> None:
    """A one-phone demo game for `team` played to the podium, so the bokaal has a winner."""
    from playwright.sync_api import expect

    host = pages.open("team-host", "/host", {"width": 1280, "height": 900})
    host.get_by_label("Teamnaam", exact=True).fill(team)
    host.get_by_label(re.compile(re.escape(DEMO_TITLE))).check()
    host.locator("#start-session").click()
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    code = host.locator("#session-code").inner_text().replace(" ", "")
    phone = join(pages, "team-phone", code, "Iris")
    start_quiz(host)
    answer(phone, "Waar", last=True)
    for _ in range(2):
        control(host, "Volgende vraag")
        expect(phone.locator(".answers button, #estimate-value").first).to_be_visible()
        if phone.locator("#estimate-value").count():
            phone.locator("#estimate-value").fill("6")
            phone.locator(".estimate button[type=submit]").click()
        else:
            phone.locator(".answers button").first.click()
        expect(phone.locator(".verdict")).to_be_visible()
    control(host, "Naar het podium")
    expect(phone.locator(".final-place")).to_be_visible()


def test_phone_page_weight_on_guest_wifi(pages: Pages, capsys: pytest.CaptureFixture[str]) -> None:
    """Records the phone page's transfer size and request count (printed, and kept under
    test-artifacts/); checks compression and cache lifetimes of what it loads."""
    from playwright.sync_api import expect

    from tests.support.browser import SHOTS

    context = pages.browser.new_context(viewport=PHONE, locale="nl-NL", is_mobile=True)
    pages.contexts.append(context)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(f"{pages.base}/")
    expect(page.locator("#join-form button[type=submit]")).to_be_enabled()
    page.wait_for_load_state("networkidle")

    http = [r for r in responses if r.url.startswith(pages.base)]
    total = sum(sizes.values())
    line = f"phone page /: {len(http)} requests, {total} bytes transferred"
    with capsys.disabled():
        print(f"\n{line}")
    (SHOTS.parent / "phone-page-weight.txt").write_text(
        line + "\n" + "\n".join(f"{sizes.get(k, 0):7d} {u}" for k, u in urls.items()) + "\n",
        encoding="utf-8",
    )
    for response in http:
        headers = response.all_headers()
        kind = headers.get("content-type", "")
        tiny = int(headers.get("content-length", "1000")) < 500  # not worth a gzip header
        if re.search(r"text/html|javascript|text/css|json", kind) and not tiny:
            assert headers.get("content-encoding") == "gzip", (response.url, headers)
        if "/static/" in response.url:
            assert "?v=" in response.url, f"unversioned static URL {response.url}"
            assert headers.get("cache-control") == "public, max-age=31536000, immutable", (
                response.url,
                headers,
            )
    preloads = page.locator("link[rel=modulepreload]").evaluate_all(
        "(links) => links.map((l) => l.href)"
    )
    modules = [r.url for r in http if re.search(r"\.m?js\?", r.url)]
    assert modules and set(modules) <= set(preloads), (modules, preloads)
    assert total < 60_000, line
    pages.assert_clean()
