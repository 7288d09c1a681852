"""The sticker storm of bench/stickers.py against a real server: correctness only (speed is
measured by `python -m bench.stickers`, never asserted here). Every placement is acknowledged, no
phone gets a view during the storm, the projector's counters are coalesced, and the projector,
the ranking after the close and the export all equal the sum of the final placements."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.servers import ServerProc, raise_nofile
from bench.stickers import StormConfig, ok, storm


def test_a_short_storm_is_counted_exactly(tmp_path: Path) -> None:
    raise_nofile()
    server = ServerProc("kenniskring", tmp_path / "logs")
    cfg = StormConfig(phones=150, procs=1, duration=2.0, cards=8, moves=4)
    server.start()
    try:
        result = asyncio.run(storm(server, cfg, log=lambda *_: None))
    finally:
        server.stop()
    assert ok(result), result
    assert result["acks"]["n"] == 150 * (6 + 4)
    assert result["refused"] == 0 and result["errors"] == {}
    assert result["phone_views"] == 0  # phones only get their own `me`
    assert result["projector"]["max_in_1s"] <= 6
    assert result["counts"]["placed"] == 150 * 6
