"""How much one client may take: token buckets per client address and per socket.

Every limit is a burst with a steady rate behind it, so a whole class behind one guest Wi-Fi NAT
joins in seconds while a script that keeps going is slowed to the steady rate. Buckets live in the
worker process (with N workers an address gets up to N times the figures; each worker still
protects itself). The client address is the one uvicorn reports, which behind a reverse proxy is
the real one from `X-Forwarded-For` when the proxy is trusted (`FORWARDED_ALLOW_IPS`,
docs/DEPLOYING.md).

`KENNISKRING_LIMITS` changes them: `join=400/40,room=20/0.1` (burst/per second), or `off`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

Clock = Callable[[], float]
RATE_NAMES = ("join", "room", "probe", "upload", "frame")


@dataclass(frozen=True)
class Rate:
    burst: float  # what may come at once
    per_s: float  # what may come steadily after that

    def __str__(self) -> str:
        return f"{self.burst:g}/{self.per_s:g}"


@dataclass(frozen=True)
class Limits:
    """Per client address unless said otherwise."""

    join: Rate = Rate(300, 30)  # new players joining a room
    room: Rate = Rate(20, 0.1)  # rooms created
    probe: Rate = Rate(30, 1)  # room codes asked for that do not exist
    upload: Rate = Rate(20, 0.2)  # quiz uploads
    frame: Rate = Rate(60, 20)  # websocket frames, per socket
    # A socket that keeps sending after it was told to slow down is closed (policy, 1008) once it
    # had this many frames refused in a row without the bucket refilling in between.
    frame_strikes: int = 100
    enabled: bool = True

    @classmethod
    def parse(cls, text: str) -> Limits:
        """`join=400/40,frame=60/20` over the defaults; `off` turns every limit off."""
        text = text.strip()
        if not text:
            return cls()
        if text.lower() in ("off", "0", "false", "no"):
            return cls(enabled=False)
        limits = cls()
        rates: dict[str, Rate] = {}
        for part in text.split(","):
            name, _, value = part.partition("=")
            name = name.strip()
            if name == "frame_strikes":
                limits = replace(limits, frame_strikes=int(value))
                continue
            if name not in RATE_NAMES:
                raise ValueError(f"KENNISKRING_LIMITS: unknown limit {name!r}")
            burst, _, per_s = value.partition("/")
            rates[name] = Rate(float(burst), float(per_s))
        return replace(
            limits,
            join=rates.get("join", limits.join),
            room=rates.get("room", limits.room),
            probe=rates.get("probe", limits.probe),
            upload=rates.get("upload", limits.upload),
            frame=rates.get("frame", limits.frame),
        )


@dataclass
class Bucket:
    tokens: float
    at: float

    def take(self, rate: Rate, now: float, cost: float = 1.0) -> bool:
        self.tokens = min(rate.burst, self.tokens + (now - self.at) * rate.per_s)
        self.at = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


@dataclass
class Buckets:
    """One bucket per key (a client address), at most `keep` of them: the least recently used
    goes first, so a flood of addresses cannot grow memory without bound."""

    rate: Rate
    clock: Clock = time.monotonic
    keep: int = 50_000
    _buckets: OrderedDict[str, Bucket] = field(default_factory=OrderedDict)

    def allow(self, key: str, cost: float = 1.0) -> bool:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = Bucket(self.rate.burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.keep:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(self.rate, now, cost)

    def blocked(self, key: str) -> bool:
        """True while `key` has no token left (nothing is taken)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return False
        refilled = bucket.tokens + (self.clock() - bucket.at) * self.rate.per_s
        return refilled < 1.0

    def __len__(self) -> int:
        return len(self._buckets)


class Limiter:
    """The address limits of one worker."""

    def __init__(self, limits: Limits, clock: Clock = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._per_address = {
            name: Buckets(getattr(limits, name), clock)
            for name in ("join", "room", "probe", "upload")
        }

    def allow(self, kind: str, address: str) -> bool:
        """May `address` do one more `kind` (join, room, probe, upload) now?"""
        if not self.limits.enabled:
            return True
        return self._per_address[kind].allow(address)

    def blocked(self, kind: str, address: str) -> bool:
        """Is `address` out of `kind` for now? (Nothing is taken.)"""
        return self.limits.enabled and self._per_address[kind].blocked(address)

    def socket(self) -> SocketLimit:
        return SocketLimit(self.limits, self.clock)


class SocketLimit:
    """Frames of one websocket. `check()` per frame: OK; TELL (refused, and the client is told
    once, when throttling starts); DROP (refused quietly); CLOSE (it kept going: `frame_strikes`
    refused frames since throttling started). Throttling ends when the bucket is half full
    again."""

    OK, TELL, DROP, CLOSE = "ok", "tell", "drop", "close"

    def __init__(self, limits: Limits, clock: Clock) -> None:
        self.limits = limits
        self.clock = clock
        self.bucket = Bucket(limits.frame.burst, clock())
        self.throttled = False
        self.strikes = 0

    def check(self) -> str:
        if not self.limits.enabled:
            return self.OK
        if self.bucket.take(self.limits.frame, self.clock()):
            if self.throttled and self.bucket.tokens >= self.limits.frame.burst / 2:
                self.throttled, self.strikes = False, 0
            return self.OK
        self.strikes += 1
        if self.strikes >= self.limits.frame_strikes:
            return self.CLOSE
        if not self.throttled:
            self.throttled = True
            return self.TELL
        return self.DROP
