"""When a subscription counts as deaf (server/hub/heartbeat.py), on a clock the test sets."""

from __future__ import annotations

from server.hub.heartbeat import HEARTBEAT_DEADLINE, Heartbeat


def started(now: float = 0.0) -> Heartbeat:
    heartbeat = Heartbeat()
    heartbeat.restart(now)
    return heartbeat


def test_a_delivered_heartbeat_that_goes_unheard_makes_the_subscription_deaf() -> None:
    heartbeat = started()
    number, _ = heartbeat.next()
    heartbeat.delivered(number, sent_at=1.0)
    assert not heartbeat.deaf(1.0 + HEARTBEAT_DEADLINE)
    assert heartbeat.deaf(1.1 + HEARTBEAT_DEADLINE)


def test_a_heartbeat_not_delivered_yet_says_nothing_about_the_subscription() -> None:
    """Waiting for a pooled connection (or for a busy Redis) for longer than the deadline."""
    heartbeat = started()
    number, _ = heartbeat.next()
    assert not heartbeat.deaf(60.0)
    heartbeat.delivered(number, sent_at=0.5)  # Redis took it at last and delivered it
    assert heartbeat.deaf(60.0)  # counted from when it was sent: a long wait is no excuse now


def test_hearing_the_heartbeat_clears_it_even_before_redis_confirms_it() -> None:
    heartbeat = started()
    number, payload = heartbeat.next()
    heartbeat.heard(1.2, payload)  # the subscriber may hear it before the publish returns
    heartbeat.delivered(number, sent_at=1.0)
    assert not heartbeat.deaf(30.0)


def test_a_later_heartbeat_heard_covers_the_earlier_ones() -> None:
    heartbeat = started()
    first, _ = heartbeat.next()
    heartbeat.delivered(first, sent_at=1.0)
    second, payload = heartbeat.next()
    heartbeat.delivered(second, sent_at=2.0)
    heartbeat.heard(2.1, payload)
    assert not heartbeat.deaf(30.0)
    third, _ = heartbeat.next()
    heartbeat.delivered(third, sent_at=3.0)
    assert heartbeat.deaf(3.1 + HEARTBEAT_DEADLINE)


def test_other_messages_heard_after_the_heartbeat_went_out_show_it_is_not_deaf() -> None:
    """A listener working through a backlog hears its heartbeat a little later."""
    heartbeat = started()
    number, _ = heartbeat.next()
    heartbeat.delivered(number, sent_at=1.0)
    heartbeat.heard(3.5)  # a room's message
    assert not heartbeat.deaf(3.5 + HEARTBEAT_DEADLINE)
    assert heartbeat.deaf(3.6 + HEARTBEAT_DEADLINE)


def test_a_new_subscription_owes_nothing_of_the_old_one() -> None:
    heartbeat = started()
    number, _ = heartbeat.next()
    heartbeat.delivered(number, sent_at=1.0)
    heartbeat.restart(10.0)
    assert not heartbeat.deaf(10.0 + HEARTBEAT_DEADLINE + 5)
