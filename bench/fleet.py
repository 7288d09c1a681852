"""Phones and hosts in one process for the long-lived load patterns (bench/lifecycle.py): they
join, keep their tokens, drop their sockets and resume, answer the questions they see.

Built on bench/wsclient.py (a phone is one Protocol object, no task), so one process carries a
few thousand phones. Unlike bench/phones.py (which times every phase of a round) a fleet only
counts what the storm and the soak need: who is in, who resumed, answers acknowledged, errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from typing import Any

import msgpack

from . import wsclient


def pack(frame: dict[str, Any]) -> bytes:
    return msgpack.packb(frame, use_bin_type=True)


class Tally:
    """What a fleet saw, summed over its phones."""

    def __init__(self) -> None:
        self.errors: Counter[str] = Counter()
        self.closes: Counter[str] = Counter()
        self.acks = 0
        self.answers = 0
        self.frames = 0
        self.changed = asyncio.Event()

    def as_dict(self) -> dict[str, Any]:
        return {
            "errors": dict(self.errors),
            "closes": dict(self.closes),
            "answers": self.answers,
            "acks": self.acks,
            "frames": self.frames,
        }


class FleetPhone:
    def __init__(
        self, index: int, room: str, name: str, tally: Tally, rng: random.Random, answers: bool
    ) -> None:
        self.index, self.room, self.name = index, room, name
        self.tally, self.rng, self.answers = tally, rng, answers
        self.proto: wsclient.WsProtocol | None = None
        self.token = ""
        self.player = ""
        self.item = 0
        self.v = -1
        self.phase = ""
        self.question = -1
        self.answered: set[int] = set()  # questions of this round
        self.in_since = 0.0  # when the current socket had its welcome and first view
        self.welcomed = False
        self.generation = 0  # sockets this phone opened

    # ---- frames ---------------------------------------------------------------------------
    def on_frame(self, t: float, payload: bytes) -> None:
        tally = self.tally
        tally.frames += 1
        try:
            frame = msgpack.unpackb(payload, raw=False)
            kind = frame["type"]
        except Exception:
            tally.errors["undecodable"] += 1
            return
        if kind == "welcome":
            self.welcomed = True
            self.token = str(frame.get("token") or self.token)
            self.player = str(frame.get("player", self.player))
        elif kind == "view":
            v = int(frame.get("v", 0))
            if v < self.v:
                return
            self.v = v
            self.item = int(frame.get("item", 0))
            self.phase = str(frame.get("phase", ""))
            if self.welcomed and not self.in_since:
                self.in_since = t
                tally.changed.set()
            quiz = frame.get("question")
            if self.phase in ("lobby", "podium"):
                self.answered.clear()  # a restart plays the same questions again
            elif self.phase == "question" and isinstance(quiz, dict):
                self.question = int(quiz.get("index", -1))
                if self.answers and self.question not in self.answered:
                    self.answered.add(self.question)
                    delay = self.rng.uniform(0.2, 2.0)
                    asyncio.get_running_loop().call_later(delay, self._answer, self.question)
        elif kind == "ack":
            tally.acks += 1
        elif kind == "error":
            tally.errors[str(frame.get("code", "?"))] += 1
            tally.changed.set()

    def _answer(self, question: int) -> None:
        if self.proto is None or self.proto.closed or self.phase != "question":
            return
        if question != self.question:
            return
        choice = self.rng.randrange(4)
        data = {"question": question, "choice": choice}
        if self.proto.send(pack({"type": "input", "item": self.item, "data": data})):
            self.tally.answers += 1

    def on_close(self, reason: str) -> None:
        own = ("closed by client", "dropped")
        if self.proto is not None and self.proto.close_reason not in own:
            self.tally.closes[self.proto.close_reason[:60]] += 1
        self.tally.changed.set()

    # ---- sockets --------------------------------------------------------------------------
    async def open(self, port: int, limit_s: float = 30.0) -> bool:
        """A new socket and a hello: a join the first time, a resume with the token after."""
        self.in_since = 0.0
        self.welcomed = False
        self.v = -1
        self.generation += 1
        try:
            self.proto = await wsclient.connect(
                "127.0.0.1", port, "/ws", self.on_frame, self.on_close, limit_s
            )
        except (OSError, wsclient.HandshakeError, TimeoutError) as exc:
            self.tally.errors[f"connect: {type(exc).__name__}"] += 1
            self.tally.changed.set()
            return False
        hello: dict[str, Any] = {"type": "hello", "role": "phone", "room": self.room}
        if self.token:
            hello["token"] = self.token
        else:
            hello["name"] = self.name
        self.proto.send(pack(hello))
        return True

    def drop(self) -> None:
        """Cut the socket without a close frame, as a phone losing its network does."""
        if self.proto is not None and self.proto.transport is not None:
            self.proto.closed = True
            self.proto.close_reason = "dropped"
            self.proto.transport.abort()

    def leave(self) -> None:
        if self.proto is not None:
            self.proto.close()


class FleetHost:
    """The facilitator of one room."""

    def __init__(self, code: str, secret: str) -> None:
        self.code, self.secret = code, secret
        self.proto: wsclient.WsProtocol | None = None
        self.view: dict[str, Any] = {}
        self.errors: Counter[str] = Counter()
        self.done: Counter[str] = Counter()
        self.changed = asyncio.Event()

    def on_frame(self, t: float, payload: bytes) -> None:
        frame = msgpack.unpackb(payload, raw=False)
        kind = frame.get("type")
        if kind == "view":
            if frame.get("v", 0) >= self.view.get("v", -1):
                self.view = frame
        elif kind == "done":
            self.done[str(frame.get("action"))] += 1
        elif kind == "error":
            self.errors[str(frame.get("code"))] += 1
        self.changed.set()

    def on_close(self, reason: str) -> None:
        self.changed.set()

    async def open(self, port: int) -> None:
        self.view = {}
        self.proto = await wsclient.connect(
            "127.0.0.1", port, "/ws", self.on_frame, self.on_close, 30
        )
        self.proto.send(
            pack({"type": "hello", "role": "host", "room": self.code, "secret": self.secret})
        )
        await self.wait(lambda: bool(self.view), 30)

    def close(self) -> None:
        if self.proto is not None:
            self.proto.close()

    def control(self, action: str, **extra: Any) -> None:
        assert self.proto is not None
        self.proto.send(pack({"type": "control", "action": action, **extra}))

    @property
    def phase(self) -> str:
        return str(self.view.get("phase", ""))

    async def wait(self, predicate: Any, limit_s: float) -> bool:
        deadline = time.monotonic() + limit_s
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))
        return True


async def open_all(
    phones: list[FleetPhone], port: int, concurrency: int, jitter_s: float = 0.0
) -> None:
    """Open every phone's socket; `concurrency` at a time (0 = all at once), each after a
    random pause in [0, jitter_s)."""
    limit = asyncio.Semaphore(concurrency) if concurrency > 0 else None

    async def one(phone: FleetPhone) -> None:
        if jitter_s > 0:
            await asyncio.sleep(phone.rng.uniform(0, jitter_s))
        if limit is None:
            await phone.open(port)
            return
        async with limit:
            if await phone.open(port):
                await wait_until(phone.tally, lambda: bool(phone.in_since), 30)

    await asyncio.gather(*(one(p) for p in phones))


async def wait_until(tally: Tally, predicate: Any, limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while not predicate():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        tally.changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.changed.wait(), min(left, 0.5))
    return True
