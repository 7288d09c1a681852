"""bench/model.py: unit costs from a run predict that run back, and scale with the day."""

from __future__ import annotations

from typing import Any

import pytest

from bench.model import Costs, Day, measured, plan, predict, redis_measure, run_spread


def run(phones: int = 2000, rooms: int = 20, workers: int = 2) -> dict[str, Any]:
    def phase(calls: int, usec_per_op: float, ops: int) -> dict[str, Any]:
        return {"operations": ops, "calls": calls, "redis_usec_per_op": usec_per_op}

    def step(usec_per_op: float) -> dict[str, Any]:
        """A host step whose commands' time is half scripts, half the renders' reads."""
        by_command = {
            "evalsha": {"calls": rooms, "per_op": 1.0, "usec": 500},
            "hgetall": {"calls": rooms, "per_op": 1.0, "usec": 500},
        }
        return {**phase(1000, usec_per_op, rooms), "by_command": by_command}

    return {
        "server": "kenniskring",
        "phones": phones,
        "rooms": rooms,
        "workers": workers,
        "questions": 1,
        "server_usage": {
            "cpu_s": {
                "join": 2.0,
                "question": 0.2,
                "answers": 1.0,
                "reveal": 0.3,
                "scoreboard": 0.1,
            },
            "kib_per_idle_phone": 25.0,
            "rss_kib_before_join": 3 * 40 * 1024,
            "rss_kib_idle": 3 * 40 * 1024 + phones * 25,
            "processes": 3,
        },
        "redis_commands": {
            "join": phase(40000, 100.0, phones),
            "answers": phase(8000, 25.0, phones),
            "question": step(500.0),
            "reveal": step(400.0),
            "scoreboard": step(300.0),
        },
    }


def test_a_run_predicts_itself() -> None:
    calibration = run()
    got = measured(calibration)
    want = predict(Costs.of(calibration), Day(2000, 20, 2))
    assert want.keys() == got.keys()
    for key, value in want.items():
        assert value == pytest.approx(got[key], rel=1e-6), key


def test_costs_scale_with_phones_rooms_and_the_workers_a_room_is_spread_over() -> None:
    costs = Costs.of(run())
    small, big = predict(costs, Day(2000, 20, 2)), predict(costs, Day(20000, 200, 2))
    assert big["join worker CPU s"] == pytest.approx(10 * small["join worker CPU s"])
    assert big["answers Redis CPU s"] == pytest.approx(10 * small["answers Redis CPU s"])
    assert big["steps Redis CPU s"] == pytest.approx(10 * small["steps Redis CPU s"])
    # A step's scripts run once per room; every worker with sockets in the room reads it for
    # its renders: on 8 workers the reads (half of the 1,200 µs a room) 4×, the scripts 1×.
    spread = predict(costs, Day(20000, 200, 8))
    assert big["steps Redis CPU s"] == pytest.approx(200 * (600 + 600) / 1e6)
    assert spread["steps Redis CPU s"] == pytest.approx(200 * (600 + 4 * 600) / 1e6)


def test_the_plan_names_what_runs_out_first() -> None:
    costs = Costs.of(run())
    lines = plan(costs, Day(100000, 500, 4), join_window_s=60, phones_per_worker=5000)
    assert lines[-1] == "  runs out first: phones per worker"  # 25,000 a worker: 5× too many
    sharded = plan(costs, Day(100000, 500, 200), join_window_s=60, phones_per_worker=5000)
    assert sharded[-1] == "  runs out first: one Redis core for the host steps"


def test_the_answers_window_is_the_calibration_runs_think_time() -> None:
    quiz_pace = {**run(), "config": {"think_min": 0.5, "think_max": 10.0}}
    assert Costs.of(quiz_pace).answer_window_s == pytest.approx(9.5)
    assert Costs.of(run()).answer_window_s == pytest.approx(5.0)  # a record without it


def test_a_questions_worker_cpu_counts_against_the_workers_cores() -> None:
    # 1.6 worker CPU s per question for 2,000 phones: 80 s for 100,000, over 20 workers.
    costs = Costs.of({**run(), "config": {"think_min": 0.0, "think_max": 5.0}})
    lines = plan(costs, Day(100000, 500, 20), join_window_s=60, phones_per_worker=5000)
    assert "worker cores while answering 80%" in lines[-2]
    assert lines[-1] == "  runs out first: phones per worker"  # 100 %
    # The same answers within 1 s: each worker would need four cores.
    rushed = plan(costs, Day(100000, 500, 20), 60, 5000, answer_window_s=1.0)
    assert "worker cores while answering 400%" in rushed[-2]
    assert rushed[-1] == "  runs out first: worker cores while answering"


def test_the_redis_processs_cpu_is_taken_where_the_record_has_it() -> None:
    calibration = run()
    calibration["redis_commands"]["answers"]["redis_cpu_us_per_op"] = 60.0  # beside 25.0
    costs = Costs.of(calibration)
    assert costs.redis_answer_us == 60.0
    assert costs.redis_join_us == 100.0  # no process CPU for the join: the commands' time
    assert measured(calibration)["answers Redis CPU s"] == pytest.approx(2000 * 60e-6)
    assert redis_measure(calibration) == "the redis-server process's CPU"
    assert redis_measure(run()).startswith("the commands' time")


def test_the_answers_renders_read_the_room_once_per_worker_holding_it() -> None:
    calibration = run()  # 2 workers, 100 phones a room: both hold sockets of every room
    calibration["redis_commands"]["answers"]["by_command"] = {
        "evalsha": {"calls": 2000, "per_op": 1.0, "usec": 30000},  # storing the answers
        "hgetall": {"calls": 3000, "per_op": 1.5, "usec": 16000},  # the renders' reads
        "mget": {"calls": 1000, "per_op": 0.5, "usec": 2000},
        "get": {"calls": 1000, "per_op": 0.5, "usec": 2000},
    }
    costs = Costs.of(calibration)  # 25 µs an answer, 40 % of it reads: 10 µs over 2 workers
    assert costs.redis_answer_us == pytest.approx(15.0)
    assert costs.redis_answer_reads_us == pytest.approx(5.0)
    assert predict(costs, Day(2000, 20, 2))["answers Redis CPU s"] == pytest.approx(
        measured(calibration)["answers Redis CPU s"]
    )
    # 20,000 phones in rooms of 100 on 8 workers: every room on all 8, its reads 4×.
    spread = predict(costs, Day(20000, 200, 8))["answers Redis CPU s"]
    assert spread == pytest.approx(20000 * (15 + 8 * 5) / 1e6)


def test_room_affinity_keeps_a_rooms_reads_to_the_workers_holding_it() -> None:
    costs = Costs.of(run())
    everywhere = predict(costs, Day(20000, 200, 8))  # every room on all 8 workers
    affine = predict(costs, Day(20000, 200, 8, spread=2))  # a balancer hashing on the room
    assert everywhere["steps Redis CPU s"] == pytest.approx(200 * (600 + 8 * 300) / 1e6)
    assert affine["steps Redis CPU s"] == pytest.approx(200 * (600 + 2 * 300) / 1e6)
    assert affine["join worker CPU s"] == everywhere["join worker CPU s"]


def test_a_run_with_affinity_is_calibrated_and_checked_with_one_worker_per_room() -> None:
    """`--affinity` records: each room on one worker, so the reads measured are one worker's,
    and a check against such a run predicts it with one worker per room."""
    spread_run, affine_run = run(), {**run(), "affinity": True}
    spread, affine = Costs.of(spread_run), Costs.of(affine_run)
    assert affine.redis_step_reads_us == pytest.approx(2 * spread.redis_step_reads_us)
    assert affine.redis_step_us == pytest.approx(spread.redis_step_us)  # the scripts: per room
    assert run_spread(affine_run) == 1 and run_spread(spread_run) == 2
    # Calibrated on the spread run, the affinity day reads each room once instead of twice:
    # the steps' Redis CPU is the scripts' half plus half of the reads' half.
    day = Day(2000, 20, 2, spread=run_spread(affine_run))
    assert predict(spread, day)["steps Redis CPU s"] == pytest.approx(
        0.75 * measured(spread_run)["steps Redis CPU s"]
    )
