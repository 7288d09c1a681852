"""Load patterns over time rather than one round: reconnect storms and a soak.

    python -m bench storm --phones 2000 --storms 4                     # memory backend, 1 worker
    python -m bench storm --phones 2000 --storms 4 --workers 2 --redis-url auto
    python -m bench storm --phones 2000 --storms 4 --tracemalloc      # what outlives a storm
    python -m bench soak --phones 1000 --minutes 120 --out bench/records/soak.json

**storm**: N phones join, then, N times: every socket is cut at once (no close frame, as when a
venue's wifi drops), every phone reconnects at once (or within `--jitter` s) and resumes with
its token; the storm ends when every phone has its welcome and a view again. Printed per storm:
how long until all were back, /healthz latency during the storm (a prober in its own process,
a new connection every 20 ms), the server's RSS and open file descriptors once it is idle
again. With `--tracemalloc` the server runs under bench/memtrace.py and a snapshot is taken
after the join and after every storm (growth since the join, by line: `storm-*.memtrace.N.txt`).

**soak**: N phones connected for `--minutes`, in sessions of `--session` s (fresh rooms; the
previous session's phones leave and new ones join; the server expires idle rooms after
`--room-ttl`). Within a session each room's host plays questions in a loop (start, close,
scoreboard, next, and at the podium restart), phones answer each question after 0.2–2.0 s, the
host's socket is replaced every round and `--churn` of the phones drop and resume every
`--churn-every` s. Every `--sample` s: the server's RSS, open file descriptors and sockets.
At the end everyone leaves and RSS and FDs are read again after `--settle` s. Output: JSON with
every sample, the RSS slope (least squares over the samples after the first session) and the FDs
at the start and after everyone left.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from .fleet import FleetHost, FleetPhone, Tally, open_all, wait_until
from .quiz import bench_quiz
from .run import percentiles
from .servers import (
    CHECKOUT,
    PACKAGE,
    ROOT,
    ServerProc,
    describe_machine,
    git_revision,
    machine_busy_s,
    process_tree,
    raise_nofile,
    split_cpus,
    throwaway_redis,
)


def open_fds(root: int) -> int:
    """Open file descriptors of `root` and its descendants (/proc/<pid>/fd)."""
    total = 0
    for pid in process_tree(root):
        with contextlib.suppress(OSError):
            total += len(os.listdir(f"/proc/{pid}/fd"))
    return total


def slope_per_hour(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) points, per hour."""
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return sxy / sxx * 3600


class Probe(NamedTuple):
    sent: float  # time.time()
    ms: float  # until the answer
    status: int  # 0: no answer
    connect_ms: float  # until the kernel had accepted the TCP connection


class Prober:
    """bench/probe.py in a subprocess; `stop()` returns its probes."""

    def __init__(self, port: int, every: float = 0.02) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"{PACKAGE}.probe", "--port", str(port), "--every", str(every)],
            stdout=subprocess.PIPE,
            cwd=ROOT,
            text=True,
        )

    def stop(self) -> list[Probe]:
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        rows = []
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 4:
                rows.append(Probe(float(parts[0]), float(parts[1]), int(parts[2]), float(parts[3])))
        return rows


def healthz_figures(rows: list[Probe], since: float, until: float) -> dict[str, Any]:
    """/healthz latency of the probes sent in [since, until]."""
    picked = [(p.ms, p.status) for p in rows if since <= p.sent <= until]
    figures = percentiles([lat / 1000 for lat, _ in picked])
    figures["failed"] = sum(1 for _, status in picked if status != 200)
    return figures


# ---- shared setup ---------------------------------------------------------------------------


@dataclass
class Room:
    code: str
    secret: str


async def make_rooms(base: str, count: int, questions: int, time_limit: int) -> list[Room]:
    quiz = bench_quiz(questions, time_limit=time_limit)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        r = await http.post(
            "/api/quizzes",
            content=json.dumps(quiz).encode(),
            headers={"content-type": "application/json"},
        )
        if r.status_code == 201:
            quiz_id = r.json()["id"]
        elif r.status_code == 409:  # uploaded by an earlier session of this run
            quiz_id = quiz["id"]
        else:
            raise RuntimeError(f"quiz upload refused: {r.status_code} {r.text[:300]}")
        rooms = []
        for _ in range(count):
            r = await http.post("/api/rooms", json={"quiz_id": quiz_id})
            if r.status_code != 201:
                raise RuntimeError(f"room refused: {r.status_code} {r.text[:300]}")
            rooms.append(Room(r.json()["code"], r.json()["host_secret"]))
    return rooms


def server_for(
    args: argparse.Namespace, logs: Path, redis_url: str | None, **kw: Any
) -> ServerProc:
    return ServerProc(
        getattr(args, "server", "kenniskring"),
        logs,
        workers=args.workers,
        redis_url=redis_url,
        max_players=max(2500, args.phones + 10),
        **kw,
    )


def session_header(argv: list[str], mode: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "machine": describe_machine(),
        "revision": git_revision(),
        "command": f"python -m bench {mode} " + shlex.join(argv),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def mib(kib: int) -> float:
    return round(kib / 1024, 1)


async def settle(server: ServerProc, max_s: float = 20.0) -> None:
    """Wait until the server's CPU is (nearly) idle."""
    deadline = time.monotonic() + max_s
    last = server.usage().cpu_s
    quiet = 0
    while time.monotonic() < deadline and quiet < 4:
        await asyncio.sleep(0.25)
        now = server.usage().cpu_s
        quiet = quiet + 1 if now - last < 0.03 else 0
        last = now


# ---- storm ----------------------------------------------------------------------------------


async def storm(args: argparse.Namespace, server: ServerProc, out: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    tally = Tally()
    per_room = math.ceil(args.phones / args.rooms)
    if server.kind == "baseline":  # the bare server makes a room on its first hello
        rooms = [Room(f"{900000 + i:06d}", "-") for i in range(args.rooms)]
    else:
        rooms = await make_rooms(server.base, args.rooms, 1, 240)
    hosts = [FleetHost(r.code, r.secret) for r in rooms]
    await asyncio.gather(*(h.open(server.port) for h in hosts))
    phones = [
        FleetPhone(i, rooms[i // per_room].code, f"Speler {i + 1}", tally, rng, answers=False)
        for i in range(args.phones)
    ]
    fds_before = open_fds(server.pid)
    rss_before = server.usage().rss_kib
    t0 = time.monotonic()
    await open_all(phones, server.port, args.join_concurrency)
    joined = sum(1 for p in phones if p.in_since)
    if args.phase == "question":
        for h in hosts:
            h.control("start")
        await wait_until(tally, lambda: all(p.phase == "question" for p in phones), 30)
    await settle(server)
    usage0 = server.usage()
    print(
        f"  joined {joined}/{args.phones} in {time.monotonic() - t0:.1f} s; RSS "
        f"{mib(rss_before)} → {mib(usage0.rss_kib)} MiB, FDs {fds_before} → "
        f"{open_fds(server.pid)}"
    )
    snapshot(server, args)
    storms = []
    spy = None
    if args.profile:
        from .profiling import PySpy

        spy = PySpy(server.pid, out.with_suffix(".pyspy.raw"))
        await asyncio.sleep(0.5)
    during: list[Probe] = []  # the probes sent during any storm
    for n in range(1, args.storms + 1):
        errors_before = sum(tally.errors.values())
        machine0, own0 = machine_busy_s(), time.process_time()
        cpu0 = server.usage().cpu_s
        prober = Prober(server.port)
        await asyncio.sleep(0.5)  # the prober's first probes: an idle baseline
        t_drop = time.time()
        for p in phones:
            p.drop()
        await open_all(phones, server.port, 0, args.jitter)
        back = await wait_until(tally, lambda: all(p.in_since for p in phones), args.limit)
        t_back = time.time()
        await asyncio.sleep(0.5)
        rows = prober.stop()
        cpu1 = server.usage().cpu_s
        machine1, own1 = machine_busy_s(), time.process_time()
        await settle(server)
        snapshot(server, args)
        u = server.usage()
        fds = open_fds(server.pid)
        server_cpu = cpu1 - cpu0
        other = (machine1 - machine0) - server_cpu - (own1 - own0)
        healthz = healthz_figures(rows, t_drop, t_back)
        during += [p for p in rows if t_drop <= p.sent <= t_back]
        row: dict[str, Any] = {
            "storm": n,
            "all_back": back,
            "back": sum(1 for p in phones if p.in_since),
            "dropped_at": round(t_drop, 3),  # time.time()
            "resume_s": round(t_back - t_drop, 2),
            "healthz_ms": healthz,
            "rss_mib": mib(u.rss_kib),
            "fds": fds,
            "server_cpu_s": round(server_cpu, 2),
            "generator_cpu_s": round(own1 - own0, 2),
            "other_cpu_s": round(other, 2),
            "errors": sum(tally.errors.values()) - errors_before,
            # every probe around the storm: [sent, s after the drop; latency, ms; status;
            # ms until the TCP connection was established]
            "probes": [
                [round(p.sent - t_drop, 3), round(p.ms, 1), p.status, round(p.connect_ms, 1)]
                for p in rows
            ],
        }
        storms.append(row)
        hz = healthz
        print(
            f"  storm {n}: {row['back']}/{args.phones} back in {row['resume_s']} s; /healthz "
            f"p50 {hz['p50']} p99 {hz['p99']} max {hz['max']} ms ({hz['n']} probes, "
            f"{hz['failed']} failed); RSS {row['rss_mib']} MiB, FDs {fds}; server CPU "
            f"{row['server_cpu_s']} s, other CPU {row['other_cpu_s']} s, errors {row['errors']}"
        )
    all_storms = healthz_figures(during, 0.0, math.inf)
    print(
        f"  all storms: /healthz p50 {all_storms['p50']} p95 {all_storms['p95']} p99 "
        f"{all_storms['p99']} max {all_storms['max']} ms ({all_storms['n']} probes, "
        f"{all_storms['failed']} failed)"
    )
    if spy is not None:
        from .profiling import summarize

        spy.stop()
        summary = out.with_suffix(".pyspy.txt")
        summary.write_text(summarize([spy.out]))
        print(f"  profile of the storms: {summary}")
    for p in phones:
        p.leave()
    for host in hosts:
        host.close()
    await asyncio.sleep(1.0)
    await settle(server)
    gone = server.usage()
    result = {
        "phones": args.phones,
        "rooms": args.rooms,
        "workers": args.workers,
        "backend": "redis" if args.redis_url else "memory",
        "phase": args.phase,
        "jitter_s": args.jitter,
        "joined": joined,
        "rss_mib_before_join": mib(rss_before),
        "rss_mib_joined": mib(usage0.rss_kib),
        "fds_before_join": fds_before,
        "storms": storms,
        "healthz_ms_all_storms": all_storms,  # over the probes of every storm together
        "rss_mib_after_leave": mib(gone.rss_kib),
        "fds_after_leave": open_fds(server.pid),
        "tally": tally.as_dict(),
    }
    print(
        f"  everyone left: RSS {result['rss_mib_after_leave']} MiB, FDs "
        f"{result['fds_after_leave']} (before the join {fds_before})"
    )
    return result


def snapshot(server: ServerProc, args: argparse.Namespace) -> None:
    """A tracemalloc snapshot in the server (bench/memtrace.py), waited for (bounded)."""
    if not args.tracemalloc:
        return
    n = len(list(server.workdir.glob(f"{server.memtrace_prefix.name}.*.txt"))) + 1
    target = Path(f"{server.memtrace_prefix}.{n}.txt")
    os.kill(server.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 120
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    if target.exists() and n > 1:
        head = target.read_text().splitlines()[:6]
        print("    tracemalloc " + "\n    ".join(head))


# ---- soak -----------------------------------------------------------------------------------


class Soak:
    def __init__(self, args: argparse.Namespace, server: ServerProc) -> None:
        self.args = args
        self.server = server
        self.rng = random.Random(args.seed)
        self.tally = Tally()
        self.samples: list[dict[str, Any]] = []
        self.t0 = time.monotonic()
        self.rounds = 0
        self.questions = 0
        self.host_errors: dict[str, int] = {}  # error codes the hosts got
        self.sessions = 0
        self.next_index = 0

    def sample(self, note: str = "") -> dict[str, Any]:
        u = self.server.usage()
        row: dict[str, Any] = {
            "t_s": round(time.monotonic() - self.t0, 1),
            "rss_mib": mib(u.rss_kib),
            "fds": open_fds(self.server.pid),
            "cpu_s": round(u.cpu_s, 1),
            "machine_busy_s": round(machine_busy_s(), 1),
            "generator_cpu_s": round(time.process_time(), 1),
            "rounds": self.rounds,
            "questions": self.questions,
            "acks": self.tally.acks,
            "errors": sum(self.tally.errors.values()),
        }
        if note:
            row["note"] = note
        self.samples.append(row)
        return row

    async def sampler(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            row = self.sample()
            if self.args.tracemalloc:
                await asyncio.to_thread(snapshot, self.server, self.args)
            print(
                f"  {row['t_s'] / 60:6.1f} min: RSS {row['rss_mib']} MiB, FDs {row['fds']}, "
                f"rounds {row['rounds']}, questions {row['questions']}, acks {row['acks']}, "
                f"errors {row['errors']}",
                flush=True,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.args.sample)

    async def host_loop(self, room: Room, until: float) -> None:
        """Play questions in a loop; the host's socket is replaced every round."""
        step = self.args.step
        host = FleetHost(room.code, room.secret)
        await host.open(self.server.port)
        try:
            while time.monotonic() < until:
                await self._round(host, step, until)
                await asyncio.sleep(step / 2)
                self.rounds += 1
                # A new host socket for the next round (a facilitator's laptop reconnecting).
                self._count(host)
                host.close()
                host = FleetHost(room.code, room.secret)
                await host.open(self.server.port)
                if host.phase == "podium":
                    host.control("restart")
                    await host.wait(lambda: host.phase == "lobby", 10)  # noqa: B023
        finally:
            self._count(host)
            host.close()

    async def _round(self, host: FleetHost, step: float, until: float) -> None:
        host.control("start")
        await host.wait(lambda: host.phase == "question", 10)
        while time.monotonic() < until:
            self.questions += 1
            await asyncio.sleep(step)  # phones answer within 2 s
            if host.phase == "question":  # else everyone answered: it closed by itself
                host.control("close")
            await host.wait(lambda: host.phase == "reveal", 10)
            await asyncio.sleep(step / 2)
            host.control("scoreboard")
            await host.wait(lambda: host.phase == "scoreboard", 10)
            await asyncio.sleep(step / 2)
            host.control("next")
            await host.wait(lambda: host.phase in ("question", "podium"), 10)
            if host.phase == "podium":
                return

    def _count(self, host: FleetHost) -> None:
        for code, n in host.errors.items():
            self.host_errors[code] = self.host_errors.get(code, 0) + n

    async def churn(self, phones: list[FleetPhone], until: float) -> None:
        args = self.args
        while time.monotonic() + args.churn_every < until:
            await asyncio.sleep(args.churn_every)
            picked = self.rng.sample(phones, max(1, int(len(phones) * args.churn)))
            for p in picked:
                p.drop()
            await asyncio.sleep(0.5)
            await open_all(picked, self.server.port, 50)

    async def run(self) -> dict[str, Any]:
        args = self.args
        stop = asyncio.Event()
        await settle(self.server, 5)
        start = self.sample("start")
        snapshot(self.server, args)
        sampler = asyncio.create_task(self.sampler(stop))
        end = self.t0 + args.minutes * 60
        previous: list[FleetPhone] = []
        per_room = args.per_room
        try:
            while time.monotonic() < end - min(30.0, args.session / 2):
                self.sessions += 1
                rooms = await make_rooms(
                    self.server.base, math.ceil(args.phones / per_room), args.questions, 240
                )
                for p in previous:
                    p.leave()
                phones = []
                for i in range(args.phones):
                    self.next_index += 1
                    room = rooms[i // per_room].code
                    name = f"S{self.sessions} {i + 1}"
                    phone = FleetPhone(self.next_index, room, name, self.tally, self.rng, True)
                    phones.append(phone)
                await open_all(phones, self.server.port, args.join_concurrency)
                previous = phones
                until = min(end, time.monotonic() + args.session)
                await asyncio.gather(
                    *(self.host_loop(room, until) for room in rooms),
                    self.churn(phones, until),
                )
        finally:
            stop.set()
            await sampler
        for p in previous:
            p.leave()
        await asyncio.sleep(1.0)
        left = self.sample("everyone left")
        await asyncio.sleep(args.settle)
        await settle(self.server, 10)
        settled = self.sample(f"{args.settle:.0f} s after everyone left")
        warm = [s for s in self.samples if "note" not in s and s["t_s"] >= args.session]
        slope = slope_per_hour([(s["t_s"], s["rss_mib"]) for s in warm])
        fd_slope = slope_per_hour([(s["t_s"], s["fds"]) for s in warm])
        busy = settled["machine_busy_s"] - start["machine_busy_s"]
        server_cpu = settled["cpu_s"] - start["cpu_s"]
        generator_cpu = settled["generator_cpu_s"] - start["generator_cpu_s"]
        return {
            "phones": args.phones,
            "minutes": args.minutes,
            "session_s": args.session,
            "per_room": per_room,
            "workers": args.workers,
            "backend": "redis" if args.redis_url else "memory",
            "room_ttl_s": args.room_ttl,
            "sessions": self.sessions,
            "rounds": self.rounds,
            "questions": self.questions,
            "tally": self.tally.as_dict(),
            "host_errors": self.host_errors,
            "rss_mib": {
                "start": start["rss_mib"],
                "max": max(s["rss_mib"] for s in self.samples),
                "last_connected": self.samples[-3]["rss_mib"] if len(self.samples) > 2 else None,
                "everyone_left": left["rss_mib"],
                "settled": settled["rss_mib"],
                "slope_mib_per_hour_after_first_session": (
                    round(slope, 2) if slope is not None else None
                ),
            },
            "fds": {
                "start": start["fds"],
                "max": max(s["fds"] for s in self.samples),
                "everyone_left": left["fds"],
                "settled": settled["fds"],
                "slope_per_hour_after_first_session": (
                    round(fd_slope, 2) if fd_slope is not None else None
                ),
            },
            "server_cpu_s": round(server_cpu, 1),
            "generator_cpu_s": round(generator_cpu, 1),
            "other_cpu_s": round(busy - server_cpu - generator_cpu, 1),
            "samples": self.samples,
        }


# ---- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kenniskring bench {storm,soak}",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="mode", required=True)
    for mode in ("storm", "soak"):
        s = sub.add_parser(mode)
        s.add_argument("--phones", type=int, default=2000 if mode == "storm" else 1000)
        s.add_argument("--workers", type=int, default=1)
        s.add_argument("--redis-url", default=None, help="Redis ('auto': a throwaway one)")
        s.add_argument("--join-concurrency", type=int, default=100)
        s.add_argument("--seed", type=int, default=1)
        s.add_argument("--out", default=None, help="JSON output file")
        if mode == "storm":
            s.add_argument("--storms", type=int, default=4)
            s.add_argument("--rooms", type=int, default=1)
            s.add_argument("--jitter", type=float, default=0.0, help="reconnect spread in s (0)")
            s.add_argument("--phase", choices=("lobby", "question"), default="question")
            s.add_argument("--limit", type=float, default=60.0, help="s to wait per storm")
            s.add_argument("--tracemalloc", action="store_true")
            s.add_argument("--profile", action="store_true", help="py-spy during the storms")
            s.add_argument(
                "--pin",
                action="store_true",
                help="the server on the last --workers CPUs, the phones and probes on the others",
            )
            s.add_argument(
                "--server",
                choices=("kenniskring", "baseline"),
                default="kenniskring",
                help="baseline: the bare websockets server of bench/baseline.py, for the limit",
            )
        else:
            s.add_argument("--minutes", type=float, default=120.0)
            s.add_argument("--session", type=float, default=900.0, help="s per session (900)")
            s.add_argument("--per-room", type=int, default=250, help="phones per room (250)")
            s.add_argument("--questions", type=int, default=5, help="questions per round (5)")
            s.add_argument("--step", type=float, default=3.0, help="s a question stays open (3)")
            s.add_argument("--churn", type=float, default=0.02, help="share that drops (0.02)")
            s.add_argument("--churn-every", type=float, default=30.0)
            s.add_argument("--sample", type=float, default=30.0, help="s between samples (30)")
            s.add_argument("--room-ttl", type=float, default=300.0, help="server's --room-ttl")
            s.add_argument("--settle", type=float, default=30.0)
            s.add_argument("--tracemalloc", action="store_true")
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.workers > 1 and not args.redis_url:
        print("--workers > 1 needs --redis-url (or --redis-url auto)", file=sys.stderr)
        return 2
    raise_nofile()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = ROOT / "bench" / "results" if CHECKOUT else Path.cwd() / "bench-results"
    out = Path(args.out) if args.out else base / f"{args.mode}-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    logs = base / f"{args.mode}-{stamp}-logs"
    record = session_header(argv[1:], args.mode)
    redis, redis_url = throwaway_redis(args.redis_url if True else None, logs / "redis")
    cpus: frozenset[int] | None = None
    if getattr(args, "pin", False):
        try:
            servers_on, generator_on = split_cpus(os.sched_getaffinity(0), args.workers)
        except ValueError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        os.sched_setaffinity(0, generator_on)  # the phones and the /healthz probe
        cpus = frozenset(servers_on)
        record["machine"]["pinned"] = {
            "servers": sorted(servers_on),
            "generator": sorted(generator_on),
        }
    server = server_for(
        args,
        logs,
        redis_url,
        profile="tracemalloc" if getattr(args, "tracemalloc", False) else None,
        cpus=cpus,
    )
    if args.mode == "soak":
        server.extra_args = ["--room-ttl", str(args.room_ttl)]
    print(f"bench {args.mode} → {out}")
    try:
        server.start()
        if args.mode == "storm":
            record["result"] = run_loop(storm(args, server, out))
        else:
            record["result"] = run_loop(Soak(args, server).run())
    finally:
        server.stop()
        if redis is not None:
            redis.stop()
    record["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    record["server_log_tail"] = server.log_tail(3000)
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False))
    if args.mode == "soak":
        r = record["result"]
        rss, fds = r["rss_mib"], r["fds"]
        print(
            f"  RSS {rss['start']} → max {rss['max']} → after leaving {rss['settled']} MiB, "
            f"slope {rss['slope_mib_per_hour_after_first_session']} MiB/h; FDs {fds['start']} → "
            f"max {fds['max']} → {fds['settled']}"
        )
    print(f"results: {out}")
    return 0


def run_loop(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)
