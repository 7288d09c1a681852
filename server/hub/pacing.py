"""How long a room's render loop pauses between renders that nothing urgent asked for.

A change that is not a phase transition (a phone joined, an answer arrived, a sticker moved)
is shown after a coalescing pause, so a room renders at most a few times a second however fast
its inputs arrive. With a hundred busy rooms in one worker even that is most of the worker's
time: every join of a 10,000-phone staff day asks every worker for a render of its room. So
the pause grows while the worker is busy with many rooms: when at least `many` rooms are
rendering and, over the last interval, the worker's own CPU use was above `busy` or its event
loop ran late (the render loops' own pauses ended on average more than `late_busy` after they
were due), the pause doubles (up to `longest`); when the CPU use is below `idle` and the loop is
on time again (under `late_idle`), it halves back to the base. One big room is not slowed (its
renders are already at most a few per second).

The loop's lateness counts because the worker's CPU use alone misses a machine that is short of
cores: a worker at half a core whose loop waits for the CPU, behind Redis and other workers,
runs every `await` of an answer late too. An answer's ack takes about five loop turns (the frame
read, the batch's turn, the script's reply, the reply's future, the ack's write), so an average
turn 20 ms late is an ack 100 ms late; the renders that pile up in those turns are what can wait.

What people see: under load the lobby and the "x van y beantwoord" counters move once a second
instead of ten times; acks and phase changes are not paced (a phase change cuts the pause
short: at once, or after the unpaced pause when it arrives while the room is being rendered,
server/hub/fanout.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable

SAMPLE_S = 0.25  # how often the worker's CPU use is read
BUSY = 0.7  # share of one core above which the pause doubles
IDLE = 0.4  # share below which it halves again
LONGEST_S = 1.0  # the longest pause: the projector still moves every second
MANY_ROOMS = 8  # rooms rendering in this worker from which the pause may grow
LATE_BUSY_S = 0.015  # average lateness of the render loops' pauses above which it doubles
LATE_IDLE_S = 0.005  # and below which (with the CPU below IDLE) it halves again


class Pacer:
    def __init__(
        self,
        cpu: Callable[[], float] = time.process_time,
        wall: Callable[[], float] = time.monotonic,
        busy: float = BUSY,
        idle: float = IDLE,
        longest: float = LONGEST_S,
        many: int = MANY_ROOMS,
        late_busy: float = LATE_BUSY_S,
        late_idle: float = LATE_IDLE_S,
    ) -> None:
        self._cpu, self._wall = cpu, wall
        self._busy, self._idle, self._longest, self._many = busy, idle, longest, many
        self._late_busy, self._late_idle = late_busy, late_idle
        self._at = (wall(), cpu())
        self._late_sum, self._late_count = 0.0, 0  # the pauses' lateness since the last reading
        self.factor = 1.0  # what the base pause is multiplied by now
        # The shortest base pause asked for: the factor grows only until that one reaches the
        # longest pause, so that a long busy spell does not take longer to recover from.
        self._least_base = longest

    def ended(self, pause: float, took: float) -> None:
        """A render loop's pause of `pause` seconds ran out after `took` seconds."""
        self._late_sum += max(0.0, took - pause)
        self._late_count += 1

    def pause(self, base: float, rooms: int) -> float:
        """The pause after a render whose unhurried pause would be `base` seconds, while
        `rooms` rooms are rendering in this worker."""
        self._least_base = min(self._least_base, base)
        self._sample(rooms)
        return min(max(base, self._longest), base * self.factor)

    def _sample(self, rooms: int) -> None:
        wall = self._wall()
        spent = wall - self._at[0]
        if spent < SAMPLE_S:
            return
        cpu = self._cpu()  # a system call: only once per interval, not per render
        share = (cpu - self._at[1]) / spent
        late = self._late_sum / self._late_count if self._late_count else 0.0
        self._at = (wall, cpu)
        self._late_sum, self._late_count = 0.0, 0
        if (share > self._busy or late > self._late_busy) and rooms >= self._many:
            if self._least_base * self.factor < self._longest:
                self.factor *= 2
        elif share < self._idle and late < self._late_idle:
            self.factor = max(1.0, self.factor / 2)
