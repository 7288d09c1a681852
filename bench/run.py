"""Coordinator of one run: rooms and hosts here, phones in worker processes, figures at the end.

The hosts live in this process and stamp every control frame with `time.time()` just before it is
written; the phones (bench/phones.py) stamp what they receive with the same clock. A phase ends
when every worker says all of its phones saw it (or a bounded timeout passes).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import httpx
import msgpack

from . import redisstats, wsclient
from .pair import Turns
from .phones import make_specs, pack, worker_entry
from .quiz import OPTION_COUNT, bench_quiz
from .servers import ServerProc, Usage, machine_busy_s
from .wsclient import socket_path


@dataclass
class RunConfig:
    phones: int = 200
    rooms: int = 1
    questions: int = 1
    procs: int = 1
    silent: int = 1  # phones per room that watch without answering
    think_min: float = 0.2
    think_max: float = 2.0
    join_concurrency: int = 100  # phones per worker joining at the same time
    connect_timeout: float = 30.0
    phase_timeout: float = 30.0
    seed: int = 1
    app_ping_s: float = 10.0  # a phone's own `ping` every this many seconds, as the page's
    phones_batch: bool = False  # the phone processes under SCHED_BATCH (`--phones-batch`)


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    """p50/p95/p99/max in milliseconds (nearest rank), from seconds."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000, 1)

    return {
        "n": len(ordered),
        "p50": rank(50),
        "p95": rank(95),
        "p99": rank(99),
        "max": round(ordered[-1] * 1000, 1),
    }


class Host:
    """One facilitator connection per room."""

    def __init__(self, code: str, secret: str) -> None:
        self.code, self.secret = code, secret
        self.proto: wsclient.WsProtocol | None = None
        self.welcome = asyncio.get_running_loop().create_future()
        self.sent: dict[str, dict[int, float]] = {"question": {}, "reveal": {}, "scoreboard": {}}
        self.distribution: dict[int, list[int]] = {}
        self.errors: list[str] = []
        self.closed = ""

    def on_frame(self, t: float, payload: bytes) -> None:
        frame = msgpack.unpackb(payload, raw=False)
        kind = frame.get("type")
        if kind == "welcome" and not self.welcome.done():
            self.welcome.set_result(None)
        elif kind == "view" and frame.get("phase") == "reveal":
            index = int(frame["question"]["index"])
            self.distribution[index] = list(frame.get("reveal", {}).get("distribution", []))
        elif kind == "error":
            self.errors.append(str(frame.get("code")))
            if not self.welcome.done():
                self.welcome.set_exception(RuntimeError(f"host hello refused: {frame}"))

    def on_close(self, reason: str) -> None:
        self.closed = reason
        if not self.welcome.done():
            self.welcome.set_exception(RuntimeError(f"host closed: {reason}"))

    async def open(self, port: int) -> None:
        self.proto = await wsclient.connect(
            "127.0.0.1", port, socket_path(self.code), self.on_frame, self.on_close
        )
        self.proto.send(
            pack({"type": "hello", "role": "host", "room": self.code, "secret": self.secret})
        )
        await asyncio.wait_for(self.welcome, 10)

    def control(
        self, action: str, phase: str, index: int, sizes: dict[str, int] | None = None
    ) -> None:
        """A control frame, stamped just before it is written. `sizes` (the baseline only):
        the byte sizes to pad the frames it sends from now on to."""
        assert self.proto is not None
        frame: dict[str, Any] = {"type": "control", "action": action}
        if sizes:
            frame["sizes"] = sizes
        data = pack(frame)
        self.sent[phase][index] = time.time()
        self.proto.send(data)

    def set_sizes(self, sizes: dict[str, int]) -> None:
        """Tell the baseline the frame sizes to use (see bench/pair.py); no effect otherwise."""
        assert self.proto is not None
        self.proto.send(pack({"type": "control", "action": "sizes", "sizes": sizes}))


@dataclass
class WorkerHandle:
    wid: int
    conn: Connection
    process: Any
    ready: bool = False
    joined: int = -1
    join_s: float = 0.0
    report: dict[str, Any] | None = None
    dead: bool = False
    done: set[tuple[str, int]] = field(default_factory=set)


class Coordinator:
    def __init__(
        self,
        server: ServerProc,
        cfg: RunConfig,
        log: Any = print,
        on_mark: Callable[[str], None] | None = None,
        turns: Turns | None = None,
        side: int = 0,
        sizes_from: Coordinator | None = None,
    ) -> None:
        self.server = server
        self.turns = turns or Turns()
        self.side = side
        self.sizes_from = sizes_from  # the run whose frame sizes this (baseline) run pads to
        self.sizes: dict[str, int] = {}  # the largest frame of each kind the phones saw so far
        self.on_mark = on_mark
        self.cfg = cfg
        self.log = log
        self.loop = asyncio.get_running_loop()
        self.workers: list[WorkerHandle] = []
        self.changed = asyncio.Event()
        self.hosts: list[Host] = []
        self.notes: list[str] = []
        self.marks: list[tuple[str, float, Usage]] = []
        self.redis_marks: dict[str, redisstats.Reading] = {}  # INFO commandstats cpu per mark
        self.connections: list[int] | None = None  # `affinity`: sockets per server once joined

    # ---- rooms --------------------------------------------------------------------------------
    async def create_rooms(self) -> list[tuple[str, str]]:
        if self.server.kind == "baseline":  # the baseline makes a room on its first hello
            return [(f"{900000 + i:06d}", "-") for i in range(self.cfg.rooms)]
        quiz = bench_quiz(self.cfg.questions)
        async with httpx.AsyncClient(base_url=self.server.base, timeout=30) as http:
            r = await http.post(
                "/api/quizzes",
                content=json.dumps(quiz).encode(),
                headers={"content-type": "application/json"},
            )
            if r.status_code != 201:
                raise RuntimeError(f"quiz upload refused: {r.status_code} {r.text[:500]}")
            quiz_id = r.json()["id"]
            rooms = []
            for _ in range(self.cfg.rooms):
                r = await http.post("/api/rooms", json={"quiz_id": quiz_id})
                if r.status_code != 201:
                    raise RuntimeError(f"room refused: {r.status_code} {r.text[:300]}")
                rooms.append((r.json()["code"], r.json()["host_secret"]))
        return rooms

    async def connections_per_server(self) -> list[int]:
        """The sockets each server holds (its /healthz), in the order of `server.ports`."""
        async with httpx.AsyncClient(timeout=10) as http:
            replies = await asyncio.gather(
                *(http.get(f"http://127.0.0.1:{port}/healthz") for port in self.server.ports)
            )
        return [int(r.json()["connections"]) for r in replies]

    # ---- workers ------------------------------------------------------------------------------
    def start_workers(self, rooms: list[str]) -> None:
        cfg = asdict(self.cfg)
        cfg["options"] = OPTION_COUNT
        specs = make_specs(cfg, rooms)
        ctx = multiprocessing.get_context("spawn")
        procs = max(1, min(self.cfg.procs, len(specs) or 1))
        max_run_s = (
            120
            + self.cfg.phones / 20
            + self.cfg.questions * (self.cfg.think_max + 4 * self.cfg.phase_timeout)
        )
        for wid in range(procs):
            mine = [asdict(s) for s in specs[wid::procs]]
            parent, child = ctx.Pipe()
            wcfg = {
                "host": "127.0.0.1",
                "room_ports": self.server.room_ports(rooms),
                "phones": mine,
                "join_concurrency": self.cfg.join_concurrency,
                "connect_timeout": self.cfg.connect_timeout,
                "app_ping_s": self.cfg.app_ping_s,
                "batch": self.cfg.phones_batch,
                "max_run_s": max_run_s,
            }
            process = ctx.Process(
                target=worker_entry, args=(child, wcfg), daemon=True, name=f"bench-phones-{wid}"
            )
            process.start()
            child.close()
            handle = WorkerHandle(wid, parent, process)
            self.workers.append(handle)
            # A blocking reader thread per pipe: the event loop's add_reader may switch the fd to
            # non-blocking (uvloop does), and then a large report arrives in broken pieces.
            threading.Thread(target=self._reader, args=(handle,), daemon=True).start()

    def _reader(self, w: WorkerHandle) -> None:
        while True:
            try:
                msg = w.conn.recv()
            except (EOFError, OSError):
                msg = None
            try:
                self.loop.call_soon_threadsafe(self._on_message, w, msg)
            except RuntimeError:  # the run is over and its loop closed
                return
            if msg is None:
                return

    def _on_message(self, w: WorkerHandle, msg: tuple[Any, ...] | None) -> None:
        if msg is None:
            w.dead = True
            if w.report is None:
                w.process.join(2)
                self.notes.append(
                    f"worker {w.wid} ended without a report (exit code {w.process.exitcode})"
                )
            self.changed.set()
            return
        kind = msg[0]
        if kind == "ready":
            w.ready = True
        elif kind == "joined":
            w.joined, w.join_s = msg[1], msg[2]
            self._seen_sizes(msg[3])
        elif kind == "done":
            w.done.add((msg[1], msg[2]))
            self._seen_sizes(msg[3])
        elif kind == "report":
            w.report = msg[1]
        self.changed.set()

    def _seen_sizes(self, sizes: dict[str, int]) -> None:
        for key, n in sizes.items():
            if n > self.sizes.get(key, 0):
                self.sizes[key] = n

    async def until(self, what: str, predicate: Any, limit_s: float) -> bool:
        deadline = time.monotonic() + limit_s
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                self.notes.append(f"timeout after {limit_s:.0f}s waiting for {what}")
                self.log(f"    ! timeout waiting for {what}")
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))
        return True

    def broadcast(self, msg: tuple[Any, ...]) -> None:
        for w in self.workers:
            if not w.dead:
                with contextlib.suppress(OSError):
                    w.conn.send(msg)

    def all_done(self, kind: str, index: int) -> bool:
        return all(w.dead or (kind, index) in w.done for w in self.workers)

    def mark(self, name: str) -> None:
        """Server CPU/RSS at a phase boundary; profilers hook in here (outside measured spans)."""
        self.marks.append((name, time.time(), self.server.usage()))
        if self.server.redis_stats:
            self.redis_marks[name] = redisstats.read_all(self.server.redis_stats)
        if self.on_mark is not None:
            self.on_mark(name)

    async def settle(self, max_s: float = 10.0) -> None:
        """Wait until the server's CPU is (nearly) idle: the join's fan-out has drained."""
        deadline = time.monotonic() + max_s
        last = self.server.usage().cpu_s
        quiet = 0
        while time.monotonic() < deadline and quiet < 2:
            await asyncio.sleep(0.25)
            now = self.server.usage().cpu_s
            quiet = quiet + 1 if now - last < 0.03 else 0
            last = now

    # ---- the run ------------------------------------------------------------------------------
    async def play(self) -> dict[str, Any]:
        """The whole run; its blocks (setup and join, each question, the end) wait for their
        turn when another run shares the machine (bench/pair.py)."""
        try:
            return await self._play()
        finally:
            await self.turns.finish(self.side)

    def _sizes(self) -> dict[str, int] | None:
        return dict(self.sizes_from.sizes) if self.sizes_from is not None else None

    async def _play(self) -> dict[str, Any]:
        cfg = self.cfg
        async with self.turns.turn(self.side, 0):
            self.mark("start")
            self.machine_start = (machine_busy_s(), os.getloadavg()[0], time.process_time())
            rooms = await self.create_rooms()
            self.hosts = [Host(code, secret) for code, secret in rooms]
            ports = self.server.room_ports([code for code, _ in rooms])
            await asyncio.gather(*(h.open(ports[h.code]) for h in self.hosts))
            sizes = self._sizes()
            if sizes:
                for h in self.hosts:
                    h.set_sizes(sizes)
            self.start_workers([code for code, _ in rooms])
            await self.until(
                "workers ready", lambda: all(w.ready or w.dead for w in self.workers), 60
            )
            await self.settle(3)
            self.mark("before_join")
            t_join = time.time()
            self.broadcast(("join",))
            join_timeout = cfg.connect_timeout * 2 + cfg.phones / 50
            await self.until(
                "join", lambda: all(w.joined >= 0 or w.dead for w in self.workers), join_timeout
            )
            join_total = time.time() - t_join
            self.mark("joined")
            if self.server.split:
                self.connections = await self.connections_per_server()
            await self.settle()
            self.mark("idle")
        for q in range(cfg.questions):
            async with self.turns.turn(self.side, q + 1):
                self._mark_turn(q)
                await self._question(q)
        async with self.turns.turn(self.side, cfg.questions + 1):
            self._mark_turn(cfg.questions)
            self.broadcast(("report",))
            await self.until(
                "reports", lambda: all(w.report is not None or w.dead for w in self.workers), 60
            )
            self.mark("end")
            self.machine_end = (machine_busy_s(), os.getloadavg()[0], time.process_time())
            export = await self.results_export(rooms)
            for h in self.hosts:
                if h.proto is not None:
                    h.proto.close()
            for w in self.workers:
                w.process.join(5)
                if w.process.is_alive():
                    w.process.kill()
                    w.process.join(5)
                w.conn.close()
        return self.figures(join_total, export)

    def _mark_turn(self, block: int) -> None:
        """In turn with another run: what the server did while the other one played (pings,
        timers) is its own phase, "turn", kept out of the total."""
        if self.turns.sides > 1:
            self.mark(f"q{block}_turn")

    async def _question(self, q: int) -> None:
        """Open question `q`, let the phones answer, close it, show the scoreboard."""
        cfg = self.cfg
        timeout = cfg.phase_timeout
        if self.turns.sides > 1:
            await self.settle(2)  # the other run just had its turn
        for h in self.hosts:
            h.control("start" if q == 0 else "next", "question", q, self._sizes())
        await self.until(f"question {q}", lambda: self.all_done("question", q), timeout)
        self.mark(f"q{q}_question")
        await self.until(f"answers {q}", lambda: self.all_done("ack", q), cfg.think_max + timeout)
        self.mark(f"q{q}_answers")
        await asyncio.sleep(0.1)  # the last answer's `me` and the host view settle
        self.mark(f"q{q}_before_close")
        if cfg.silent > 0:
            for h in self.hosts:
                h.control("close", "reveal", q, self._sizes())
        # else everyone answers and the server closes by itself; the reveal is timed from the
        # room's last ack (see figures)
        await self.until(f"reveal {q}", lambda: self.all_done("reveal", q), timeout)
        self.mark(f"q{q}_reveal")
        # A facilitator moves on once the reveal is on their own screen too (the phones may see
        # it first: Fanout.show_saved), and its distribution is what the loss check compares.
        await self.until(
            f"host reveal {q}", lambda: all(q in h.distribution for h in self.hosts), timeout
        )
        await asyncio.sleep(0.1)
        self.mark(f"q{q}_before_scoreboard")
        for h in self.hosts:
            h.control("scoreboard", "scoreboard", q, self._sizes())
        await self.until(f"scoreboard {q}", lambda: self.all_done("scoreboard", q), timeout)
        self.mark(f"q{q}_scoreboard")
        await asyncio.sleep(0.2)

    async def results_export(self, rooms: list[tuple[str, str]]) -> dict[str, Any] | None:
        """The facilitator's results.json per room (Kenniskring only): a second loss check."""
        if self.server.kind == "baseline":
            return None
        out: dict[str, Any] = {}
        async with httpx.AsyncClient(base_url=self.server.base, timeout=30) as http:
            for code, secret in rooms:
                r = await http.get(
                    f"/api/rooms/{code}/results.json", headers={"X-Host-Secret": secret}
                )
                out[code] = r.json() if r.status_code == 200 else {"status": r.status_code}
        return out

    # ---- figures ------------------------------------------------------------------------------
    def figures(self, join_total: float, export: dict[str, Any] | None) -> dict[str, Any]:
        cfg = self.cfg
        hosts = {h.code: h for h in self.hosts}
        phones = [p for w in self.workers if w.report for p in w.report["phones"]]
        if cfg.silent == 0:  # no host close: the reveal counts from the room's last ack
            for p in phones:
                reveal_at = hosts[p["room"]].sent["reveal"]
                for q, t in p["acked"].items():
                    reveal_at[int(q)] = max(reveal_at.get(int(q), 0.0), t)
        lat: dict[str, list[float]] = {
            "question": [],
            "ack": [],
            "reveal": [],
            "result": [],
            "scoreboard": [],
        }
        per_q: dict[str, list[list[float]]] = {k: [[] for _ in range(cfg.questions)] for k in lat}
        # Ack latencies by the whole second (since the host opened the question) the answer was
        # sent in: where in the answering the slow acks are.
        ack_by_second: dict[int, list[float]] = {}
        last_phone: dict[str, list[float]] = {"question": [], "reveal": [], "scoreboard": []}
        join_lat: list[float] = []
        missing = {"joined": 0, "question": 0, "reveal": 0, "scoreboard": 0}
        errors: list[str] = []
        acked_by: dict[tuple[str, int], list[int]] = {}
        acked_players: dict[tuple[str, int], dict[str, int]] = {}
        sent = acked = refused = 0
        for p in phones:
            if p["t_joined"]:
                join_lat.append(p["t_joined"] - p["t_connect"])
            else:
                missing["joined"] += 1
            errors += [f"phone: {e}" for e in p["errors"]]
            if p["closed"]:
                errors.append(f"phone closed: {p['closed']}")
            host = hosts[p["room"]]
            for q in range(cfg.questions):
                for phase in ("question", "reveal", "scoreboard"):
                    t = p["seen"][phase].get(str(q))
                    t0 = host.sent[phase].get(q)
                    if t is None or t0 is None:
                        missing[phase] += 1
                    else:
                        lat[phase].append(t - t0)
                        per_q[phase][q].append(t - t0)
                t = p["seen"].get("result", {}).get(str(q))
                t0 = host.sent["reveal"].get(q)
                if t is not None and t0 is not None:  # not required: a `me` may be unchanged
                    lat["result"].append(t - t0)
                    per_q["result"][q].append(t - t0)
                if str(q) in p["sent"]:
                    sent += 1
                    if str(q) in p["acked"]:
                        acked += 1
                        took = p["acked"][str(q)] - p["sent"][str(q)]
                        lat["ack"].append(took)
                        per_q["ack"][q].append(took)
                        opened = host.sent["question"].get(q)
                        if opened is not None:
                            second = max(0, int(p["sent"][str(q)] - opened))
                            ack_by_second.setdefault(second, []).append(took)
                        choice = p["choice"][q % len(p["choice"])]
                        acked_by.setdefault((p["room"], q), [0] * OPTION_COUNT)[choice] += 1
                        acked_players.setdefault((p["room"], q), {})[p["player"]] = choice
                    else:
                        refused += 1
        for phase in last_phone:  # per room and question: the last phone to get it
            worst: dict[tuple[str, int], float] = {}
            for p in phones:
                host = hosts[p["room"]]
                for q in range(cfg.questions):
                    t = p["seen"][phase].get(str(q))
                    t0 = host.sent[phase].get(q)
                    if t is not None and t0 is not None:
                        key = (p["room"], q)
                        worst[key] = max(worst.get(key, 0.0), t - t0)
            last_phone[phase] = list(worst.values())
        lost = phantom = 0
        for (room, q), expected in acked_by.items():
            got = hosts[room].distribution.get(q)
            if got is None:
                lost += sum(expected)
                continue
            lost += sum(max(0, e - g) for e, g in zip(expected, got, strict=False))
            phantom += sum(max(0, g - e) for e, g in zip(expected, got, strict=False))
        export_missing = self._export_missing(export, acked_players) if export else None
        for h in self.hosts:
            errors += [f"host: {e}" for e in h.errors]
            if h.closed and h.closed != "closed by client":
                errors.append(f"host closed: {h.closed}")
        for w in self.workers:
            if w.report:
                errors += [f"join: {f}" for f in w.report["join_failures"]]
        errors += self.notes
        usage = self._usage()
        frames: dict[str, int] = {}
        nbytes: dict[str, int] = {}
        sizes: dict[str, int] = {}
        gen_cpu = []
        for w in self.workers:
            if not w.report:
                continue
            gen_cpu.append(round(w.report["cpu_s"], 2))
            for k, v in w.report["frames"].items():
                frames[k] = frames.get(k, 0) + v
            for k, v in w.report["bytes"].items():
                nbytes[k] = nbytes.get(k, 0) + v
            for k, v in w.report["sizes"].items():
                sizes[k] = max(sizes.get(k, 0), v)
        n = max(1, len(phones))
        per_question = (
            "view_question",
            "ack",
            "me_answer",
            "view_reveal",
            "me_reveal",
            "view_scoreboard",
            "me_scoreboard",
        )
        idle_phone_kib = (usage["rss_kib_idle"] - usage["rss_kib_before_join"]) / n
        return {
            "server": self.server.kind,
            "backend": "redis"
            if self.server.redis_url
            else ("-" if self.server.kind == "baseline" else "memory"),
            "workers": self.server.workers,
            "affinity": self.server.split,
            "connections_per_server": self.connections,
            "phones": cfg.phones,
            "rooms": cfg.rooms,
            "questions": cfg.questions,
            "procs": len(self.workers),
            "config": asdict(cfg),
            "join": {"total_s": round(join_total, 2), **percentiles(join_lat)},
            "question": percentiles(lat["question"]),
            "question_last_phone": percentiles(last_phone["question"]),
            "ack": percentiles(lat["ack"]),
            "reveal": percentiles(lat["reveal"]),
            "reveal_last_phone": percentiles(last_phone["reveal"]),
            "result": percentiles(lat["result"]),
            "scoreboard": percentiles(lat["scoreboard"]),
            "scoreboard_last_phone": percentiles(last_phone["scoreboard"]),
            "p99_by_question": {k: [percentiles(v)["p99"] for v in qs] for k, qs in per_q.items()},
            "ack_by_second": {
                str(second): percentiles(values) for second, values in sorted(ack_by_second.items())
            },
            "answers": {
                "sent": sent,
                "acked": acked,
                "refused": refused,
                "lost": lost,
                "phantom": phantom,
                "export_missing": export_missing,
            },
            "missing": missing,
            "errors": {"count": len(errors), "samples": sorted(set(errors))[:20]},
            "server_usage": {
                **usage,
                "kib_per_idle_phone": round(idle_phone_kib, 1),
                "cpu_ms_per_phone": round(usage["cpu_s_total"] * 1000 / n, 2),
            },
            "generator": {
                "cpu_s": gen_cpu,
                "batch": [bool(w.report.get("batch")) for w in self.workers if w.report],
            },
            "machine": self._machine(usage, gen_cpu),
            "redis_commands": self._redis_commands(n, acked),
            "sizes": sizes,
            "frames_per_phone": {k: round(v / n, 2) for k, v in sorted(frames.items())},
            "bytes_per_phone_per_question": round(
                sum(nbytes.get(k, 0) for k in per_question) / n / max(1, cfg.questions)
            ),
        }

    def _redis_commands(self, phones: int, answers: int) -> dict[str, Any] | None:
        """What Redis ran and the CPU it spent per phase, summed over the questions, per phone
        joined, per answer acknowledged and per room and question for the host's steps
        (bench/redisstats.py)."""
        m = self.redis_marks
        if not m:
            return None
        spans: dict[str, tuple[list[tuple[str | None, str]], int]] = {  # (mark pairs, ops)
            "join": ([("before_join", "idle")], phones),
            "question": (
                [
                    (f"q{q}_turn" if f"q{q}_turn" in m else None, f"q{q}_question")
                    for q in range(self.cfg.questions)
                ],
                self.cfg.rooms * self.cfg.questions,
            ),
            "answers": (
                [(f"q{q}_question", f"q{q}_before_close") for q in range(self.cfg.questions)],
                answers,
            ),
            "reveal": (
                [(f"q{q}_before_close", f"q{q}_reveal") for q in range(self.cfg.questions)],
                self.cfg.rooms * self.cfg.questions,
            ),
            "scoreboard": (
                [
                    (f"q{q}_before_scoreboard", f"q{q}_scoreboard")
                    for q in range(self.cfg.questions)
                ],
                self.cfg.rooms * self.cfg.questions,
            ),
        }
        names = [name for name, _, _ in self.marks]
        out: dict[str, Any] = {}
        for phase, (pairs, ops) in spans.items():
            total = redisstats.EMPTY
            for a, b in pairs:
                if a is None:  # not in turn: the question starts where the last step ended
                    i = names.index(b)
                    a = names[i - 1] if i > 0 else None
                if a not in m or b not in m:
                    continue
                total = total.plus(m[b].minus(m[a]))
            out[phase] = redisstats.summary(total.commands, ops, total.cpu_s)
        return out

    def _machine(self, usage: dict[str, Any], gen_cpu: list[float]) -> dict[str, Any]:
        """Was the machine otherwise quiet? CPU used by everything but server and generator."""
        busy = self.machine_end[0] - self.machine_start[0]
        marks = {name: u for name, _, u in self.marks}
        server = marks["end"].cpu_s - marks["start"].cpu_s
        own = server + sum(gen_cpu) + self.machine_end[2] - self.machine_start[2]
        wall = self.marks[-1][1] - self.marks[0][1]
        return {
            "wall_s": round(wall, 1),
            "loadavg_start": round(self.machine_start[1], 2),
            "loadavg_end": round(self.machine_end[1], 2),
            "other_cpu_s": round(max(0.0, busy - own), 2),
        }

    def kill_workers(self) -> None:
        for w in self.workers:
            if w.process.is_alive():
                w.process.kill()

    def cpu_in_span(self, other: dict[str, Any]) -> float:
        """CPU this run's server and phones used; the partner run's `other_cpu_s` counted it."""
        marks = {name: u for name, _, u in self.marks}
        if "start" not in marks or "end" not in marks:
            return 0.0
        server = marks["end"].cpu_s - marks["start"].cpu_s
        phones = sum(float(w.report["cpu_s"]) for w in self.workers if w.report)
        return server + phones

    def _export_missing(
        self, export: dict[str, Any], acked: dict[tuple[str, int], dict[str, int]]
    ) -> int:
        """Ack'd answers that the results export does not show as answered with that option."""
        quiz = bench_quiz(self.cfg.questions)
        missing = 0
        for (room, q), players in acked.items():
            data = export.get(room, {})
            answers = {
                p["id"]: {a["question"]: a for a in p.get("answers", [])}
                for p in data.get("players", [])
            }
            options = [o["text"] for o in quiz["questions"][q]["options"]]
            for player, choice in players.items():
                row = answers.get(player, {}).get(q + 1)
                if (
                    row is None
                    or row.get("time_ms") is None
                    or row.get("answer") != options[choice]
                ):
                    missing += 1
        return missing

    def _usage(self) -> dict[str, Any]:
        marks = {name: (t, u) for name, t, u in self.marks}
        phases: dict[str, float] = {}
        preempted: dict[str, int] = {}
        names = [m[0] for m in self.marks]
        fold = {
            "before_close": "answers",
            "before_scoreboard": "reveal",
            "end": "disconnect",
            "before_join": "setup",
            "joined": "join",
            "idle": "settle",
        }
        for a, b in itertools.pairwise(names):
            key = b.split("_", 1)[1] if b.startswith("q") and "_" in b else b
            key = fold.get(key, key)
            phases[key] = round(phases.get(key, 0.0) + marks[b][1].cpu_s - marks[a][1].cpu_s, 3)
            taken = marks[b][1].preempted - marks[a][1].preempted
            preempted[key] = preempted.get(key, 0) + taken
        start, end = marks["start"][1], marks["end"][1]
        return {
            "cpu_s_total": round(
                end.cpu_s - marks["before_join"][1].cpu_s - phases.get("turn", 0.0), 3
            ),
            "cpu_s": phases,
            # times the server was taken off a CPU it wanted, per phase: a core shared with the
            # generator (see `--pin`)
            "preempted": preempted,
            "rss_kib_before_join": marks["before_join"][1].rss_kib,
            "rss_kib_idle": marks["idle"][1].rss_kib,
            "rss_kib_end": end.rss_kib,
            "rss_kib_start": start.rss_kib,
            "processes": end.processes,
        }


async def run_once(
    server: ServerProc,
    cfg: RunConfig,
    log: Any = print,
    on_mark: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    coordinator = Coordinator(server, cfg, log, on_mark)
    try:
        return await coordinator.play()
    finally:
        coordinator.kill_workers()


async def run_paired(
    servers: tuple[ServerProc, ServerProc],
    cfg: RunConfig,
    log: Any = print,
    on_mark: Callable[[str], None] | None = None,
    marked: int = 0,
) -> tuple[dict[str, Any] | BaseException, dict[str, Any] | BaseException]:
    """`servers[0]` and `servers[1]` in turn, block by block, `servers[0]` first in each turn
    (bench/pair.py): Kenniskring and the baseline, which pads its frames to the sizes
    Kenniskring's phones saw just before; or this checkout's Kenniskring and a candidate, in
    either order. `on_mark` hooks into the run of `servers[marked]` only. A failed run is
    returned as its exception."""
    if servers[0].kind == "baseline":
        raise ValueError("the baseline pads to the run before it in each turn: it goes second")
    turns = Turns(2)
    first = Coordinator(servers[0], cfg, log, on_mark if marked == 0 else None, turns, side=0)
    pads = first if servers[1].kind == "baseline" else None
    second = Coordinator(
        servers[1], cfg, log, on_mark if marked == 1 else None, turns, side=1, sizes_from=pads
    )
    try:
        results = await asyncio.gather(first.play(), second.play(), return_exceptions=True)
    finally:
        first.kill_workers()
        second.kill_workers()
    for side, (result, other) in enumerate(((results[0], second), (results[1], first))):
        if isinstance(result, dict):  # the partner's server and phones are not "other" work
            result["machine"]["other_cpu_s"] = round(
                max(0.0, result["machine"]["other_cpu_s"] - other.cpu_in_span(result)), 2
            )
            result["paired"] = True
            result["first_in_turn"] = side == 0
    return results[0], results[1]
