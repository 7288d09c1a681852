"""A capacity model from measured bench runs (docs/SCALING.md).

    python -m bench.model CALIBRATION.json [--check RUN.json] [--phones 100000 --rooms 500]

CALIBRATION is a `results.json` (or a record in bench/records/) of a Kenniskring run on Redis.
From it the model takes unit costs, each as measured:

- worker CPU per join, and per phone per question (open, answers, reveal, scoreboard);
- memory per idle phone, and each worker's memory before anyone joined;
- the window over which a question's answers arrived (the run's think time), since the
  per-answer costs hold for that pace;
- Redis CPU per join, per answer, and per room and question for the host's steps: the
  process's CPU (`INFO cpu`, bench/redisstats.py), or in records made before the bench read it
  the commands' time (`INFO commandstats`, which leaves out the sockets' work and counts a
  script's inner commands twice). An answer's and a step's cost is split by the commands'
  time: storing it (per answer, per room) and the renders' reads of the room (`GET`, `MGET`,
  `HGETALL`), which every worker with a socket in the room makes, so those are taken per worker
  holding the room and scaled by the workers a room is spread over.

`--check RUN.json` predicts another measured run (more phones, more rooms) from the calibration
and prints prediction and measurement side by side. `--phones/--rooms` predicts a day that
was never measured: workers needed, Redis CPU per phase, memory, and which resource runs out
first. Every figure is a linear extrapolation from one machine; docs/SCALING.md says where that
holds and where it does not.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STEPS = ("question", "reveal", "scoreboard")
# What a render's read of the room sends (RedisBackend.snapshot: GET, MGET, HGETALLs).
RENDER_READS = frozenset({"get", "mget", "hgetall"})
CPU_PER_OP = "redis_cpu_us_per_op"  # the process's CPU; older records: the commands' time only
# Without the run's think time (records before it was kept): answers spread over 5 s.
DEFAULT_ANSWER_WINDOW_S = 5.0
QUESTION_PHASES = ("question", "answers", "reveal", "scoreboard")


@dataclass(frozen=True)
class Costs:
    """Unit costs measured in one run."""

    join_cpu_ms: float  # worker CPU per phone joining
    question_cpu_ms: float  # worker CPU per phone per question (all four phases)
    kib_per_phone: float  # memory per idle connected phone (all workers together)
    worker_base_mib: float  # one worker's memory before anyone joined
    redis_join_us: float  # Redis CPU per join
    redis_answer_us: float  # Redis CPU per answer: storing it (and telling the room it changed)
    # Redis CPU per answer and worker with sockets in the room: those workers' renders reading
    # the room (`snapshot`) while answers arrive
    redis_answer_reads_us: float
    redis_step_us: float  # Redis CPU per room and set of host steps: the steps' scripts
    # Redis CPU per room, set of host steps and worker with sockets in the room: its renders' reads
    redis_step_reads_us: float
    workers: int
    phones_per_room: float
    answer_window_s: float = DEFAULT_ANSWER_WINDOW_S  # over which one question's answers arrived

    @classmethod
    def of(cls, run: dict[str, Any]) -> Costs:
        n, rooms, q = run["phones"], run["rooms"], run["questions"]
        workers = run["workers"]
        usage = run["server_usage"]
        cpu = usage["cpu_s"]
        redis = run.get("redis_commands") or {}

        def per_op(phase: str) -> float:
            spent = redis.get(phase)
            return redis_us_per_op(spent) if spent else 0.0

        spread = run_spread(run)
        answer_us = per_op("answers")
        reads = read_share(redis.get("answers"))
        steps = [(per_op(s), read_share(redis.get(s))) for s in STEPS]  # (cost, reads' share)
        return cls(
            join_cpu_ms=cpu["join"] * 1000 / n,
            question_cpu_ms=sum(cpu.get(p, 0.0) for p in QUESTION_PHASES) * 1000 / (n * q),
            kib_per_phone=usage["kib_per_idle_phone"],
            worker_base_mib=usage["rss_kib_before_join"] / 1024 / max(1, usage["processes"]),
            redis_join_us=per_op("join"),
            redis_answer_us=answer_us * (1 - reads),
            redis_answer_reads_us=answer_us * reads / spread,
            redis_step_us=sum(cost * (1 - share) for cost, share in steps),
            redis_step_reads_us=sum(cost * share for cost, share in steps) / spread,
            workers=workers,
            phones_per_room=n / rooms,
            answer_window_s=answer_window(run),
        )


def run_spread(run: dict[str, Any]) -> int:
    """The workers a run's rooms were each spread over: one with `--affinity`, else all."""
    if run.get("affinity"):
        return 1
    return int(min(run["workers"], math.ceil(run["phones"] / run["rooms"])))


def redis_us_per_op(phase: dict[str, Any]) -> float:
    """A phase's Redis CPU per operation: the process's, or (older records) the commands'."""
    return float(phase.get(CPU_PER_OP, phase["redis_usec_per_op"]))


def read_share(phase: dict[str, Any] | None) -> float:
    """The share of a phase's commands' time that renders' reads of the room took (the
    commands of `RedisBackend.snapshot`), by `INFO commandstats`. A script's inner commands
    count in that sum twice, so the share is a little low."""
    if not phase:
        return 0.0
    by_command = phase.get("by_command") or {}
    total = sum(entry["usec"] for entry in by_command.values())
    reads = sum(entry["usec"] for name, entry in by_command.items() if name in RENDER_READS)
    return reads / total if total else 0.0


def answer_window(run: dict[str, Any]) -> float:
    """The seconds over which a question's answers arrived in `run`: its phones answer after a
    think time drawn from `think_min`–`think_max` (bench/phones.py)."""
    config = run.get("config") or {}
    low, high = config.get("think_min"), config.get("think_max")
    if isinstance(low, int | float) and isinstance(high, int | float) and high > low:
        return float(high - low)
    return DEFAULT_ANSWER_WINDOW_S


@dataclass(frozen=True)
class Day:
    phones: int
    rooms: int
    workers: int
    questions: int = 1
    spread: int = 0  # workers holding sockets of each room; 0: all (no room affinity)


def predict(c: Costs, day: Day) -> dict[str, float]:
    """What `day` costs, from unit costs `c` (every phone joins once and answers each question)."""
    spread = day.spread or min(day.workers, math.ceil(day.phones / day.rooms))
    processes = day.workers + 1  # uvicorn's supervisor beside its workers
    return {
        "join worker CPU s": day.phones * c.join_cpu_ms / 1000,
        "question worker CPU s": day.phones * day.questions * c.question_cpu_ms / 1000,
        "memory idle MiB": processes * c.worker_base_mib + day.phones * c.kib_per_phone / 1024,
        "join Redis CPU s": day.phones * c.redis_join_us / 1e6,
        "answers Redis CPU s": day.phones
        * day.questions
        * (c.redis_answer_us + spread * c.redis_answer_reads_us)
        / 1e6,
        "steps Redis CPU s": day.rooms
        * day.questions
        * (c.redis_step_us + spread * c.redis_step_reads_us)
        / 1e6,
    }


def measured(run: dict[str, Any]) -> dict[str, float]:
    usage = run["server_usage"]
    cpu = usage["cpu_s"]
    redis = run.get("redis_commands") or {}

    def redis_s(*phases: str) -> float:
        total = 0.0
        for phase in phases:
            spent = redis.get(phase)
            if spent:
                total += redis_us_per_op(spent) * spent["operations"]
        return total / 1e6

    return {
        "join worker CPU s": cpu["join"],
        "question worker CPU s": sum(cpu.get(p, 0.0) for p in QUESTION_PHASES),
        "memory idle MiB": usage["rss_kib_idle"] / 1024,
        "join Redis CPU s": redis_s("join"),
        "answers Redis CPU s": redis_s("answers"),
        "steps Redis CPU s": redis_s(*STEPS),
    }


def redis_measure(run: dict[str, Any]) -> str:
    """Which Redis CPU a run's costs are: the process's, or (older records) the commands'."""
    phases = (run.get("redis_commands") or {}).values()
    if any(CPU_PER_OP in spent for spent in phases if spent):
        return "the redis-server process's CPU"
    return "the commands' time of INFO commandstats (no process CPU in this record)"


def kenniskring_run(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    runs = data.get("runs", [data]) if isinstance(data, dict) else data
    for run in runs:
        if run.get("server") == "kenniskring":
            return dict(run)
    raise SystemExit(f"{path}: no Kenniskring run in it")


def plan(
    c: Costs,
    day: Day,
    join_window_s: float,
    phones_per_worker: int,
    shards: int = 1,
    answer_window_s: float = 0.0,
) -> list[str]:
    """Workers, Redis and memory for `day`, and what runs out first. Redis load is shared
    evenly by `shards` masters (rooms spread by their hash tag). A question's answers arrive
    over `answer_window_s` (0: as in the calibration run, whose per-answer costs hold for that
    pace: answers that trickle in over 10 s see more renders each than a burst within 2 s)."""
    p = predict(c, day)
    answer_window_s = answer_window_s or c.answer_window_s
    join_cores = p["join worker CPU s"] / join_window_s
    redis_join = p["join Redis CPU s"] / join_window_s / shards
    # A question's worker CPU (open, answers, reveal, scoreboard) falls mostly while its
    # answers arrive; the rooms' host steps (open, close, scoreboard) are not all in the same
    # second: spread over 10 s.
    question_cores = p["question worker CPU s"] / answer_window_s
    redis_answers = p["answers Redis CPU s"] / answer_window_s / shards
    redis_steps = p["steps Redis CPU s"] / 10.0 / shards
    lines = [
        f"{day.phones} phones in {day.rooms} rooms on {day.workers} workers, "
        f"{shards} Redis master(s)",
        f"  joining within {join_window_s:.0f} s: {join_cores:.1f} worker cores busy, "
        f"Redis {redis_join:.0%} of one core",
        f"  one question in every room at once, answers over {answer_window_s:.1f} s: "
        f"{p['question worker CPU s']:.1f} worker CPU s "
        f"({p['question worker CPU s'] / day.workers * 1000:.0f} ms per worker, "
        f"{question_cores / day.workers:.0%} of each worker's core), Redis "
        f"{redis_answers:.0%} of a core for the answers + "
        f"{p['steps Redis CPU s'] * 1000:.0f} ms for the host steps",
        f"  memory with everyone connected: {p['memory idle MiB']:.0f} MiB in total, "
        f"{p['memory idle MiB'] / day.workers:.0f} MiB per worker",
        f"  phones per worker: {day.phones / day.workers:.0f} (planned at most: "
        f"{phones_per_worker})",
    ]
    limits = {
        "worker cores while joining": join_cores / day.workers,
        "worker cores while answering": question_cores / day.workers,
        "phones per worker": day.phones / day.workers / phones_per_worker,
        "one Redis core while joining": redis_join,
        "one Redis core while answering": redis_answers,
        "one Redis core for the host steps": redis_steps,
    }
    first = max(limits, key=lambda k: limits[k])
    lines.append(
        "  load against each limit: "
        + ", ".join(f"{k} {v:.0%}" for k, v in sorted(limits.items(), key=lambda kv: -kv[1]))
    )
    lines.append(f"  runs out first: {first}")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.model", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("calibration", type=Path)
    p.add_argument("--check", type=Path, action="append", default=[])
    p.add_argument("--phones", type=int, default=0)
    p.add_argument("--rooms", type=int, default=0)
    p.add_argument("--workers", type=int, default=0, help="0: enough for --phones-per-worker")
    p.add_argument("--phones-per-worker", type=int, default=5000)
    p.add_argument("--join-window", type=float, default=60.0, help="s in which everyone joins")
    p.add_argument("--shards", type=int, default=1, help="Redis Cluster masters (1)")
    p.add_argument(
        "--spread",
        type=int,
        default=0,
        help="workers holding sockets of each room (0: every worker, as a load balancer "
        "without room affinity spreads them)",
    )
    p.add_argument(
        "--answer-window",
        type=float,
        default=0.0,
        help="s over which a question's answers arrive (0: the calibration run's think time)",
    )
    args = p.parse_args(argv)
    calibration = kenniskring_run(args.calibration)
    costs = Costs.of(calibration)
    print(f"unit costs from {args.calibration.name} (Redis: {redis_measure(calibration)}):")
    for name, value in vars(costs).items():
        print(f"  {name:18} {value:10.3f}")
    for path in args.check:
        run = kenniskring_run(path)
        day = Day(run["phones"], run["rooms"], run["workers"], run["questions"], run_spread(run))
        want, got = predict(costs, day), measured(run)
        print(f"\npredicted vs measured: {path.name} ({day.phones} phones, {day.rooms} rooms)")
        print(f"  {'':24} {'predicted':>10} {'measured':>10} {'ratio':>6}")
        for key in want:
            ratio = got[key] / want[key] if want[key] else float("nan")
            print(f"  {key:24} {want[key]:10.2f} {got[key]:10.2f} {ratio:6.2f}")
    if args.phones:
        rooms = args.rooms or max(1, args.phones // 200)
        workers = args.workers or math.ceil(args.phones / args.phones_per_worker)
        print()
        day = Day(args.phones, rooms, workers, spread=args.spread)
        lines = plan(
            costs, day, args.join_window, args.phones_per_worker, args.shards, args.answer_window
        )
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
