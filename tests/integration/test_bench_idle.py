"""`python -m bench idle` starts a real server, reads its CPU over a quiet span and stops it:
correctness only (what an idle server costs is measured by the command, never asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main


def test_the_idle_bench_measures_a_server_and_leaves_nothing_running(tmp_path: Path) -> None:
    out = tmp_path / "idle.json"
    argv = ["idle", "--workers", "1", "--redis-url", "", "--settle", "0.5", "--seconds", "0.5"]
    assert main([*argv, "--repeat", "2", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["command"].startswith("python -m bench idle --workers 1")
    assert [run["server"] for run in record["runs"]] == ["kenniskring", "kenniskring"]
    for run in record["runs"]:
        assert 0 <= run["server_cpu_s"] < 0.5 * 4  # a share of the span, not the start-up
        assert run["server_core_share"] == round(run["server_cpu_s"] / 0.5, 4)
        assert run["redis_cpu_s"] == 0  # no Redis: the memory backend
