"""Fixtures of the browser tests: one Chromium per module, a Pages object per test, and where
the pages are served from (`base_url`: one server by default; `ON_TWO_SERVERS` runs a test once
more on two servers and Redis behind a load balancer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.balancer import Deployment, servers_behind_a_balancer
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TWO_SERVERS,
    WAIT_MS,
    Pages,
    need_chromium,
)


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


@pytest.fixture(scope="session")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Two servers (one worker each) on one redis-server behind a round-robin balancer, for the
    whole session."""
    with servers_behind_a_balancer(tmp_path_factory.mktemp("balanced")) as deployment:
        yield deployment


@pytest.fixture
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if getattr(request, "param", None) != TWO_SERVERS:
        # tests/conftest.py's live_server yields a ServerProcess (with .base); a plain URL too.
        live_server = request.getfixturevalue("live_server")
        yield str(getattr(live_server, "base", live_server)).rstrip("/")
        return
    deployment: Deployment = request.getfixturevalue("two_servers")
    before = dict(deployment.balancer.websockets)
    yield deployment.base
    # The test's websockets really were spread over both servers.
    during = {
        port: deployment.balancer.websockets[port] - before.get(port, 0)
        for port in deployment.balancer.backends
    }
    assert min(during.values()) >= 2, f"websockets per server: {during}"


@pytest.fixture
def pages(browser: Any, base_url: str) -> Iterator[Pages]:
    p = Pages(browser, base_url)
    try:
        yield p
    finally:
        p.close()
