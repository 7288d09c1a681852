"""A room's Redis replies are converted once per change (server/hub/redis_replies.py)."""

from __future__ import annotations

from typing import Any

from server.hub.redis_replies import Presence, RoomReplies, pairs, texts


def test_an_equal_reply_gives_the_conversion_made_before_and_a_changed_one_a_new_one() -> None:
    replies = RoomReplies()
    made: list[dict[Any, Any]] = []

    def convert(raw: dict[Any, Any]) -> dict[str, bytes]:
        made.append(raw)
        return texts(raw)

    first = replies.converted(("ABCD", "players"), {b"p1": b"Anna"}, convert)
    again = replies.converted(("ABCD", "players"), {b"p1": b"Anna"}, convert)
    assert again is first and len(made) == 1

    renamed = replies.converted(("ABCD", "players"), {b"p1": b"Anne"}, convert)
    assert renamed == {"p1": b"Anne"} and len(made) == 2
    # Another room or another table with the same bytes is its own entry.
    other = replies.converted(("WXYZ", "players"), {b"p1": b"Anne"}, convert)
    assert other == renamed and other is not renamed and len(made) == 3


def test_presence_is_grouped_by_the_worker_that_holds_it() -> None:
    raw = {b"p1|c1": b"w1", b"p2|c2": b"w2", b"p1|c3": b"w2", b"p3|c4": b"w1"}
    held = Presence.of(raw)
    assert held.players == {"w1": {"p1", "p3"}, "w2": {"p1", "p2"}}
    assert sorted(held.fields["w2"]) == [b"p1|c3", b"p2|c2"]


def test_a_flat_script_reply_reads_as_the_same_table() -> None:
    assert pairs([b"p1", b"Anna", "p2", "Bo"]) == texts({b"p1": b"Anna", "p2": "Bo"})
    assert pairs([]) == {}


def test_a_full_cache_starts_over_and_still_converts_correctly(monkeypatch: Any) -> None:
    monkeypatch.setattr("server.hub.redis_replies.ROOM_REPLIES", 2)
    replies = RoomReplies()
    for code in ("A", "B", "C"):
        assert replies.converted((code, "t"), {b"k": code.encode()}, texts) == {"k": code.encode()}
    assert replies.converted(("A", "t"), {b"k": b"changed"}, texts) == {"k": b"changed"}
