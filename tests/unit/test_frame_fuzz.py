"""Arbitrary msgpack at the frame parser: a frame or a documented error, never anything else."""

from __future__ import annotations

import msgpack
from hypothesis import given, settings

from server.hub.errors import HubError
from server.web.ws import HANDLERS, parse_frame
from tests.support.fuzz import frames

LIMIT = 4096


@settings(max_examples=600, deadline=None)
@given(data=frames)
def test_parse_frame_returns_a_frame_or_a_documented_error(data: bytes | str) -> None:
    raw = data.encode() if isinstance(data, str) else data
    try:
        frame = parse_frame(raw, LIMIT)
    except HubError as exc:
        assert exc.code in ("bad_frame", "frame_too_large")
        if len(raw) > LIMIT:
            assert exc.code == "frame_too_large"
        return
    assert isinstance(frame, dict) and frame["type"] in HANDLERS
    assert len(raw) <= LIMIT


def test_every_kind_of_frame_the_fuzzer_makes_is_reachable() -> None:
    """The strategy is not vacuous: it makes frames the parser accepts and ones it refuses."""
    accepted = parse_frame(msgpack.packb({"type": "ping", "x": [1, {"y": None}]}), LIMIT)
    assert accepted["type"] == "ping"
    for bad in (msgpack.packb({1: "int key"}), msgpack.packb({"type": {"nested": 1}})):
        try:
            parse_frame(bad, LIMIT)
        except HubError as exc:
            assert exc.code == "bad_frame"
        else:
            raise AssertionError(bad)
