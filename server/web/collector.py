"""A full garbage collection after many sockets closed, once the worker is quiet.

A closed websocket leaves no reference cycle (server/web/httpprotocol.py and
`FrameWritingProtocol._let_go` break the two it had, about 57 objects per socket;
tests/integration/test_no_garbage.py), so reference counting frees it when it closes. A full
collection still keeps the worker's memory flat: without it RSS rose by about 9 MiB with every
2,000-phone reconnect storm (102 → 111 → 120 → 129 MiB; with it 102.7 → 104.8 MiB flat; a
generation-1 collection does not do it), which points at what only a full pass releases (the
interpreter's free lists) rather than at garbage: `DEBUG_SAVEALL` finds none.

So: once `threshold` sockets have closed since the last full pass, one `gc.collect()` runs when
no socket has closed and no websocket handshake has been in progress for `quiet_s` (a storm is
over: the phones that dropped have come back), or at the latest `max_wait_s` after the first of
them (steady churn). The pass stops the worker: 0.2-0.4 s at 2,000 sockets on the machine of
docs/PERFORMANCE.md (it walks every tracked object), which is why it waits for the reconnects
too. After it the C heap's free pages go back to the operating system
(`server.web.heap.trim_heap`), so RSS falls back once a session's rooms and sockets are gone
instead of staying at its high-water mark.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

from server.web.heap import trim_heap

log = logging.getLogger("kenniskring.gc")


class ClosedSockets:
    def __init__(
        self,
        threshold: int = 200,
        quiet_s: float = 1.0,
        max_wait_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        collect: Callable[[], int] = gc.collect,
        release: Callable[[], object] = trim_heap,
        handshakes: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.threshold = threshold
        self.quiet_s = quiet_s
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.collect = collect
        self.release = release
        # When handshakes last went on (the clock's now while some are in progress): see
        # `HandshakeGate.last_active`.
        self.handshakes = handshakes
        self.closed = 0  # sockets closed since the last full pass
        self.first = 0.0  # when the first of them closed
        self.last = 0.0  # when the last of them closed
        self.passes = 0
        self._timer: asyncio.TimerHandle | None = None

    def one_closed(self) -> None:
        now = self.clock()
        if self.closed == 0:
            self.first = now
        self.closed += 1
        self.last = now
        if self.closed >= self.threshold and self._timer is None:
            self._arm(self.quiet_s)

    def _arm(self, delay: float) -> None:
        self._timer = asyncio.get_running_loop().call_later(delay, self._check)

    def _check(self) -> None:
        self._timer = None
        now = self.clock()
        quiet_for = now - max(self.last, self.handshakes())
        if quiet_for >= self.quiet_s or now - self.first >= self.max_wait_s:
            self.run()
        else:
            self._arm(self.quiet_s - quiet_for)

    def run(self) -> None:
        """The full pass (also for tests)."""
        started = time.perf_counter()
        freed = self.collect()
        self.release()
        self.passes += 1
        log.debug(
            "full collection after %d closed sockets: %d objects freed in %.0f ms",
            self.closed,
            freed,
            (time.perf_counter() - started) * 1000,
        )
        self.closed = 0

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
