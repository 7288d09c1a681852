"""What a server costs while nobody uses it: CPU of the workers and of Redis over a quiet span.

    python -m bench idle --workers 2 --redis-url auto-cluster --seconds 20 [--repeat 3]
        [--candidate-root DIR] [--out FILE]

A server started with no rooms and no sockets still runs its background work: the deadline
poll, the liveness keys, the heartbeat. Each repeat starts a fresh server (and, with
`--candidate-root`, the `server` package of another checkout right after it, on a Redis of its
own), waits until it is up and has settled (`--settle`), then reads the CPU of the server's
processes and of the Redis processes over `--seconds`. Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .servers import ServerProc, git_revision, throwaway_redis


def measure(kind: str, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    redis, url = throwaway_redis(args.redis_url, workdir / f"redis-{kind}")
    server = ServerProc(
        kind=kind,
        workdir=workdir,
        workers=args.workers,
        redis_url=url,
        server_root=Path(args.candidate_root) if kind == "candidate" else None,
    )
    try:
        server.start()
        time.sleep(args.settle)
        before = server.usage().cpu_s
        redis_before = redis.usage().cpu_s if redis is not None else 0.0
        time.sleep(args.seconds)
        spent = server.usage().cpu_s - before
        redis_spent = (redis.usage().cpu_s - redis_before) if redis is not None else 0.0
    finally:
        server.stop()
        if redis is not None:
            redis.stop()
    return {
        "server": kind,
        "server_cpu_s": round(spent, 3),
        "server_core_share": round(spent / args.seconds, 4),
        "redis_cpu_s": round(redis_spent, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench idle", description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--redis-url", default="auto", help="auto, auto-cluster, a URL, or '' for none (memory)"
    )
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--candidate-root", help="also measure the server package of this checkout")
    parser.add_argument("--out", help="write the results here as JSON")
    args = parser.parse_args(argv)
    if args.workers > 1 and not args.redis_url:
        print("--workers > 1 needs --redis-url", file=sys.stderr)
        return 2
    kinds = ["kenniskring"] + (["candidate"] if args.candidate_root else [])
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kk-idle-") as tmp:
        for n in range(args.repeat):
            for kind in kinds:
                run = measure(kind, Path(tmp) / f"{kind}-{n}", args)
                runs.append(run)
                print(
                    f"{kind}: {run['server_cpu_s']:.2f} s of server CPU in {args.seconds:g} s "
                    f"({run['server_core_share'] * 100:.1f} % of a core), "
                    f"Redis {run['redis_cpu_s']:.2f} s"
                )
    if args.out:
        record = {
            "revision": git_revision(),
            "command": "python -m bench idle " + " ".join(argv or sys.argv[1:]),
            "runs": runs,
        }
        Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
