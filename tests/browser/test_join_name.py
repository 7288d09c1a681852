"""The join form in real headless Chromium: a name longer than 24 characters gets the app's
message, it is not cut silently by the input (issue 13, point 7); the code typed as the
projector shows it ("123 456") joins."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAST_QUIZ, create_room, upload

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
