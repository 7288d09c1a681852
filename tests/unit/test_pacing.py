"""The render pacer: longer coalescing pauses while many rooms keep a worker busy."""

from __future__ import annotations

from server.hub.pacing import SAMPLE_S, Pacer


class Meter:
    """A worker's wall clock and CPU time, moved by the test."""

    def __init__(self) -> None:
        self.wall = 100.0
        self.cpu = 5.0

    def run(self, seconds: float, share: float) -> None:
        self.wall += seconds
        self.cpu += seconds * share


def make() -> tuple[Meter, Pacer]:
    meter = Meter()
    return meter, Pacer(cpu=lambda: meter.cpu, wall=lambda: meter.wall)


def test_an_idle_worker_keeps_the_base_pause() -> None:
    meter, pacer = make()
    for _ in range(10):
        meter.run(SAMPLE_S, 0.2)
        assert pacer.pause(0.1, rooms=100) == 0.1


def test_a_busy_worker_with_many_rooms_doubles_the_pause_up_to_a_second() -> None:
    meter, pacer = make()
    pauses = []
    for _ in range(6):
        meter.run(SAMPLE_S, 0.95)
        pauses.append(pacer.pause(0.1, rooms=100))
    assert pauses == [0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    # A base pause above the longest one is kept as it is.
    assert pacer.pause(2.0, rooms=100) == 2.0


def test_one_busy_room_is_not_slowed() -> None:
    meter, pacer = make()
    for _ in range(6):
        meter.run(SAMPLE_S, 1.0)
        assert pacer.pause(0.1, rooms=1) == 0.1


def test_the_pause_comes_back_once_the_worker_is_idle_again() -> None:
    meter, pacer = make()
    for _ in range(3):
        meter.run(SAMPLE_S, 0.9)
        pacer.pause(0.1, rooms=50)
    assert pacer.pause(0.1, rooms=50) == 0.8
    back = []
    for _ in range(4):
        meter.run(SAMPLE_S, 0.1)
        back.append(pacer.pause(0.1, rooms=50))
    assert back == [0.4, 0.2, 0.1, 0.1]


def test_a_long_busy_spell_is_recovered_from_as_fast_as_a_short_one() -> None:
    """The factor stops growing once the shortest pause reached the longest one: after a
    minute of load the pause is back to the base in four idle readings, not six or more."""
    meter, pacer = make()
    for _ in range(240):
        meter.run(SAMPLE_S, 0.95)
        assert pacer.pause(0.1, rooms=100) <= 1.0
    back = []
    for _ in range(5):
        meter.run(SAMPLE_S, 0.1)
        back.append(pacer.pause(0.1, rooms=100))
    assert back == [0.8, 0.4, 0.2, 0.1, 0.1]


def test_between_samples_the_pause_does_not_change() -> None:
    meter, pacer = make()
    meter.run(SAMPLE_S, 1.0)
    assert pacer.pause(0.1, rooms=20) == 0.2
    meter.run(SAMPLE_S / 10, 1.0)  # too soon for a new reading
    assert pacer.pause(0.1, rooms=20) == 0.2


def late(pacer: Pacer, seconds: float, pauses: int = 10) -> None:
    """`pauses` render pauses of 0.1 s that each ran out `seconds` late."""
    for _ in range(pauses):
        pacer.ended(0.1, 0.1 + seconds)


def test_a_late_event_loop_doubles_the_pause_even_while_the_worker_uses_little_cpu() -> None:
    """A machine short of cores: the worker gets half a core, and its loop turns come late."""
    meter, pacer = make()
    pauses = []
    for _ in range(3):
        meter.run(SAMPLE_S, 0.5)
        late(pacer, 0.040)
        pauses.append(pacer.pause(0.1, rooms=100))
    assert pauses == [0.2, 0.4, 0.8]


def test_a_loop_a_little_late_neither_doubles_nor_halves_the_pause() -> None:
    meter, pacer = make()
    meter.run(SAMPLE_S, 0.9)
    assert pacer.pause(0.1, rooms=100) == 0.2
    for _ in range(3):
        meter.run(SAMPLE_S, 0.1)  # CPU idle, but turns still 10 ms late on average
        late(pacer, 0.010)
        assert pacer.pause(0.1, rooms=100) == 0.2
    meter.run(SAMPLE_S, 0.1)
    late(pacer, 0.001)  # on time again
    assert pacer.pause(0.1, rooms=100) == 0.1


def test_a_late_loop_does_not_slow_a_worker_with_few_rooms() -> None:
    meter, pacer = make()
    for _ in range(3):
        meter.run(SAMPLE_S, 0.2)
        late(pacer, 0.100)
        assert pacer.pause(0.1, rooms=3) == 0.1


def test_lateness_counts_once_per_reading_and_pauses_that_end_early_count_as_on_time() -> None:
    meter, pacer = make()
    meter.run(SAMPLE_S, 0.2)
    late(pacer, 0.050)
    assert pacer.pause(0.1, rooms=100) == 0.2
    meter.run(SAMPLE_S, 0.2)
    pacer.ended(0.1, 0.05)  # woken before its time: not late at all
    assert pacer.pause(0.1, rooms=100) == 0.1  # the late pauses of the last reading are gone
