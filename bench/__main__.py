"""`python -m bench` / `kenniskring bench`: how many phones Kenniskring carries, next to the limit.

For every phone count it starts Kenniskring (`python -m server serve` on a free port) and then the
bare baseline (bench/baseline.py) with the frame sizes Kenniskring just sent, plays the same rounds
against both with the same generator, and writes JSON, Markdown and a plot to bench/results/.

    python -m bench                                   # 200 and 500 phones, < 2 minutes
    python -m bench --phones 200,500,1000,2000 --profile py-spy
    python -m bench --phones 10000 --rooms 100 --workers 2 --redis-url auto --procs 4
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shlex
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from . import report
from .run import RunConfig, run_once, run_paired
from .servers import (
    CHECKOUT,
    ROOT,
    ServerProc,
    describe_machine,
    git_revision,
    machine_busy_s,
    raise_nofile,
    split_cpus,
    throwaway_redis,
)

SERVERS = ("kenniskring", "baseline", "candidate")
KENNISKRINGS = ("kenniskring", "candidate")  # candidate: the server of --candidate-root


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.replace(" ", "").split(",") if x]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kenniskring bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--phones",
        type=_ints,
        default=[200, 500],
        help="comma-separated phone counts, one run each (default 200,500)",
    )
    p.add_argument("--rooms", type=int, default=1, help="rooms; phones are spread evenly (1)")
    p.add_argument("--questions", type=int, default=1, help="questions played per run (1)")
    p.add_argument(
        "--servers",
        default="kenniskring,baseline",
        help="which servers to run, in order (kenniskring,baseline); kenniskring,candidate "
        "plays this checkout and --candidate-root in turn (an A/B on one drifting machine), "
        "candidate,kenniskring the same with the candidate first in every turn",
    )
    p.add_argument("--workers", type=int, default=1, help="Kenniskring worker processes (1)")
    p.add_argument(
        "--affinity",
        action="store_true",
        help="room affinity: the workers as separate one-worker servers on their own ports "
        "(machines behind a balancer that hashes the room code), each room's phones and host "
        "on one of them; without it the workers share one port and the kernel spreads every "
        "room over all of them (py-spy samples the first server only)",
    )
    p.add_argument(
        "--redis-url",
        default=None,
        help="Redis for Kenniskring (needed with --workers > 1); 'auto' starts a "
        "throwaway redis-server on a free port, 'auto-cluster' a 3-master Redis Cluster",
    )
    p.add_argument(
        "--procs",
        type=int,
        default=0,
        help="generator processes (0 = one per 1000 phones, at most 4)",
    )
    p.add_argument(
        "--silent",
        type=int,
        default=1,
        help="phones per room that watch without answering, so the host's close ends "
        "the question (1); 0 = everyone answers",
    )
    p.add_argument(
        "--think",
        default="0.2,2.0",
        help="think time range in seconds before a phone answers (0.2,2.0)",
    )
    p.add_argument(
        "--app-ping",
        type=float,
        default=10.0,
        help="seconds between a phone's own `ping` frames after its welcome, as the page sends "
        "them (10); 0 = none, as in the records before 2026-12-05",
    )
    p.add_argument(
        "--join-concurrency",
        type=int,
        default=100,
        help="phones per generator process joining at the same time (100)",
    )
    p.add_argument(
        "--phase-timeout",
        type=float,
        default=30.0,
        help="seconds to wait for every phone to see a phase (30)",
    )
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        help="before each run wait up to this many seconds until the machine is idle "
        "(< 0.3 cores busy); for shared machines (0 = do not wait)",
    )
    p.add_argument("--repeat", type=int, default=1, help="runs per phone count (1)")
    p.add_argument(
        "--sequential",
        action="store_true",
        help="run Kenniskring, then the baseline, each on its own, instead of in turn per "
        "question with both connected (bench/pair.py); the baseline then pads to the sizes "
        "of the Kenniskring run before it",
    )
    p.add_argument(
        "--phones-batch",
        action="store_true",
        help="run the phone processes under SCHED_BATCH (Linux): a phone woken by a server's "
        "write then waits for the next scheduling tick instead of preempting that server, as "
        "real phones, on devices of their own, never take a server's core",
    )
    p.add_argument(
        "--pin",
        action="store_true",
        help="give the servers cores of their own: each server on the last --workers CPUs, "
        "the generator (this process and its phone processes) on the others, so the "
        "figures show the server's own cost rather than the two sharing cores (Linux)",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--profile",
        choices=("none", "py-spy", "cprofile", "tracemalloc"),
        default="none",
        help="profile Kenniskring during its runs: py-spy (join, question, answers, reveal "
        "and scoreboard sampled apart; needs ptrace rights), cprofile (whole run, call "
        "counts), tracemalloc (memory growth while the phones join)",
    )
    p.add_argument(
        "--server-root",
        default=None,
        help="run the `server` package of another checkout (to bench a candidate fix)",
    )
    p.add_argument(
        "--candidate-root",
        default=None,
        help="the checkout whose `server` package the `candidate` server runs (on Redis "
        "database 1 of the same Redis, or with auto-cluster on a second cluster, so the two do "
        "not share rooms or deadlines)",
    )
    p.add_argument("--out", default=None, help="output directory (bench/results/<time>)")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    return p


def auto_procs(phones: int) -> int:
    return max(1, min(4, math.ceil(phones / 1000)))


def wait_quiet(limit_s: float, cores: float = 0.3) -> None:
    """Wait (bounded) until everything on the machine uses less than `cores` CPUs."""
    deadline = time.monotonic() + limit_s
    last = machine_busy_s()
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = machine_busy_s()
        if now - last < cores:
            return
        last = now
    print(f"  (machine still busy after {limit_s:.0f}s; running anyway)")


def run_loop(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def summary_line(r: dict[str, Any]) -> str:
    a = r["answers"]
    return (
        f"  {r['server']:<11} {r['phones']:>6} phones: join {r['join']['total_s']}s, "
        f"question p99 {r['question']['p99']} max {r['question']['max']} ms, "
        f"ack p99 {r['ack']['p99']} ms, reveal p99 {r['reveal']['p99']} ms "
        f"(own result p99 {r.get('result', {}).get('p99')} ms), "
        f"scoreboard p99 {r['scoreboard']['p99']} ms, acked {a['acked']}/{a['sent']}, "
        f"lost {a['lost']}, errors {r['errors']['count']}, "
        f"CPU {r['server_usage']['cpu_s_total']}s, "
        f"{r['server_usage']['kib_per_idle_phone']} KiB/phone, "
        f"other CPU {r['machine']['other_cpu_s']}s, "
        f"preempted {_broadcast_preemptions(r['server_usage'])}× while broadcasting"
    )


def _broadcast_preemptions(usage: dict[str, Any]) -> int:
    """Times the server lost its core during the question, reveal and scoreboard phases."""
    taken = usage.get("preempted", {})
    return sum(taken.get(phase, 0) for phase in ("question", "reveal", "scoreboard"))


def run_ok(result: dict[str, Any]) -> bool:
    """Correct, whatever the speed: nothing lost, phantom, missing or failed."""
    a = result["answers"]
    return not (
        a["lost"]
        or a["phantom"]
        or a["export_missing"]
        or result["errors"]["count"]
        or any(result["missing"].values())
    )


def write(out: Path, session: dict[str, Any], plot: bool) -> str:
    (out / "results.json").write_text(json.dumps(session, indent=2, ensure_ascii=False))
    md = report.markdown(session)
    (out / "results.md").write_text(md)
    note = report.plot(session["runs"], out / "latency.png") if plot else "plot skipped"
    return note


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through `finally`: servers and Redis are stopped


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--":  # `kenniskring bench -- --phones 2000`
        argv = argv[1:]
    if argv and argv[0] in ("storm", "soak"):  # bench/lifecycle.py
        from .lifecycle import main as lifecycle

        return lifecycle(argv)
    if argv and argv[0] == "idle":  # bench/idle.py
        from .idle import main as idle

        return idle(argv[1:])
    args = build_parser().parse_args(argv)
    with contextlib.suppress(ValueError):  # only possible in the main thread
        signal.signal(signal.SIGTERM, _terminate)
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(servers) - set(SERVERS)
    if unknown or not servers:
        print(f"unknown server(s): {', '.join(unknown) or '(none)'}", file=sys.stderr)
        return 2
    if "candidate" in servers and not args.candidate_root:
        print("the candidate server needs --candidate-root", file=sys.stderr)
        return 2
    if "candidate" in servers and args.redis_url not in (None, "auto", "auto-cluster"):
        if "+cluster" in args.redis_url:
            print("a candidate on a cluster needs --redis-url auto-cluster", file=sys.stderr)
            return 2
    if not args.sequential and servers[:2] == ["baseline", "kenniskring"]:
        print(
            "the baseline pads its frames to what Kenniskring's phones saw just before: "
            "put kenniskring first, or add --sequential",
            file=sys.stderr,
        )
        return 2
    if args.workers > 1 and not args.redis_url and "kenniskring" in servers:
        print("--workers > 1 needs --redis-url (or --redis-url auto)", file=sys.stderr)
        return 2
    think_min, think_max = (float(x) for x in args.think.split(","))
    nofile = raise_nofile()
    need = max(args.phones) + 200  # per process: the server and a single generator process
    if nofile < need:
        print(f"warning: open-file limit {nofile} < {need}: large runs may fail", file=sys.stderr)
    out = (
        Path(args.out)
        if args.out
        else (ROOT / "bench" / "results" if CHECKOUT else Path.cwd() / "bench-results")
        / time.strftime("%Y%m%d-%H%M%S")
    )
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    session: dict[str, Any] = {
        "machine": describe_machine(),
        "revision": git_revision(),
        "command": "python -m bench " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "runs": [],
        "failures": [],
        "profiles": [],
    }
    server_cpus: frozenset[int] | None = None
    if args.pin:
        try:
            servers_on, generator_on = split_cpus(os.sched_getaffinity(0), args.workers)
        except ValueError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        os.sched_setaffinity(0, generator_on)  # the phone processes inherit it
        server_cpus = frozenset(servers_on)
        session["machine"]["pinned"] = {
            "servers": sorted(servers_on),
            "generator": sorted(generator_on),
        }
    redis, redis_url = throwaway_redis(
        args.redis_url if "kenniskring" in servers else None, logs / "redis"
    )
    # The candidate gets its own keys: database 1 of the same Redis, or a cluster of its own
    # (a cluster has one database).
    candidate_redis, candidate_url = None, None
    if redis_url and "candidate" in servers and args.redis_url == "auto-cluster":
        candidate_redis, candidate_url = throwaway_redis("auto-cluster", logs / "redis-candidate")
    elif redis_url:
        candidate_url = redis_url[: redis_url.rindex("/")] + "/1"
    if redis is not None:
        print(f"redis on {redis_url}")
    print(f"bench → {out}")
    ok = True
    paired = not args.sequential and len(servers) == 2 and "kenniskring" in servers
    sizes: dict[str, int] = {}  # frame sizes of the last Kenniskring run, for the baseline
    try:
        for phones, rep in [(n, r) for n in args.phones for r in range(args.repeat)]:
            cfg = RunConfig(
                phones=phones,
                rooms=args.rooms,
                questions=args.questions,
                procs=args.procs or auto_procs(phones),
                silent=args.silent,
                think_min=think_min,
                think_max=think_max,
                join_concurrency=args.join_concurrency,
                phase_timeout=args.phase_timeout,
                seed=args.seed,
                app_ping_s=args.app_ping,
                phones_batch=args.phones_batch,
            )
            per_room = math.ceil(phones / max(1, args.rooms))
            label = f"-{phones}" + (f"-{rep + 1}" if args.repeat > 1 else "")
            made: dict[str, ServerProc] = {}
            for kind in servers:
                kk = kind in KENNISKRINGS
                root = args.candidate_root if kind == "candidate" else args.server_root
                made[kind] = ServerProc(
                    kind,
                    logs,
                    workers=args.workers if kk else 1,
                    affinity=args.affinity and kk,
                    redis_url=(candidate_url if kind == "candidate" else redis_url) if kk else None,
                    redis_stats=(
                        candidate_redis.stats_urls
                        if candidate_redis is not None and kind == "candidate"
                        else redis.stats_urls
                        if redis is not None and kk
                        else []
                    ),
                    max_players=max(2500, per_room + 10),
                    sizes=sizes,
                    server_root=Path(root) if root else None,
                    cpus=server_cpus,
                )
            groups = [servers] if paired else [[kind] for kind in servers]
            for group in groups:
                kk = "kenniskring" in group
                profiler = Profiler(
                    args.profile if kk else "none",
                    out,
                    "kenniskring" + label,
                    made["kenniskring" if kk else group[0]],
                    args.questions,
                )
                if args.quiet_wait > 0:
                    wait_quiet(args.quiet_wait)
                redis_before = redis.usage() if redis is not None and kk else None
                results: list[dict[str, Any] | BaseException] = []
                try:
                    for kind in group:
                        made[kind].start()
                    if len(group) == 2:
                        pair = (made[group[0]], made[group[1]])
                        results = list(
                            run_loop(
                                run_paired(
                                    pair,
                                    cfg,
                                    on_mark=profiler.on_mark,
                                    marked=group.index("kenniskring"),
                                )
                            )
                        )
                    else:
                        results = [
                            run_loop(run_once(made[group[0]], cfg, on_mark=profiler.on_mark))
                        ]
                except Exception as exc:
                    results = [exc] * len(group)
                finally:
                    profiler.stop_sampling()
                    for kind in group:
                        made[kind].stop()
                    session["profiles"] += profiler.summaries()
                for kind, result in zip(group, results, strict=True):
                    if isinstance(result, BaseException):
                        ok = False
                        print(f"  {kind} {phones} phones FAILED: {result!r}")
                        session["failures"].append(
                            {
                                "server": kind,
                                "phones": phones,
                                "error": repr(result),
                                "trace": "".join(traceback.format_exception(result))[-3000:],
                                "log": made[kind].log_tail(),
                            }
                        )
                        continue
                    if (
                        redis_before is not None
                        and redis is not None
                        and kind == "kenniskring"
                        and "candidate" not in group  # one Redis served both
                    ):
                        after = redis.usage()
                        result["redis"] = {
                            "cpu_s": round(after.cpu_s - redis_before.cpu_s, 2),
                            "rss_kib": after.rss_kib,
                            "version": redis.version,
                        }
                    result["repeat"] = rep + 1
                    if kind == "kenniskring":
                        sizes = result["sizes"]
                        if "baseline" in made:  # sequential: starts after this run
                            made["baseline"].sizes = sizes
                    session["runs"].append(result)
                    print(summary_line(result))
                    if not run_ok(result):
                        ok = False
                    write(out, session, plot=False)
    finally:
        for started in (redis, candidate_redis):
            if started is not None:
                started.stop()
    note = write(out, session, plot=not args.no_plot)
    print()
    print(report.runs_table(session["runs"]))
    print(report.ratio_table(session["runs"]))
    print(report.targets_table(session["runs"]))
    print(note)
    print(f"results: {out / 'results.json'}, {out / 'results.md'}")
    return 0 if ok else 1


class Profiler:
    """Starts and stops the chosen profiler at the coordinator's phase marks."""

    def __init__(self, mode: str, out: Path, label: str, server: ServerProc, questions: int):
        self.mode, self.out, self.label, self.server = mode, out, label, server
        self.last = f"q{questions - 1}_scoreboard"
        self.spy: Any = None
        self.files: list[tuple[str, Path]] = []
        if mode in ("cprofile", "tracemalloc"):
            server.profile = mode

    def on_mark(self, name: str) -> None:
        if self.mode == "py-spy":
            # Sample each phase apart: join; the question going out; the answers; close →
            # reveal; scoreboard.
            phase = name.split("_", 1)[1] if name.startswith("q") and "_" in name else name
            if phase in ("idle", "question", "answers", "reveal", "scoreboard"):
                self.stop_sampling()
            start = {
                "before_join": "join",
                "idle": "question",
                "question": "answers",
                "before_close": "reveal",
                "before_scoreboard": "scoreboard",
            }.get(phase)
            if phase == "scoreboard" and name != self.last:
                start = "question"
            if start:
                self._spy(start)
        elif self.mode == "tracemalloc" and name in ("before_join", "idle"):
            n = 1 if name == "before_join" else 2
            target = Path(f"{self.server.memtrace_prefix}.{n}.txt")
            os.kill(self.server.pid, signal.SIGUSR1)
            deadline = time.monotonic() + 120
            while not target.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            if n == 2:
                self.files.append(("tracemalloc", target))

    def _spy(self, phase: str) -> None:
        from .profiling import PySpy

        n = sum(1 for p, _ in self.files if p == phase) + 1
        self.spy = PySpy(self.server.pid, self.out / f"profile-{self.label}-{phase}-{n}.raw")
        self.files.append((phase, self.spy.out))
        time.sleep(0.3)  # let py-spy attach before the phase starts

    def stop_sampling(self) -> None:
        if self.spy is not None:
            self.spy.stop()
            self.spy = None

    def summaries(self) -> list[dict[str, str]]:
        out = []
        if self.mode == "py-spy":
            from .profiling import summarize

            for phase in dict.fromkeys(p for p, _ in self.files):
                raws = [raw for p, raw in self.files if p == phase]
                path = self.out / f"profile-{self.label}-{phase}.txt"
                path.write_text(summarize(raws))
                out.append({"label": f"{self.label} {phase}", "path": str(path)})
        elif self.mode == "cprofile":
            import io
            import pstats

            buf = io.StringIO()
            try:
                stats = pstats.Stats(str(self.server.cprofile_path), stream=buf)
                stats.sort_stats("tottime").print_stats(40)
                stats.sort_stats("cumulative").print_stats(40)
            except (OSError, TypeError) as exc:
                buf.write(f"no cProfile output: {exc!r}\n")
            path = self.out / f"profile-{self.label}-cprofile.txt"
            path.write_text(buf.getvalue())
            out.append({"label": f"{self.label} cprofile", "path": str(path)})
        elif self.mode == "tracemalloc":
            for _, src in self.files:
                path = self.out / f"profile-{self.label}-tracemalloc.txt"
                path.write_text(src.read_text() if src.exists() else "no snapshot\n")
                out.append({"label": f"{self.label} tracemalloc", "path": str(path)})
        for item in out:
            print(f"  profile: {item['path']}")
        return out


if __name__ == "__main__":
    sys.exit(main())
