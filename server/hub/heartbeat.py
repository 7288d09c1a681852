"""Does a worker's subscription still hear what is published to it?

A pub/sub connection can go deaf without an error (redis-py #3979): it stays open and hears
nothing. So every worker publishes a numbered heartbeat every HEARTBEAT_EVERY seconds on a channel
only it subscribes to, and rebuilds its subscription when one goes unheard. A heartbeat only counts
once Redis has said it delivered it to a subscriber: one that waited for a free pooled connection
(hundreds of phones joining at once) or for a busy Redis says nothing about the subscription, and
rebuilding then would only lose what was published meanwhile and re-read every room. Any message
heard on the subscription after the heartbeat went out shows it is not deaf either (a listener
working through a backlog hears the heartbeat a little later).
"""

from __future__ import annotations

HEARTBEAT_EVERY = 1.0
HEARTBEAT_DEADLINE = 3.0


class Heartbeat:
    """The heartbeats of one subscription, on the caller's clock (the event loop's time)."""

    def __init__(self) -> None:
        self._number = 0  # of the last heartbeat handed out
        self._heard_number = 0  # of the last heartbeat heard
        self._unheard_since: float | None = None  # sent: the oldest delivered, unheard heartbeat
        self._unheard_number = 0
        self._last_message = 0.0

    def restart(self, now: float) -> None:
        """A new subscription: what the old one owed is forgotten."""
        self._unheard_since = None
        self._last_message = now

    def next(self) -> tuple[int, bytes]:
        """The number and payload of the next heartbeat to publish."""
        self._number += 1
        return self._number, str(self._number).encode()

    def delivered(self, number: int, sent_at: float) -> None:
        """Redis delivered heartbeat `number`, published at `sent_at`, to a subscriber (ours)."""
        if number > self._heard_number and self._unheard_since is None:
            self._unheard_since, self._unheard_number = sent_at, number

    def heard(self, now: float, payload: bytes | None = None) -> None:
        """A message arrived on the subscription; `payload` when it was a heartbeat."""
        self._last_message = now
        if payload is None:
            return
        number = int(payload) if payload.isdigit() else 0
        self._heard_number = max(self._heard_number, number)
        if self._unheard_since is not None and number >= self._unheard_number:
            self._unheard_since = None

    def deaf(self, now: float) -> bool:
        """A delivered heartbeat has gone unheard, and so has everything else, for longer than
        HEARTBEAT_DEADLINE."""
        since = self._unheard_since
        return since is not None and now - max(since, self._last_message) > HEARTBEAT_DEADLINE
