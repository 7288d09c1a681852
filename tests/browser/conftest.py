"""Fixtures of the browser tests: one Chromium per module, a Pages object per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS, Pages, need_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def base_url(live_server: Any) -> str:
    # tests/conftest.py's live_server yields a ServerProcess (with .base); accept a plain URL too.
    return str(getattr(live_server, "base", live_server)).rstrip("/")


@pytest.fixture
def pages(browser: Any, base_url: str) -> Iterator[Pages]:
    p = Pages(browser, base_url)
    try:
        yield p
    finally:
        p.close()
