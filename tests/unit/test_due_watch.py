"""When a worker asks a group of the due set for due ticks (server/hub/due_watch.py)."""

from __future__ import annotations

from server.hub.due_watch import DueWatch

NOW = 1_700_000_000.0


def test_a_group_never_asked_is_asked() -> None:
    assert DueWatch().should_ask(3, NOW)


def test_after_an_empty_claim_the_group_waits_for_the_idle_ask() -> None:
    watch = DueWatch(idle_ask_s=0.5)
    watch.asking(0, NOW)
    watch.answered(0, None)
    assert not watch.should_ask(0, NOW + 0.49)
    assert watch.should_ask(0, NOW + 0.5)


def test_a_tick_asked_for_here_is_claimed_when_due() -> None:
    watch = DueWatch(idle_ask_s=0.5)
    watch.asking(0, NOW)
    watch.answered(0, None)
    watch.scheduled(0, NOW + 0.2)
    watch.scheduled(0, NOW + 0.3)  # a later one does not put it off
    assert not watch.should_ask(0, NOW + 0.19)
    assert watch.should_ask(0, NOW + 0.2)
    watch.asking(1, NOW)
    watch.answered(1, None)
    assert not watch.should_ask(1, NOW + 0.2)  # only its own group


def test_the_earliest_tick_a_claim_reports_is_asked_for_at_its_time() -> None:
    watch = DueWatch(idle_ask_s=10)
    watch.asking(0, NOW)
    watch.answered(0, NOW + 3)  # another worker's tick, seen by this claim
    assert not watch.should_ask(0, NOW + 2.9)
    assert watch.should_ask(0, NOW + 3)


def test_a_tick_asked_for_while_a_claim_is_under_way_is_kept() -> None:
    watch = DueWatch(idle_ask_s=10)
    watch.asking(0, NOW)
    watch.scheduled(0, NOW + 1)  # the claim may have read the set before this
    watch.answered(0, None)
    assert watch.should_ask(0, NOW + 1)


def test_what_was_known_before_a_claim_is_forgotten_once_it_is_sent() -> None:
    """The claim reads the set afresh; a removed tick is not asked for again."""
    watch = DueWatch(idle_ask_s=10)
    watch.scheduled(0, NOW + 1)
    watch.asking(0, NOW)
    watch.answered(0, None)
    assert not watch.should_ask(0, NOW + 1)


def test_a_claim_without_a_reply_is_asked_again_at_once() -> None:
    watch = DueWatch(idle_ask_s=10)
    watch.asking(0, NOW)
    watch.failed(0)
    assert watch.should_ask(0, NOW + 0.05)


def test_removing_a_tick_changes_nothing() -> None:
    watch = DueWatch(idle_ask_s=10)
    watch.asking(0, NOW)
    watch.answered(0, None)
    watch.scheduled(0, 0)
    assert not watch.should_ask(0, NOW + 5)


def test_a_clock_that_went_back_does_not_stop_the_idle_asks() -> None:
    """The hub's clock is wall time; after a step back the group is asked again at once."""
    watch = DueWatch(idle_ask_s=0.5)
    watch.asking(0, NOW)
    watch.answered(0, None)
    assert watch.should_ask(0, NOW - 3600)
