"""How many websocket handshakes one worker works on at once.

When 2,000 phones reconnect together (a venue's Wi-Fi came back), each handshake is several steps
of work in the event loop: parse the upgrade request, build the protocol, start the app's task,
write the 101. Started all at once, those steps fill the loop's ready queue, and everything else
the worker does (a health check, an answer in another room, a host's button) waits behind the
whole storm: about 1.5 s of CPU on one core. The gate lets `limit` handshakes run at a time; the
others wait with their socket's reading paused (their request already read, which costs little)
and start, in arrival order, as earlier ones finish. The storm takes the same CPU and about the
same time, but the loop's queue stays short, so what arrives during it is served between
handshakes instead of after all of them.

One gate per event loop (a worker process runs one); `FrameWritingProtocol` uses it, and the
collector (`server.web.collector`) waits for it to be idle before a full pass.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from weakref import WeakKeyDictionary

# Enough to keep the loop busy with handshakes (each waits on nothing but the loop), few enough
# that the work queued ahead of a new request stays in the tens of milliseconds.
HANDSHAKE_LIMIT = 16


class HandshakeGate:
    """At most `limit` handshakes in progress; the rest start in arrival order."""

    def __init__(
        self, limit: int = HANDSHAKE_LIMIT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.clock = clock
        self.active = 0
        self.waiting: deque[Callable[[], bool]] = deque()
        self.idle_since = 0.0  # when the last handshake ended with none left
        self.peak = 0  # most handshakes in progress at once
        self.waited = 0  # handshakes that had to wait for a slot

    def enter(self) -> bool:
        """Take a slot if one is free (True); otherwise the caller must `wait`."""
        if self.active < self.limit:
            self.active += 1
            self.peak = max(self.peak, self.active)
            return True
        return False

    def wait(self, start: Callable[[], bool]) -> None:
        """Call `start()` once a slot is the caller's. `start` returns False when its
        connection is gone by then, and the slot goes to the next one waiting."""
        self.waited += 1
        self.waiting.append(start)

    def leave(self) -> None:
        """A handshake is over (done, refused or lost): its slot goes to the next one waiting,
        started on the next loop turn so the one leaving finishes its own step first."""
        if self.waiting:
            asyncio.get_running_loop().call_soon(self._hand_over)
        else:
            self._free()

    def _hand_over(self) -> None:
        while self.waiting:
            if self.waiting.popleft()():
                return  # the slot is now that handshake's
        self._free()

    def _free(self) -> None:
        self.active -= 1
        if self.active == 0:
            self.idle_since = self.clock()

    def last_active(self) -> float:
        """The clock's now while handshakes are in progress or waiting, else when the last
        one ended."""
        return self.clock() if self.busy else self.idle_since

    def has_room(self) -> bool:
        """Whether another handshake may be set up: no more than one batch waiting already
        (the accept loop's feeder asks; server/web/eventloop.py)."""
        return len(self.waiting) < self.limit

    @property
    def busy(self) -> bool:
        """Handshakes in progress or waiting."""
        return self.active > 0 or bool(self.waiting)


_gates: WeakKeyDictionary[asyncio.AbstractEventLoop, HandshakeGate] = WeakKeyDictionary()


def gate_for(loop: asyncio.AbstractEventLoop) -> HandshakeGate:
    """The gate of one event loop."""
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = HandshakeGate()
    return gate
