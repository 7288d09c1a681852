"""bench/model.py: unit costs from a run predict that run back, and scale with the day."""

from __future__ import annotations

from typing import Any

import pytest

from bench.model import Costs, Day, measured, plan, predict


def run(phones: int = 2000, rooms: int = 20, workers: int = 2) -> dict[str, Any]:
    def phase(calls: int, usec_per_op: float, ops: int) -> dict[str, Any]:
        return {"operations": ops, "calls": calls, "redis_usec_per_op": usec_per_op}

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
            "question": phase(1000, 500.0, rooms),
            "reveal": phase(1000, 400.0, rooms),
            "scoreboard": phase(1000, 300.0, rooms),
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
    # Every worker with sockets in a room reads it for its renders: 8 workers, 4× the steps.
    spread = predict(costs, Day(20000, 200, 8))
    assert spread["steps Redis CPU s"] == pytest.approx(4 * big["steps Redis CPU s"])


def test_the_plan_names_what_runs_out_first() -> None:
    costs = Costs.of(run())
    lines = plan(costs, Day(100000, 500, 4), join_window_s=60, phones_per_worker=5000)
    assert lines[-1] == "  runs out first: phones per worker"  # 25,000 a worker: 5× too many
    sharded = plan(costs, Day(100000, 500, 200), join_window_s=60, phones_per_worker=5000)
    assert sharded[-1] == "  runs out first: one Redis core for the host steps"
