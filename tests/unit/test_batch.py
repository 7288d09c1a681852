"""The Batcher (server/hub/batch.py): requests for one key that arrive together are one call."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from server.hub.batch import Batcher


class Backend:
    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.calls: list[tuple[str, list[int]]] = []
        self.delay = delay
        self.fail = fail

    async def run(self, key: str, items: Sequence[int]) -> list[int]:
        self.calls.append((key, list(items)))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise ConnectionError("down")
        return [i * 10 for i in items]


async def test_one_turn_of_requests_is_one_call_per_key() -> None:
    backend = Backend()
    batcher = Batcher(backend.run)
    results = await asyncio.gather(
        *(batcher.submit("a", i) for i in range(5)), batcher.submit("b", 7)
    )
    assert results == [0, 10, 20, 30, 40, 70]
    assert sorted(backend.calls) == [("a", [0, 1, 2, 3, 4]), ("b", [7])]
    assert batcher.calls == 2


async def test_requests_during_a_call_wait_for_the_next_one() -> None:
    backend = Backend(delay=0.05)
    batcher = Batcher(backend.run)
    first = asyncio.create_task(batcher.submit("a", 1))
    await asyncio.sleep(0.01)  # the first call is in flight
    later = [asyncio.create_task(batcher.submit("a", i)) for i in (2, 3)]
    assert await first == 10
    assert [await t for t in later] == [20, 30]
    assert backend.calls == [("a", [1]), ("a", [2, 3])]


async def test_a_failure_is_every_submitters_and_the_next_batch_runs() -> None:
    backend = Backend(fail=True)
    batcher = Batcher(backend.run)
    results = await asyncio.gather(
        batcher.submit("a", 1), batcher.submit("a", 2), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionError) for r in results)
    backend.fail = False
    assert await batcher.submit("a", 3) == 30


async def test_a_cancelled_submitter_does_not_break_the_batch() -> None:
    backend = Backend(delay=0.02)
    batcher = Batcher(backend.run)
    gone = asyncio.create_task(batcher.submit("a", 1))
    kept = asyncio.create_task(batcher.submit("a", 2))
    await asyncio.sleep(0)
    gone.cancel()
    assert await kept == 20
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_apart_every_item_is_its_own_call_without_a_loop_turn() -> None:
    """`together=False` (the memory backend): each request at once, in its own call."""
    backend = Backend()
    batcher = Batcher(backend.run, together=False)
    results = await asyncio.gather(*(batcher.submit("a", i) for i in range(3)))
    assert results == [0, 10, 20]
    assert backend.calls == [("a", [0]), ("a", [1]), ("a", [2])] and batcher.calls == 3
    # Nothing in between: the result is there before any other task gets a turn.
    other_ran = False

    async def other() -> None:
        nonlocal other_ran
        other_ran = True

    task = asyncio.create_task(other())
    assert await batcher.submit("b", 4) == 40 and not other_ran
    await task
