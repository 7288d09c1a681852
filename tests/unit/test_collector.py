"""ClosedSockets (server/web/collector.py): one full collection after many sockets closed, when
the closing has stopped (or at the latest after max_wait_s), never one per socket."""

from __future__ import annotations

import asyncio

from server.web.collector import ClosedSockets


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock, runs: list[int]) -> ClosedSockets:
    def collect() -> int:
        runs.append(1)
        return 0

    return ClosedSockets(threshold=3, quiet_s=0.05, max_wait_s=1.0, clock=clock, collect=collect)


async def test_a_storm_is_one_pass_once_it_is_over() -> None:
    clock, runs = Clock(), []
    closed = make(clock, runs)
    for _ in range(10):
        closed.one_closed()
    assert runs == []  # not inside the storm
    clock.now += 0.1
    await asyncio.sleep(0.1)
    assert runs == [1] and closed.closed == 0
    closed.one_closed()  # below the threshold again: no pass
    clock.now += 0.1
    await asyncio.sleep(0.1)
    assert runs == [1]


async def test_steady_closing_still_gets_a_pass_after_max_wait() -> None:
    clock, runs = Clock(), []
    closed = make(clock, runs)
    for _ in range(30):  # one socket every 0.02 s (never quiet for 0.05 s), 0.6 s... then more
        closed.one_closed()
        clock.now += 0.05
        await asyncio.sleep(0.02)
    assert runs, "no pass although sockets closed for longer than max_wait_s"
    closed.stop()


async def test_stop_cancels_a_pending_pass() -> None:
    clock, runs = Clock(), []
    closed = make(clock, runs)
    for _ in range(3):
        closed.one_closed()
    closed.stop()
    clock.now += 1
    await asyncio.sleep(0.1)
    assert runs == []


def test_the_full_pass_gives_free_heap_pages_back() -> None:
    order: list[str] = []
    closed = ClosedSockets(
        threshold=1,
        collect=lambda: order.append("collect") or 0,
        release=lambda: order.append("release"),
    )
    closed.run()
    assert order == ["collect", "release"]


def test_trim_heap_returns_freed_memory_to_the_system() -> None:
    """In a fresh interpreter: 200 MB of freed blocks, with a few kept in between (the
    fragmentation a finished session leaves), stay resident until trim_heap; then RSS falls."""
    import subprocess
    import sys

    script = """
import gc
from server.web.heap import trim_heap
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
blocks = [bytes(2000) + bytes([i % 256]) for i in range(100_000)]
keep = blocks[::50]
del blocks
gc.collect()
before = rss()
assert trim_heap()
print(before, rss())
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    before, after = map(float, run.stdout.split())
    assert before > 150 and after < before - 100, (before, after)


async def test_no_pass_while_phones_are_still_coming_back() -> None:
    """A storm: the sockets closed at once, then the phones reconnect (handshakes, no closes).
    The pass waits until the handshakes too have been quiet for quiet_s."""
    clock, runs = Clock(), []
    reconnecting = {"until": 0.0}

    def handshakes() -> float:
        return min(clock.now, reconnecting["until"])

    def collect() -> int:
        runs.append(1)
        return 0

    closed = ClosedSockets(
        threshold=3,
        quiet_s=0.05,
        max_wait_s=5.0,
        clock=clock,
        collect=collect,
        handshakes=handshakes,
    )
    for _ in range(5):
        closed.one_closed()
    reconnecting["until"] = clock.now + 0.3  # handshakes go on for 0.3 s after the closes
    for _ in range(5):
        clock.now += 0.05
        await asyncio.sleep(0.06)
    assert runs == [], "a full pass ran while phones were still reconnecting"
    clock.now += 0.2
    await asyncio.sleep(0.12)
    assert runs == [1]
