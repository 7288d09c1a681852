"""server/hub/attendance.py: who an open question waits for (pure)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from server.hub.attendance import attendance

NOW = 1000.0
PLAYERS = ["p1", "p2", "p3", "p4", "p5"]


def test_connected_players_are_waited_for() -> None:
    a = attendance(PLAYERS, set(PLAYERS), {"p1"}, set(PLAYERS), {}, NOW, 3.0)
    assert a.expected == set(PLAYERS) and a.answered == {"p1"} and not a.complete


def test_a_dropped_phone_counts_for_its_grace_only() -> None:
    online = {"p2", "p3", "p4", "p5"}
    answered = {"p2", "p3", "p4", "p5"}
    within = attendance(PLAYERS, online, answered, set(PLAYERS), {"p1": NOW - 1}, NOW, 3.0)
    assert within.expected == set(PLAYERS) and not within.complete
    assert within.wake == NOW + 2
    after = attendance(PLAYERS, online, answered, set(PLAYERS), {"p1": NOW - 3}, NOW, 3.0)
    assert after.expected == answered and after.complete and after.wake is None


def test_a_player_present_at_the_opening_who_vanished_unnoticed_starts_a_grace_now() -> None:
    a = attendance(PLAYERS, {"p2"}, {"p2"}, {"p1", "p2"}, {}, NOW, 3.0, 10.0)
    assert a.unnoticed == {"p1"} and "p1" in a.expected and a.wake == NOW + 10
    assert not a.complete
    # Recorded as the caller does, the same grace follows from the record.
    later = attendance(
        PLAYERS, {"p2"}, {"p2"}, {"p1", "p2"}, {"p1": a.unnoticed_since}, NOW + 9, 3.0, 10.0
    )
    assert "p1" in later.expected and not later.unnoticed
    after = attendance(
        PLAYERS, {"p2"}, {"p2"}, {"p1", "p2"}, {"p1": a.unnoticed_since}, NOW + 10, 3.0, 10.0
    )
    assert after.expected == {"p2"} and after.complete


def test_players_gone_before_the_question_are_not_waited_for() -> None:
    a = attendance(PLAYERS, {"p2"}, set(), {"p2"}, {"p1": NOW - 600}, NOW, 3.0)
    assert a.expected == {"p2"}


def test_nobody_to_wait_for_is_not_complete() -> None:
    assert not attendance(PLAYERS, set(), set(), set(), {}, NOW, 3.0).complete


def test_a_removed_player_neither_counts_nor_is_waited_for() -> None:
    a = attendance(["p2"], {"p1", "p2"}, {"p1", "p2"}, {"p1", "p2"}, {}, NOW, 3.0)
    assert a.expected == {"p2"} and a.answered == {"p2"} and a.complete


@given(
    online=st.sets(st.sampled_from(PLAYERS)),
    answered=st.sets(st.sampled_from(PLAYERS)),
    present=st.sets(st.sampled_from(PLAYERS)),
    left=st.dictionaries(st.sampled_from(PLAYERS), st.floats(NOW - 10, NOW)),
)
def test_the_counter_and_the_close_agree(
    online: set[str], answered: set[str], present: set[str], left: dict[str, float]
) -> None:
    a = attendance(PLAYERS, online, answered, present, left, NOW, 3.0)
    assert a.answered <= a.expected
    assert online <= a.expected
    # "count of of" with count == of (and of > 0) is exactly when the question closes.
    assert a.complete == (len(a.answered) == len(a.expected) > 0)
