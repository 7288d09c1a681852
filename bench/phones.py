"""Generator worker process: many phones in one event loop, reporting to the coordinator.

A worker gets its share of the phones, joins them when told to, and then only reacts: a question
view makes an answering phone answer after its think time; acks, reveals and scoreboards are
stamped with `time.time()` (the clock every generator process shares on one machine). When all of
its phones have seen something, it tells the coordinator, which drives the hosts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import msgpack

from . import wsclient
from .servers import raise_nofile
from .wsclient import socket_path

Event = tuple[str, int]  # (kind, question index)


def pack(frame: dict[str, Any]) -> bytes:
    return msgpack.packb(frame, use_bin_type=True)


APP_PING = pack({"type": "ping"})


@dataclass
class PhoneSpec:
    index: int  # global phone number
    room: str
    silent: bool  # joins and watches, never answers
    think: list[float]  # seconds per question
    choice: list[int]  # option per question


@dataclass
class Phone:
    spec: PhoneSpec
    worker: Worker
    proto: wsclient.WsProtocol | None = None
    player: str = ""
    v: int = -1
    phase: str = ""
    current: int = -1
    t_connect: float = 0.0
    t_welcome: float = 0.0
    t_joined: float = 0.0
    seen: dict[str, dict[int, float]] = field(
        default_factory=lambda: {"question": {}, "reveal": {}, "scoreboard": {}, "result": {}}
    )
    sent: dict[int, float] = field(default_factory=dict)
    acked: dict[int, float] = field(default_factory=dict)
    refused: dict[int, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    closed: str = ""
    join_waiter: asyncio.Future[None] | None = None

    def _join_done(self) -> None:
        if self.join_waiter is not None and not self.join_waiter.done():
            self.join_waiter.set_result(None)

    def on_frame(self, t: float, payload: bytes) -> None:
        w = self.worker
        try:
            frame = msgpack.unpackb(payload, raw=False)
            kind = frame["type"]
        except Exception:
            self.errors.append("undecodable frame")
            return
        if kind == "view":
            phase = frame.get("phase", "")
            w.size(f"view_{phase}", len(payload))
            if frame.get("v", 0) < self.v:
                return  # an older snapshot than the one shown: ignore, as the clients do
            self.v = frame.get("v", 0)
            self.phase = phase
            if not self.t_joined and self.t_welcome:
                self.t_joined = t
                w.joined_one()
                self._join_done()
            if phase in ("question", "reveal"):
                index = int(frame["question"]["index"])
                self.current = index
                if index not in self.seen[phase]:
                    self.seen[phase][index] = t
                    w.count(phase, index)
                    if phase == "question" and not self.spec.silent:
                        w.loop.call_later(
                            self.spec.think[index % len(self.spec.think)], self.answer, index
                        )
            elif phase == "scoreboard" and self.current not in self.seen["scoreboard"]:
                self.seen["scoreboard"][self.current] = t
                w.count("scoreboard", self.current)
        elif kind == "me":
            if self.phase == "reveal" and self.current not in self.seen["result"]:
                self.seen["result"][self.current] = t  # the phone's own result after the close
            w.size("me_answer" if self.phase == "question" else f"me_{self.phase}", len(payload))
        elif kind == "ack":
            w.size("ack", len(payload))
            index = int(frame.get("question", -1))
            if index in self.sent and index not in self.acked and index not in self.refused:
                self.acked[index] = t
                w.count("ack", index)
            else:
                self.errors.append(f"unexpected ack {index}")
        elif kind == "welcome":
            w.size("welcome", len(payload))
            self.player = str(frame.get("player", ""))
            if not self.t_welcome and w.app_ping_s > 0:
                w.loop.call_later(w.app_ping_s, self.app_ping)
            self.t_welcome = t
        elif kind == "error":
            code = str(frame.get("code", "?"))
            self.errors.append(code)
            if not self.t_joined:
                self._join_done()
            if frame.get("ref") == "input" and self.current in self.sent:
                index = self.current
                if index not in self.acked and index not in self.refused:
                    self.refused[index] = code
                    w.count("ack", index)
        elif kind != "pong":
            w.size(f"other_{kind}", len(payload))

    def answer(self, index: int) -> None:
        if self.proto is None or self.proto.closed or index in self.sent:
            return
        choice = self.spec.choice[index % len(self.spec.choice)]
        self.sent[index] = time.time()
        data = {"question": index, "choice": choice}
        self.proto.send(pack({"type": "input", "item": 0, "data": data}))

    def app_ping(self) -> None:
        """The page's own `ping` every 10 s after its welcome (client_static/js/connection.js),
        answered with a `pong`."""
        w = self.worker
        if w.stopping or self.proto is None or self.proto.closed:
            return
        self.proto.send(APP_PING)
        w.frames["app_ping_sent"] = w.frames.get("app_ping_sent", 0) + 1
        w.loop.call_later(w.app_ping_s, self.app_ping)

    def on_close(self, reason: str) -> None:
        self.closed = reason or "closed"
        self._join_done()
        self.worker.phone_lost(self)


class Worker:
    def __init__(self, conn: Connection, cfg: dict[str, Any]) -> None:
        self.conn = conn
        self.cfg = cfg
        self.loop = asyncio.get_running_loop()
        self.phones = [Phone(PhoneSpec(**s), self) for s in cfg["phones"]]
        self.answering = sum(1 for p in self.phones if not p.spec.silent)
        self.counts: dict[Event, int] = {}
        self.reported: set[Event] = set()
        self.sizes: dict[str, int] = {}
        self.frames: dict[str, int] = {}
        self.bytes: dict[str, int] = {}
        self.joined = 0
        self.lost = 0
        self._lost: set[int] = set()
        self.stopping = False
        self.app_ping_s = float(cfg.get("app_ping_s", 0.0))
        self.join_failures: list[str] = []
        self.commands: asyncio.Queue[Any] = asyncio.Queue()

    # ---- bookkeeping called from phones ------------------------------------------------------
    def size(self, key: str, n: int) -> None:
        if n > self.sizes.get(key, 0):
            self.sizes[key] = n
        self.frames[key] = self.frames.get(key, 0) + 1
        self.bytes[key] = self.bytes.get(key, 0) + n

    def expected(self, kind: str) -> int:
        return self.answering if kind == "ack" else len(self.phones)

    def count(self, kind: str, index: int) -> None:
        key = (kind, index)
        self.counts[key] = self.counts.get(key, 0) + 1
        self._check(key)

    def _check(self, key: Event) -> None:
        if key in self.reported:
            return
        if self.counts.get(key, 0) + self.lost >= self.expected(key[0]):
            self.reported.add(key)
            # The sizes seen so far ride along: a baseline played in turn with this run pads its
            # next frames to them (bench/pair.py).
            self.conn.send(("done", key[0], key[1], dict(self.sizes)))

    def joined_one(self) -> None:
        self.joined += 1

    def phone_lost(self, phone: Phone) -> None:
        if self.stopping or phone.spec.index in self._lost:
            return
        self._lost.add(phone.spec.index)
        self.lost += 1
        for key in list(self.counts):
            self._check(key)

    # ---- phases --------------------------------------------------------------------------------
    async def join(self) -> None:
        host, ports = self.cfg["host"], self.cfg["room_ports"]
        limit = asyncio.Semaphore(self.cfg["join_concurrency"])
        timeout = self.cfg["connect_timeout"]

        async def one(phone: Phone) -> None:
            async with limit:
                phone.t_connect = time.time()
                phone.join_waiter = self.loop.create_future()
                try:
                    phone.proto = await wsclient.connect(
                        host,
                        ports[phone.spec.room],
                        socket_path(phone.spec.room),
                        phone.on_frame,
                        phone.on_close,
                        timeout,
                    )
                except (OSError, wsclient.HandshakeError, TimeoutError) as exc:
                    phone.closed = f"connect: {exc!r}"[:200]
                    self.join_failures.append(phone.closed)
                    self.phone_lost(phone)
                    return
                phone.proto.send(
                    pack(
                        {
                            "type": "hello",
                            "role": "phone",
                            "room": phone.spec.room,
                            "name": f"Speler {phone.spec.index + 1}",
                        }
                    )
                )
                # Hold the slot until the welcome + first view came back: a real join.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(phone.join_waiter, timeout)
                if not phone.t_joined:
                    self.join_failures.append(phone.closed or f"no view: {phone.errors[-3:]}")

        await asyncio.gather(*(one(p) for p in self.phones))

    def report(self) -> dict[str, Any]:
        phones = []
        for p in self.phones:
            phones.append(
                {
                    "index": p.spec.index,
                    "room": p.spec.room,
                    "silent": p.spec.silent,
                    "player": p.player,
                    "choice": p.spec.choice,
                    "t_connect": p.t_connect,
                    "t_welcome": p.t_welcome,
                    "t_joined": p.t_joined,
                    "seen": {k: {str(i): t for i, t in v.items()} for k, v in p.seen.items()},
                    "sent": {str(i): t for i, t in p.sent.items()},
                    "acked": {str(i): t for i, t in p.acked.items()},
                    "refused": {str(i): c for i, c in p.refused.items()},
                    "errors": p.errors,
                    "closed": p.closed,
                }
            )
        pings = sum(p.proto.pings for p in self.phones if p.proto is not None)
        self.frames["ws_ping_received"] = pings  # the server's websocket pings
        usage = time.process_time()
        return {
            "phones": phones,
            "sizes": self.sizes,
            "frames": self.frames,
            "bytes": self.bytes,
            "cpu_s": usage,
            "batch": os.sched_getscheduler(0) == os.SCHED_BATCH,  # see `--phones-batch`
            "join_failures": self.join_failures[:20],
        }

    async def run(self) -> None:
        threading.Thread(target=self._read_commands, daemon=True).start()
        self.conn.send(("ready",))
        while True:
            command = await asyncio.wait_for(self.commands.get(), self.cfg["max_run_s"])
            if command[0] == "join":
                t0 = time.time()
                await self.join()
                self.conn.send(("joined", self.joined, time.time() - t0, dict(self.sizes)))
            elif command[0] == "report":
                self.stopping = True
                data = self.report()
                for p in self.phones:
                    if p.proto is not None:
                        p.proto.close()
                await asyncio.sleep(0.2)
                self.conn.send(("report", data))
                return

    def _read_commands(self) -> None:
        """Blocking reads in a thread (see bench/run.py: no add_reader on the pipe)."""
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):  # the coordinator went away
                msg = ("report",)
            try:
                self.loop.call_soon_threadsafe(self.commands.put_nowait, msg)
            except RuntimeError:  # the loop has finished
                return
            if msg[0] == "report":
                return


def make_specs(cfg: dict[str, Any], rooms: list[str]) -> list[PhoneSpec]:
    """Phone k sits in room k mod M; the first `silent` phones of a room only watch."""
    rng = random.Random(cfg["seed"])
    specs = []
    per_room: dict[str, int] = {}
    for k in range(cfg["phones"]):
        room = rooms[k % len(rooms)]
        n = per_room.get(room, 0)
        per_room[room] = n + 1
        specs.append(
            PhoneSpec(
                index=k,
                room=room,
                silent=n < cfg["silent"],
                think=[
                    rng.uniform(cfg["think_min"], cfg["think_max"]) for _ in range(cfg["questions"])
                ],
                choice=[rng.randrange(cfg["options"]) for _ in range(cfg["questions"])],
            )
        )
    return specs


def worker_entry(conn: Connection, cfg: dict[str, Any]) -> None:
    """Process entry point (multiprocessing spawn)."""
    raise_nofile()
    if cfg.get("batch"):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))

    async def main() -> None:
        await Worker(conn, cfg).run()

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
    conn.close()
    sys.exit(0)
