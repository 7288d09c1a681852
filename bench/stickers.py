"""The sticker storm: N phones in one dotvote room each place and move their stickers over a few
seconds, against a real server (one worker, or several on Redis).

    python -m bench.stickers --phones 2000                       # one worker, memory backend
    python -m bench.stickers --phones 2000 --workers 2 --redis-url auto

Each phone places its 6 stickers and then moves them one at a time (`--moves`), at random moments
spread over `--duration` seconds; a phone sends its next placement once the previous one is
acknowledged (as the page does: a tap sends the whole placement). Measured: every placement's
ack latency (send → ack, one clock: all processes run on this machine), how often the projector
got a view while the storm ran (its counters are coalesced), and whether the final counts (the
projector's totals, the ranking after `close_voting`, the export) equal the sum of every phone's
last acknowledged placement — nothing lost or doubled. The figures go to a JSON record.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import random
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import msgpack

from . import wsclient
from .servers import (
    ROOT,
    ServerProc,
    describe_machine,
    git_revision,
    machine_busy_s,
    raise_nofile,
    split_cpus,
    throwaway_redis,
)


@dataclass
class StormConfig:
    phones: int = 2000
    procs: int = 2  # generator processes
    duration: float = 10.0  # seconds over which each phone's taps are spread
    cards: int = 12
    stickers: int = 6
    moves: int = 6  # moves after the stickers are placed
    join_concurrency: int = 100
    connect_timeout: float = 30.0
    seed: int = 1


def pack(frame: dict[str, Any]) -> bytes:
    return msgpack.packb(frame, use_bin_type=True)


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


# ---- the phones (in generator processes) ---------------------------------------------------------


@dataclass
class StormPhone:
    index: int
    worker: StormWorker
    rng: random.Random
    proto: wsclient.WsProtocol | None = None
    joined: asyncio.Future[None] | None = None
    final: dict[str, int] = field(default_factory=dict)  # the last acknowledged placement
    todo: list[str] = field(default_factory=list)  # "place" / "move", due taps not yet sent
    sent_at: float = 0.0  # the placement in flight (0: none)
    latencies: list[float] = field(default_factory=list)
    refused: int = 0
    errors: list[str] = field(default_factory=list)
    views: int = 0
    mes: int = 0
    finished: bool = False
    planned: int = 0

    def on_frame(self, t: float, payload: bytes) -> None:
        frame = msgpack.unpackb(payload, raw=False)
        kind = frame.get("type")
        if kind == "view":
            self.views += 1
            if self.joined is not None and not self.joined.done():
                self.joined.set_result(None)
        elif kind == "me":
            self.mes += 1
        elif kind == "ack":
            self.latencies.append(t - self.sent_at)
            self.final = dict(frame.get("stickers", {}))
            self.sent_at = 0.0
            self._next()
        elif kind == "error":
            self.errors.append(str(frame.get("code")))
            if frame.get("ref") == "input" and self.sent_at:
                self.refused += 1
                self.sent_at = 0.0
                self._next()
            elif self.joined is not None and not self.joined.done():
                self.joined.set_result(None)

    def on_close(self, reason: str) -> None:
        if not self.finished:
            self.errors.append(f"closed: {reason}"[:100])
        if self.joined is not None and not self.joined.done():
            self.joined.set_result(None)

    def tap(self, action: str) -> None:
        """A tap is due: send it now, or after the placement in flight is acknowledged."""
        self.todo.append(action)
        if not self.sent_at:
            self._next()

    def _next(self) -> None:
        if not self.todo:
            if len(self.latencies) + self.refused >= self.planned:
                self.worker.phone_done(self)
            return
        action = self.todo.pop(0)
        cards = self.worker.card_ids
        placement = dict(self.final)
        placed = sum(placement.values())
        if action == "place" or not placed:
            if placed >= self.worker.cfg["stickers"]:
                action = "move"
            else:
                card = self.rng.choice(cards)
                placement[card] = placement.get(card, 0) + 1
        if action == "move" and placed:
            src = self.rng.choice(sorted(placement))
            placement[src] -= 1
            dst = self.rng.choice(cards)
            placement[dst] = placement.get(dst, 0) + 1
        if self.proto is None or self.proto.closed:
            return
        self.sent_at = time.time()
        frame = {"type": "input", "item": 0, "data": {"stickers": placement}}
        self.proto.send(pack(frame))


class StormWorker:
    def __init__(self, conn: Connection, cfg: dict[str, Any]) -> None:
        self.conn = conn
        self.cfg = cfg
        self.loop = asyncio.get_running_loop()
        self.card_ids: list[str] = cfg["card_ids"]
        self.phones = [
            StormPhone(i, self, random.Random(cfg["seed"] * 100_003 + i)) for i in cfg["indices"]
        ]
        self.commands: asyncio.Queue[Any] = asyncio.Queue()
        self.done = 0
        self.all_done = asyncio.Event()

    def phone_done(self, phone: StormPhone) -> None:
        if not phone.finished:
            phone.finished = True
            self.done += 1
            if self.done >= len(self.phones):
                self.all_done.set()

    async def join(self) -> int:
        limit = asyncio.Semaphore(self.cfg["join_concurrency"])

        async def one(phone: StormPhone) -> None:
            async with limit:
                phone.joined = self.loop.create_future()
                try:
                    phone.proto = await wsclient.connect(
                        "127.0.0.1",
                        self.cfg["port"],
                        "/ws",
                        phone.on_frame,
                        phone.on_close,
                        self.cfg["connect_timeout"],
                    )
                except (OSError, wsclient.HandshakeError, TimeoutError) as exc:
                    phone.errors.append(f"connect: {exc!r}"[:100])
                    return
                hello = {
                    "type": "hello",
                    "role": "phone",
                    "room": self.cfg["room"],
                    "name": f"Plakker {phone.index + 1}",
                }
                phone.proto.send(pack(hello))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(phone.joined, self.cfg["connect_timeout"])

        await asyncio.gather(*(one(p) for p in self.phones))
        return sum(1 for p in self.phones if p.views)

    def go(self, t0: float) -> None:
        """Plan every phone's taps: its stickers placed, then moved, at random moments."""
        duration = self.cfg["duration"]
        taps = ["place"] * self.cfg["stickers"] + ["move"] * self.cfg["moves"]
        for phone in self.phones:
            if phone.proto is None or phone.proto.closed:
                self.phone_done(phone)
                continue
            moments = sorted(phone.rng.uniform(0, duration) for _ in taps)
            phone.planned = len(taps)
            for moment, action in zip(moments, taps, strict=True):
                delay = max(0.0, t0 + moment - time.time())
                self.loop.call_later(delay, phone.tap, action)

    def report(self) -> dict[str, Any]:
        latencies = [x for p in self.phones for x in p.latencies]
        errors: dict[str, int] = {}
        for p in self.phones:
            for e in p.errors:
                errors[e] = errors.get(e, 0) + 1
        return {
            "latencies": latencies,
            "finals": {str(p.index): p.final for p in self.phones},
            "refused": sum(p.refused for p in self.phones),
            "errors": errors,
            "views": sum(p.views for p in self.phones),
            "mes": sum(p.mes for p in self.phones),
            "unfinished": sum(1 for p in self.phones if not p.finished),
            "cpu_s": time.process_time(),
        }

    async def run(self) -> None:
        threading.Thread(target=self._read_commands, daemon=True).start()
        self.conn.send(("ready",))
        while True:
            command = await self.commands.get()
            if command[0] == "join":
                self.conn.send(("joined", await self.join()))
            elif command[0] == "go":
                self.go(command[1])
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.all_done.wait(), command[2])
                self.conn.send(("stormed",))
            elif command[0] == "report":
                data = self.report()
                for p in self.phones:
                    p.finished = True
                    if p.proto is not None:
                        p.proto.close()
                await asyncio.sleep(0.2)
                self.conn.send(("report", data))
                return

    def _read_commands(self) -> None:
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                msg = ("report",)
            try:
                self.loop.call_soon_threadsafe(self.commands.put_nowait, msg)
            except RuntimeError:
                return
            if msg[0] == "report":
                return


def worker_entry(conn: Connection, cfg: dict[str, Any]) -> None:
    raise_nofile()

    async def main() -> None:
        await StormWorker(conn, cfg).run()

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
    conn.close()
    sys.exit(0)


# ---- the coordinator -----------------------------------------------------------------------------


class Watcher:
    """The projector (or the host): every view with its arrival time."""

    def __init__(self) -> None:
        self.views: list[tuple[float, dict[str, Any]]] = []
        self.other: list[dict[str, Any]] = []
        self.proto: wsclient.WsProtocol | None = None
        self.changed = asyncio.Event()

    def on_frame(self, t: float, payload: bytes) -> None:
        frame = msgpack.unpackb(payload, raw=False)
        if frame.get("type") == "view":
            self.views.append((t, frame))
        else:
            self.other.append(frame)
        self.changed.set()

    def on_close(self, reason: str) -> None:
        self.changed.set()

    async def wait(self, predicate: Any, limit_s: float) -> bool:
        deadline = time.monotonic() + limit_s
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))
        return True


async def _watcher(port: int, hello: dict[str, Any]) -> Watcher:
    watcher = Watcher()
    watcher.proto = await wsclient.connect(
        "127.0.0.1", port, "/ws", watcher.on_frame, watcher.on_close, 30
    )
    watcher.proto.send(pack(hello))
    return watcher


def _loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def _max_per_second(times: list[float]) -> int:
    """The most views in any one-second window."""
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] > 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def storm(server: ServerProc, cfg: StormConfig, log: Any = print) -> dict[str, Any]:
    card_ids = [f"c{i + 1}" for i in range(cfg.cards)]
    cards = [{"domain": "inkomen", "onderwerp": f"Thema {i + 1}"} for i in range(cfg.cards)]
    content = {"cards": cards, "stickers": cfg.stickers, "show_totals": True}
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
        r = await http.post(
            "/api/rooms", json={"programme": [{"kind": "dotvote", "content": content}]}
        )
        r.raise_for_status()
        code, secret = r.json()["code"], r.json()["host_secret"]
    host = await _watcher(
        server.port, {"type": "hello", "role": "host", "room": code, "secret": secret}
    )
    screen = await _watcher(server.port, {"type": "hello", "role": "screen", "room": code})

    def control(action: str, **args: Any) -> None:
        assert host.proto is not None
        host.proto.send(pack({"type": "control", "action": action, **args}))

    def done_count(action: str) -> int:
        return sum(1 for f in host.other if f.get("type") == "done" and f.get("action") == action)

    control("open_voting")
    await host.wait(lambda: done_count("open_voting") == 1, 10)

    # generator processes
    ctx = multiprocessing.get_context("spawn")
    messages: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    workers: list[tuple[Connection, Any]] = []
    for wid in range(cfg.procs):
        parent, child = ctx.Pipe()
        wcfg = {
            **asdict(cfg),
            "port": server.port,
            "room": code,
            "card_ids": card_ids,
            "indices": list(range(wid, cfg.phones, cfg.procs)),
        }
        process = ctx.Process(target=worker_entry, args=(child, wcfg), daemon=True)
        process.start()
        child.close()
        workers.append((parent, process))

        def read(conn: Connection = parent, wid: int = wid) -> None:
            while True:
                try:
                    msg = conn.recv()
                except (EOFError, OSError):
                    msg = None
                loop.call_soon_threadsafe(messages.put_nowait, (wid, msg))
                if msg is None or msg[0] == "report":
                    return

        threading.Thread(target=read, daemon=True).start()

    async def collect(kind: str, limit_s: float) -> dict[int, Any]:
        got: dict[int, Any] = {}
        deadline = time.monotonic() + limit_s
        while len(got) < len(workers):
            try:
                wid, msg = await asyncio.wait_for(
                    messages.get(), max(0.1, deadline - time.monotonic())
                )
            except TimeoutError:
                break
            if msg is not None and msg[0] == kind:
                got[wid] = msg
        return got

    await collect("ready", 60)
    t_join = time.monotonic()
    for conn, _ in workers:
        conn.send(("join",))
    joined = sum(m[1] for m in (await collect("joined", 60 + cfg.phones / 20)).values())
    join_s = time.monotonic() - t_join
    log(f"  {joined}/{cfg.phones} phones joined in {join_s:.1f}s")
    await asyncio.sleep(1.0)  # the join's fan-out drains

    usage_before = server.usage()
    busy_before = machine_busy_s()
    t0 = time.time() + 1.0
    limit = cfg.duration + 60
    for conn, _ in workers:
        conn.send(("go", t0, limit))
    await collect("stormed", limit + 5)
    t_end = time.time()
    usage_after = server.usage()
    busy = machine_busy_s() - busy_before
    for conn, _ in workers:
        conn.send(("report",))
    reports = [m[1] for m in (await collect("report", 60)).values()]
    for _, process in workers:
        process.join(5)

    finals: dict[str, dict[str, int]] = {}
    for rep in reports:
        finals.update(rep["finals"])
    expected = {c: sum(f.get(c, 0) for f in finals.values()) for c in card_ids}
    placed = sum(expected.values())
    # the projector shows the totals once the last render after the storm is out
    shown_ok = await screen.wait(
        lambda: bool(screen.views) and screen.views[-1][1].get("totals") == expected, 10
    )
    storm_views = [t for t, v in screen.views if t0 <= t <= t_end]
    control("close_voting")
    await host.wait(lambda: done_count("close_voting") == 1, 20)
    await screen.wait(lambda: screen.views[-1][1].get("phase") == "result", 20)
    ranking = {r["card_id"]: r["stickers"] for r in screen.views[-1][1].get("ranking", [])}
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as http:
        r = await http.get(f"/api/rooms/{code}/results.json", headers={"X-Host-Secret": secret})
        exported = {row["card_id"]: row["stickers"] for row in r.json()["ranking"]}
    for watcher in (host, screen):
        if watcher.proto is not None:
            watcher.proto.close()

    latencies = [x for rep in reports for x in rep["latencies"]]
    errors: dict[str, int] = {}
    for rep in reports:
        for k, n in rep["errors"].items():
            errors[k] = errors.get(k, 0) + n
    storm_s = max(1e-9, t_end - t0)
    return {
        "config": asdict(cfg),
        "server": {"workers": server.workers, "backend": "redis" if server.redis_url else "memory"},
        "joined": joined,
        "join_s": round(join_s, 2),
        "storm_s": round(storm_s, 2),
        "acks": percentiles(latencies),
        "inputs_per_s": round(len(latencies) / storm_s, 1),
        "refused": sum(rep["refused"] for rep in reports),
        "unfinished": sum(rep["unfinished"] for rep in reports),
        "errors": errors,
        "phone_views": sum(rep["views"] for rep in reports) - joined,  # beyond the first view
        "phone_mes": sum(rep["mes"] for rep in reports),
        "projector": {
            "views": len(storm_views),
            "per_s": round(len(storm_views) / storm_s, 2),
            "max_in_1s": _max_per_second(storm_views),
        },
        "counts": {
            "placed": placed,
            "projector_exact": shown_ok,
            "ranking_exact": ranking == expected,
            "export_exact": exported == expected,
        },
        "server_cpu_s": round(usage_after.cpu_s - usage_before.cpu_s, 2),
        "server_preempted": usage_after.preempted - usage_before.preempted,
        "generator_cpu_s": [round(rep["cpu_s"], 2) for rep in reports],
        # CPU seconds all processes of the machine used during the storm (other work included)
        "machine_busy_s": round(busy, 2),
        "machine_load": _loadavg(),
        "server_rss_mib": round(usage_after.rss_kib / 1024, 1),
    }


def ok(result: dict[str, Any]) -> bool:
    counts = result["counts"]
    return bool(
        result["joined"] == result["config"]["phones"]
        and counts["projector_exact"]
        and counts["ranking_exact"]
        and counts["export_exact"]
        and not result["unfinished"]
    )


def summary(result: dict[str, Any]) -> str:
    acks, proj = result["acks"], result["projector"]
    return (
        f"{result['joined']} phones, {result['server']['workers']} worker(s) "
        f"({result['server']['backend']}): {acks['n']} acks in {result['storm_s']}s "
        f"({result['inputs_per_s']}/s), ack p50 {acks['p50']} ms p99 {acks['p99']} ms "
        f"max {acks['max']} ms; projector {proj['per_s']} views/s (max {proj['max_in_1s']} in "
        f"1 s); phones got {result['phone_views']} views; counts exact: "
        f"{all(result['counts'][k] for k in ('projector_exact', 'ranking_exact', 'export_exact'))}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.stickers", description=__doc__)
    p.add_argument("--phones", type=int, default=2000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--redis-url", default=None, help="'auto' starts a throwaway redis-server")
    p.add_argument("--procs", type=int, default=2, help="generator processes (2)")
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--cards", type=int, default=12)
    p.add_argument("--moves", type=int, default=6)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        help="first wait up to this many seconds until the machine is idle (< 0.3 cores busy)",
    )
    p.add_argument(
        "--pin",
        action="store_true",
        help="the server on the last --workers CPUs, the generator on the others (Linux)",
    )
    p.add_argument("--out", default=None, help="the JSON record (default bench/results/stickers-…)")
    args = p.parse_args(argv)
    if args.workers > 1 and not args.redis_url:
        print("--workers > 1 needs --redis-url (or auto)", file=sys.stderr)
        return 2
    raise_nofile()
    out = (
        Path(args.out)
        if args.out
        else ROOT / "bench" / "results" / (time.strftime("stickers-%Y%m%d-%H%M%S") + ".json")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    logs = ROOT / "bench" / "results" / "stickers-logs" / out.stem  # server logs: not records
    redis, redis_url = throwaway_redis(args.redis_url if True else None, logs / "redis")
    cpus: frozenset[int] | None = None
    if args.pin:
        servers_on, generator_on = split_cpus(os.sched_getaffinity(0), args.workers)
        os.sched_setaffinity(0, generator_on)  # the phone processes inherit it
        cpus = frozenset(servers_on)
    server = ServerProc("kenniskring", logs, workers=args.workers, redis_url=redis_url, cpus=cpus)
    cfg = StormConfig(
        phones=args.phones,
        procs=args.procs,
        duration=args.duration,
        cards=args.cards,
        moves=args.moves,
        seed=args.seed,
    )
    try:
        server.start()
        if args.quiet_wait > 0:
            from .__main__ import wait_quiet

            wait_quiet(args.quiet_wait)
        result = asyncio.run(storm(server, cfg))
    finally:
        server.stop()
        if redis is not None:
            redis.stop()
    record = {
        "machine": describe_machine(),
        "revision": git_revision(),
        "pinned": args.pin,
        "command": "python -m bench.stickers "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "result": result,
    }
    out.write_text(json.dumps(record, indent=2))
    print(summary(result))
    print(f"record → {out}")
    return 0 if ok(result) else 1


if __name__ == "__main__":
    sys.exit(main())
