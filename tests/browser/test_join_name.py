"""The join form in real headless Chromium: a name longer than 24 characters gets the app's
message, it is not cut silently by the input (issue 13, point 7); the code typed as the
projector shows it ("123 456") joins; a name taken already is changed with a word why; a phone
whose room is gone (the server restarted) asks for the new code, not for a code typed right."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAST_QUIZ, create_room, upload
from tests.support.browser import PHONE, Pages, join_phone, programme_host, start_quiz
from tests.support.servers import ServerProcess, free_port

CHROMIUM = os.environ.get("KENNISKRING_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

pytestmark = pytest.mark.browser


@contextmanager
def phone_page() -> Iterator[Any]:
    """A 360×640 Dutch page in its own headless Chromium."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium not found at {CHROMIUM}", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 360, "height": 640}, locale="nl-NL")
            yield context.new_page()
        finally:
            browser.close()


def test_a_long_name_is_refused_with_a_message(live_server: Any) -> None:
    from playwright.sync_api import expect

    room = create_room(live_server.base, upload(live_server.base, FAST_QUIZ))
    long_name = "Annemarie Wilhelmina van Oldenbarnevelt"  # 39 characters
    with phone_page() as page:
        page.goto(f"{live_server.base}/join/{room['code']}")
        page.get_by_label("Je naam").fill(long_name)
        page.get_by_role("button", name="Doe mee").click()
        expect(page.locator("#join-error")).to_contain_text("maximaal 24 tekens", timeout=15_000)
        # Nobody joined under a cut-off name.
        expect(page.locator(".joined-as")).to_have_count(0)
        assert page.get_by_label("Je naam").input_value() == long_name


def test_the_code_is_typed_as_the_projector_shows_it(live_server: Any) -> None:
    """The projector shows the code as "123 456": typed like that on the phone's start page, the
    space does not cost the last digit (the field takes 7 characters) and the phone joins."""
    from playwright.sync_api import expect

    code = create_room(live_server.base, upload(live_server.base, FAST_QUIZ))["code"]
    with phone_page() as page:
        page.goto(f"{live_server.base}/")
        field = page.locator("#join-code")
        field.press_sequentially(f"{code[:3]} {code[3:]}")
        assert field.input_value() == f"{code[:3]} {code[3:]}"
        page.get_by_label("Je naam").fill("Anna")
        page.get_by_role("button", name="Doe mee").click()
        expect(page.locator("#join-form")).to_have_count(0, timeout=15_000)
        expect(page.locator("#join-error")).to_have_count(0)


def test_a_name_taken_already_is_changed_with_a_word_why(pages: Pages) -> None:
    """With "Anna" in the room, a phone joining as "anna" becomes "anna 2": the phone says why,
    in its own language, until the quiz moves on, and her next join form suggests "anna". A name
    that was free gets no such note."""
    from playwright.sync_api import expect

    host, _ = programme_host(pages, [{"quiz_id": upload(pages.base, FAST_QUIZ)}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    anna = join_phone(pages, code, "Anna", ".joined-as")
    expect(anna.locator(".joined-as")).to_have_text("Je doet mee als Anna")
    second = join_phone(pages, code, "  anna ", ".joined-as")
    expect(second.locator(".joined-as")).to_have_text("Je doet mee als anna 2")
    expect(second.locator("#name-note")).to_have_text(
        "De naam ‘anna’ was al bezet; je heet nu ‘anna 2’."
    )
    pages.shot(second, "phone-name-taken")
    third = pages.open("ANNA", f"/join/{code}?lang=en", PHONE, is_mobile=True, has_touch=True)
    third.locator("#join-name").fill("ANNA")
    third.locator("#join-form button[type=submit]").click()
    expect(third.locator(".joined-as")).to_have_text("You're playing as ANNA 3")
    expect(third.locator("#name-note")).to_have_text(
        "The name ‘ANNA’ was already taken; you are now ‘ANNA 3’."
    )
    expect(anna.locator("#name-note")).to_have_count(0)

    # A reload resumes the player: nothing was typed, nothing to explain.
    third.reload()
    expect(third.locator(".joined-as")).to_have_text("You're playing as ANNA 3")
    expect(third.locator("#name-note")).to_have_count(0)

    # The next join form suggests each name as it was typed, not as the room made it unique.
    for phone, typed in ((second, "anna"), (third, "ANNA")):
        form = phone.context.new_page()
        form.goto(f"{pages.base}/")
        expect(form.locator("#join-name")).to_have_value(typed)
        form.close()

    # The note has been read once the quiz moves on: the question gets the whole screen.
    start_quiz(host)
    expect(second.locator(".answers button")).to_have_count(4)
    expect(second.locator("#me-name")).to_have_text("anna 2")
    expect(second.locator("#name-note")).to_have_count(0)
    pages.assert_clean()


# What Chromium logs while a page reconnects to a server that is not back yet: expected here.
FAILED_RECONNECT = re.compile(
    r"WebSocket connection to 'ws://127\.0\.0\.1:\d+/ws\?room=\d+' failed"
)


def test_a_phone_whose_room_is_gone_asks_for_the_new_code(browser: Any, tmp_path: Path) -> None:
    """The server restarts and its rooms (in memory) are gone. The phones in a room never typed
    a wrong code: a phone that reconnects, and one whose page is opened again, say the session
    no longer exists and ask for the new code, with the name kept and the code field focused.
    A code typed wrong by hand still gets "Deze code kennen we niet"."""
    from playwright.sync_api import expect

    port = free_port()
    before = ServerProcess(tmp_path / "before", port=port).start()
    after: ServerProcess | None = None
    pages = Pages(browser, before.base)
    gone = "Deze sessie bestaat niet meer. Vul de nieuwe code van het scherm in."
    try:
        code = create_room(before.base, "demo-kennisdeling")["code"]
        eva = join_phone(pages, code, "Eva", ".joined-as")  # stays open: it reconnects
        finn = join_phone(pages, code, "Finn", ".joined-as")  # its page is opened again later
        finn.goto("about:blank")
        before.stop()
        after = ServerProcess(tmp_path / "after", port=port).start()

        expect(eva.locator("#join-error")).to_have_text(gone)
        expect(eva.locator("#join-name")).to_have_value("Eva")
        expect(eva.locator("#join-code")).to_have_value("")
        expect(eva.locator("#join-code")).to_be_focused()
        assert eva.url == f"{after.base}/"  # a reload shows the form, not the old code's room
        pages.shot(eva, "phone-room-gone")

        finn.goto(f"{after.base}/join/{code}")
        expect(finn.locator("#join-error")).to_have_text(gone)
        expect(finn.locator("#join-name")).to_have_value("Finn")
        expect(finn.locator("#join-code")).to_be_focused()

        # The old code typed by hand: that is a code we do not know.
        eva.locator("#join-code").fill(code)
        eva.locator("#join-form button[type=submit]").click()
        expect(eva.locator("#join-error")).to_have_text(
            "Deze code kennen we niet. Kijk nog eens op het scherm."
        )
        # The new session's code: Eva is in, under her name.
        fresh = create_room(after.base, "demo-kennisdeling")["code"]
        eva.locator("#join-code").fill(fresh)
        eva.locator("#join-form button[type=submit]").click()
        expect(eva.locator(".joined-as")).to_have_text("Je doet mee als Eva")
        pages.errors = [e for e in pages.errors if not FAILED_RECONNECT.search(e)]
        pages.assert_clean()
    finally:
        pages.close()
        before.stop()
        if after is not None:
            after.stop()
