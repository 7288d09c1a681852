"""One line when the backend goes, one when it is back, with how long."""

from __future__ import annotations

import logging

import pytest

from server.hub.outage import Outage


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_two_lines_however_many_requests_fail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    outage = Outage("redis", clock)
    caplog.set_level(logging.WARNING, logger="kenniskring.backend")
    outage.recovered()  # nothing was down: nothing to say
    clock.now = 105.0
    outage.failed("answer", ConnectionError("reset"), started=100.5)
    for _ in range(50):
        outage.failed("render", ConnectionError("reset"))
    outage.failed("deadlines", ConnectionError("reset"), started=100.1)  # sent earlier
    assert outage.down
    clock.now = 110.2
    outage.recovered()
    outage.recovered()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("redis is unreachable (answer: ConnectionError: reset)")
    assert lines[1] == "redis is reachable again after 10.1 s (52 requests failed meanwhile)"
    assert not outage.down
