"""A worker's decoded rooms (server/hub/decoded.py): decoded once, never a stale answer."""

from __future__ import annotations

from server.activities import quiz as q
from server.hub.decoded import ROOM_CACHE, Decoded
from server.hub.room import Item, Room, pack


def _room() -> Room:
    return Room(
        code="123456",
        secret="x",
        join_url="http://kk.test/join/123456",
        team="Team Noord",
        programme=[Item("quiz", "Testquiz")],
        state=q.QuizState(),
    )


def _record(choice: int, nonce: str) -> bytes:
    return pack({"ms": 1200, "choice": choice, "n": nonce})


def test_content_is_only_handed_out_for_the_room_it_was_read_for() -> None:
    kept = Decoded()
    content = {"title": "Quiz"}
    kept.keep_content("123456", 0, 100.0, content)
    assert kept.content("123456", 0, 100.0) is content
    assert kept.content("123456", 0, None) is content
    # The code was handed out again to a room created later: its content must be read.
    assert kept.content("123456", 0, 200.0) is None
    assert kept.content("123456", 1, 100.0) is None
    kept.forget_content("123456")
    assert kept.content("123456", 0, 100.0) is None


def test_names_come_in_join_order_and_follow_a_changed_table() -> None:
    kept = Decoded()
    first = kept.names("123456", {"p2": b"Bram", "p1": b"Anna"})
    assert list(first.items()) == [("p1", "Anna"), ("p2", "Bram")]
    assert kept.names("123456", {"p1": b"Anna", "p2": b"Bram"}) is first  # unchanged: kept
    renamed = kept.names("123456", {"p1": b"Anna", "p2": b"Bram", "p3": b"Chris"})
    assert renamed == {"p1": "Anna", "p2": "Bram", "p3": "Chris"}


def test_each_stored_record_is_decoded_once_and_a_new_one_again() -> None:
    kept, room = Decoded(), _room()
    raw = {"p1": _record(0, "a"), "p2": _record(1, "b")}
    first = kept.inputs("123456", "i0:answers", raw, room)
    assert set(first) == {"p1", "p2"}
    again = kept.inputs("123456", "i0:answers", dict(raw), room)
    assert again is first  # the same table as read before
    grown = kept.inputs("123456", "i0:answers", {**raw, "p3": _record(2, "c")}, room)
    assert grown["p1"] is first["p1"] and grown["p2"] is first["p2"]  # not decoded again
    assert set(grown) == {"p1", "p2", "p3"}
    overwritten = kept.inputs("123456", "i0:answers", {**raw, "p1": _record(3, "d")}, room)
    assert overwritten["p1"] is not first["p1"]  # a new record under the same player
    assert kept.known_inputs("123456", "i0:answers") is overwritten
    # Another round's table never gets this one's records.
    assert kept.known_inputs("123456", "i1:answers") is None
    assert kept.inputs("123456", "i1:answers", {}, room) == {}


def test_present_and_the_gate_belong_to_their_round() -> None:
    kept = Decoded()
    assert kept.present("123456", "i0:answers") is None
    assert kept.keep_present("123456", "i0:answers", pack(["p1", "p2"])) == {"p1", "p2"}
    assert kept.present("123456", "i0:answers") == {"p1", "p2"}
    assert kept.present("123456", "i1:answers") is None  # the next round reads its own
    assert kept.keep_present("123456", "i1:answers", None) == frozenset()
    kept.keep_gate("123456", b"gate")
    assert kept.gate("123456") == b"gate"
    kept.keep_gate("123456", None)
    assert kept.gate("123456") is None


def test_forgetting_a_room_drops_what_was_decoded_of_it_only() -> None:
    kept, room = Decoded(), _room()
    for code in ("111111", "222222"):
        kept.names(code, {"p1": b"Anna"})
        kept.inputs(code, "i0:answers", {"p1": _record(0, "a")}, room)
        kept.keep_present(code, "i0:answers", pack(["p1"]))
        kept.keep_gate(code, b"gate")
    kept.forget("111111")
    assert kept.known_inputs("111111", "i0:answers") is None
    assert kept.present("111111", "i0:answers") is None and kept.gate("111111") is None
    assert kept.known_inputs("222222", "i0:answers") is not None
    assert kept.present("222222", "i0:answers") == {"p1"} and kept.gate("222222") == b"gate"


def test_a_full_cache_starts_over_instead_of_growing() -> None:
    kept = Decoded()
    codes = [f"{n:06d}" for n in range(ROOM_CACHE)]
    for code in codes:
        kept.keep_gate(code, b"gate")
    assert all(kept.gate(code) == b"gate" for code in codes)
    kept.keep_gate("999999", b"gate")  # one room more: the cache starts over with it
    assert kept.gate("999999") == b"gate"
    assert all(kept.gate(code) is None for code in codes)
    kept.keep_gate("999999", b"other")  # a kept room is updated in place
    assert kept.gate("999999") == b"other"
