"""The load generator in bench/ plays a real round against a real server: correctness only.

Speed is measured by `python -m bench`, never asserted here. What must hold at any speed: every
phone joins, every phone gets the question, the reveal and the scoreboard, every answer sent is
acknowledged, every acknowledged answer is in the reveal's distribution and in the results export,
and nobody sees an error.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.run import RunConfig, run_once, run_paired
from bench.servers import ServerProc, raise_nofile
from tests.support.redis_server import RedisServer

PHONES = 200


def quick(phones: int, **options: Any) -> RunConfig:
    """A short round: quick thinkers, bounded waits, one room, one question, one process."""
    settings: dict[str, Any] = {
        "rooms": 1,
        "questions": 1,
        "procs": 1,
        "silent": 1,
        "think_min": 0.05,
        "think_max": 0.3,
        "phase_timeout": 20,
    }
    return RunConfig(phones=phones, **{**settings, **options})


def play(server: ServerProc, cfg: RunConfig) -> dict[str, Any]:
    server.start()
    try:
        return asyncio.run(run_once(server, cfg, log=lambda *_: None))
    finally:
        server.stop()


def assert_correct(result: dict[str, Any], phones: int, silent: int, questions: int = 1) -> None:
    answering = (phones - silent) * questions
    assert result["errors"] == {"count": 0, "samples": []}
    assert result["missing"] == {"joined": 0, "question": 0, "reveal": 0, "scoreboard": 0}
    for phase in ("question", "reveal", "scoreboard", "result"):
        assert result[phase]["n"] == phones * questions, phase  # result: each phone's own `me`
    answers = result["answers"]
    assert answers["sent"] == answering
    assert answers["acked"] == answering
    assert answers["refused"] == 0
    assert answers["lost"] == 0
    assert answers["phantom"] == 0
    # Every acknowledged answer is in one second of `ack_by_second` (since its question opened).
    assert sum(entry["n"] for entry in result["ack_by_second"].values()) == answering


@pytest.fixture(scope="module", autouse=True)
def _nofile() -> None:
    raise_nofile()


@pytest.mark.parametrize("silent", [1, 0], ids=["host-closes", "everyone-answers"])
def test_generator_plays_a_round_on_kenniskring(tmp_path: Path, silent: int) -> None:
    """With one watching phone the host closes the question; with none the server closes it
    itself once all have answered."""
    cfg = quick(PHONES, procs=2, silent=silent, think_max=0.5)
    result = play(ServerProc("kenniskring", tmp_path), cfg)
    assert_correct(result, PHONES, silent)
    assert result["answers"]["export_missing"] == 0
    assert result["frames_per_phone"]["view_question"] == 1.0


def test_generator_plays_two_rooms_two_questions(tmp_path: Path) -> None:
    cfg = quick(60, rooms=2, questions=2)
    result = play(ServerProc("kenniskring", tmp_path), cfg)
    assert_correct(result, 60, silent=2, questions=2)
    assert result["answers"]["export_missing"] == 0
    assert result["generator"]["batch"] == [False]


def test_phones_batch_runs_the_phone_processes_under_sched_batch(tmp_path: Path) -> None:
    """`--phones-batch`: every phone process runs under SCHED_BATCH (it reports its own policy),
    and the round is played as without it."""
    cfg = quick(60, procs=2, phones_batch=True)
    result = play(ServerProc("kenniskring", tmp_path), cfg)
    assert_correct(result, 60, silent=1)
    assert result["generator"]["batch"] == [True, True]


@pytest.mark.redis
def test_with_affinity_each_room_is_played_on_one_server(tmp_path: Path) -> None:
    """`--affinity`: two one-worker servers on one Redis, each room's host and phones on one
    of them (what a balancer hashing `/ws?room=` does), and the round is played as on one."""
    with RedisServer() as redis:
        server = ServerProc("kenniskring", tmp_path, workers=2, redis_url=redis.url, affinity=True)
        result = play(server, quick(90, rooms=3, procs=2))
    assert_correct(result, 90, silent=3)
    assert result["answers"]["export_missing"] == 0
    assert result["affinity"] is True
    # Rooms 1 and 3 on the first server, room 2 on the second: 30 phones and a host each.
    assert result["connections_per_server"] == [62, 31]


def test_baseline_speaks_the_same_protocol(tmp_path: Path) -> None:
    cfg = quick(PHONES)
    result = play(ServerProc("baseline", tmp_path), cfg)
    assert_correct(result, PHONES, 1)


def test_kenniskring_and_baseline_played_in_turn(tmp_path: Path) -> None:
    """`python -m bench`'s default: both servers connected, one question each in turn, the
    baseline padding its frames to the sizes Kenniskring's phones saw just before."""
    cfg = quick(100, questions=2)
    servers = (ServerProc("kenniskring", tmp_path), ServerProc("baseline", tmp_path))
    for server in servers:
        server.start()
    try:
        kk, base = asyncio.run(run_paired(servers, cfg, log=lambda *_: None))
    finally:
        for server in servers:
            server.stop()
    assert isinstance(kk, dict) and isinstance(base, dict)
    for result in (kk, base):
        assert_correct(result, 100, 1, questions=2)
        assert result["paired"] is True
        # the partner's turns are accounted apart, not as this run's question phase
        assert {"turn", "question", "answers", "reveal"} <= result["server_usage"]["cpu_s"].keys()
    assert (kk["first_in_turn"], base["first_in_turn"]) == (True, False)
    assert kk["answers"]["export_missing"] == 0
    for kind in ("view_question", "view_reveal", "view_scoreboard", "me_reveal"):
        # padded to within a msgpack length prefix of Kenniskring's frame
        assert kk["sizes"][kind] - 3 <= base["sizes"][kind] <= kk["sizes"][kind], kind


def test_a_candidate_named_first_plays_first_in_every_turn(tmp_path: Path) -> None:
    """`--servers candidate,kenniskring` is played in turn like `kenniskring,candidate`, with
    the candidate first in each turn (not one whole run after the other); the baseline cannot
    go first, as it pads its frames to the Kenniskring turn before it."""
    root = Path(__file__).resolve().parents[2]

    def bench(servers: str, out: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bench", "--phones", "30", "--questions", "2"]
        command += ["--candidate-root", str(root), "--no-plot", "--servers", servers]
        command += ["--out", str(tmp_path / out)]
        return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=240)

    played = bench("candidate,kenniskring", "ab")
    assert played.returncode == 0, played.stdout[-2000:] + played.stderr[-2000:]
    runs = json.loads((tmp_path / "ab" / "results.json").read_text())["runs"]
    order = [(run["server"], run["paired"], run["first_in_turn"]) for run in runs]
    assert order == [("candidate", True, True), ("kenniskring", True, False)]
    for run in runs:
        assert_correct(run, 30, 1, questions=2)
    refused = bench("baseline,kenniskring", "no")
    assert refused.returncode == 2
    assert "put kenniskring first, or add --sequential" in refused.stderr


def _allowed_cpus(pid: int) -> set[int]:
    return os.sched_getaffinity(pid)


def test_a_big_room_on_a_pinned_server(tmp_path: Path) -> None:
    """320 phones, above the 300 from which Kenniskring writes a room's shared views at once and
    previews the reveal before the scoring (server/hub/fanout.py): every phone still gets the
    question, the reveal, its own result and the scoreboard, each view once. With `--pin`'s
    `cpus` the server runs on the CPU it was given, and the run counts its preemptions."""
    cpu = max(os.sched_getaffinity(0))
    server = ServerProc("kenniskring", tmp_path, cpus=frozenset({cpu}))
    cfg = quick(320, procs=2, think_max=0.5)
    server.start()
    try:
        assert _allowed_cpus(server.pid) == {cpu}
        result = asyncio.run(run_once(server, cfg, log=lambda *_: None))
    finally:
        server.stop()
    assert_correct(result, 320, 1)
    assert result["answers"]["export_missing"] == 0
    for kind in ("view_question", "view_reveal", "view_scoreboard", "me_reveal"):
        assert result["frames_per_phone"][kind] == 1.0, kind
    preempted = result["server_usage"]["preempted"]
    assert {"question", "reveal", "scoreboard"} <= preempted.keys()
    assert all(isinstance(n, int) and n >= 0 for n in preempted.values())


def test_storm_and_soak_modes_run_and_report(tmp_path: Path) -> None:
    """`python -m bench storm` and `soak` (bench/lifecycle.py) against a real server: every phone
    comes back after each storm, the soak plays rounds, and both write their JSON."""
    import json

    from bench.lifecycle import main as lifecycle

    storm_out = tmp_path / "storm.json"
    assert lifecycle(["storm", "--phones", "60", "--storms", "2", "--out", str(storm_out)]) == 0
    storm = json.loads(storm_out.read_text())["result"]
    assert [s["back"] for s in storm["storms"]] == [60, 60]
    assert all(s["all_back"] and s["errors"] == 0 for s in storm["storms"])
    assert storm["fds_after_leave"] <= storm["fds_before_join"] + 2
    # every probe is kept (sent, latency, status, connect time), and pooled over the storms
    probes = [p for s in storm["storms"] for p in s["probes"]]
    assert probes and all(len(p) == 4 and p[2] == 200 for p in probes)
    pooled = storm["healthz_ms_all_storms"]
    assert pooled["n"] == sum(s["healthz_ms"]["n"] for s in storm["storms"]) > 0

    soak_out = tmp_path / "soak.json"
    args = ["soak", "--phones", "40", "--per-room", "20", "--minutes", "0.6", "--session", "12"]
    args += ["--step", "0.8", "--sample", "5", "--churn-every", "5", "--settle", "1"]
    assert lifecycle([*args, "--out", str(soak_out)]) == 0
    soak = json.loads(soak_out.read_text())["result"]
    assert soak["questions"] > 0 and soak["tally"]["acks"] > 0
    assert soak["sessions"] >= 2
    assert not soak["tally"]["errors"].get("bad_token")
    assert soak["fds"]["settled"] <= soak["fds"]["start"] + 2


def test_storm_with_pin_runs_the_server_on_its_own_cpu(tmp_path: Path) -> None:
    """`python -m bench storm --pin`: the server on the last CPU, the phones and the /healthz
    probes on the others (recorded), every phone back; with a single CPU it says why not."""
    import json
    import subprocess
    import sys

    out = tmp_path / "storm.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "storm",
            "--phones",
            "40",
            "--storms",
            "1",
            "--pin",
            "--out",
            str(out),
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        assert run.returncode == 2 and "--pin needs more CPUs" in run.stderr, run.stderr
        return
    assert run.returncode == 0, run.stderr[-2000:]
    record = json.loads(out.read_text())
    assert record["machine"]["pinned"] == {"servers": cpus[-1:], "generator": cpus[:-1]}
    assert record["result"]["storms"][0]["back"] == 40


@pytest.mark.redis
def test_the_snapshot_bench_reads_a_room_with_and_without_reuse() -> None:
    """`python -m bench.snapshot` starts its own redis-server, reads a room of N the way a
    render does and prints the CPU per read; with `--no-reuse` every reply is converted anew.
    Correctness only: the figures are never compared here."""
    root = Path(__file__).resolve().parents[2]
    for flags, reuse in (([], True), (["--no-reuse"], False)):
        command = [sys.executable, "-m", "bench.snapshot", "--players", "30", "--reads", "50"]
        run = subprocess.run(command + flags, cwd=root, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
        shown = json.loads(run.stdout.strip().splitlines()[-1])
        assert shown["players"] == 30 and shown["reads"] == 50 and shown["reuse"] is reuse
        assert shown["cpu_us_per_read"] > 0 and shown["wall_us_per_read"] > 0
