"""One clear line when the backend becomes unreachable and one when it is back, instead of a
traceback per request.

A Redis outage is something the design expects (docs/DEPLOYING.md, "what survives what"):
requests made during it fail and their phones reconnect. What the log needs is when it started
and how long it took, not hundreds of identical tracebacks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("kenniskring.backend")


class Outage:
    def __init__(self, backend: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.backend = backend
        self.clock = clock
        self.since: float | None = None
        self.failures = 0

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, where: str, exc: BaseException, started: float | None = None) -> None:
        """A request (sent at `started`, on this clock, if known) could not reach the backend.
        Logged once per outage; the outage counts from when the failed request was sent (the
        client library retried for a few seconds before it gave up)."""
        self.failures += 1
        began = self.clock() if started is None else started
        if self.since is not None:
            self.since = min(self.since, began)  # an earlier request failed only now
            return
        self.since = began
        log.warning(
            "%s is unreachable (%s: %s: %s); requests fail until it is back",
            self.backend,
            where,
            type(exc).__name__,
            exc,
        )

    def recovered(self) -> None:
        """A request reached the backend again."""
        if self.since is None:
            return
        took = self.clock() - self.since
        log.warning(
            "%s is reachable again after %.1f s (%d requests failed meanwhile)",
            self.backend,
            took,
            self.failures,
        )
        self.since = None
        self.failures = 0
