"""Requests that arrive together go to the backend together.

A reconnect storm brings hundreds of resumes for one room within a few event-loop turns. Each
one alone is a few small reads and writes; together they are one read (or one write) per room
for everything that queued up meanwhile: the requests of one event-loop turn, and those that
arrived while the previous call for that room was in flight. A lone request waits one loop turn.
That turn is worth it only when a call is a round trip: with `together=False` (the in-process
memory backend) every request is its own call at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741 - one item of a request
R = TypeVar("R")  # the result for one item

Run = Callable[[str, Sequence[I]], Awaitable[Sequence[R]]]


class Batcher(Generic[I, R]):
    """`await submit(key, item)` → the result for `item` of `run(key, items)`, called once for
    all items submitted for `key` together. A failure of `run` is every submitter's failure."""

    def __init__(self, run: Run[I, R], *, together: bool = True) -> None:
        self._run = run
        self.together = together  # False: every item is its own call, without the loop turn
        self._pending: dict[str, list[tuple[I, asyncio.Future[R]]]] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self.calls = 0  # how many times `run` was called (tests, figures)

    async def submit(self, key: str, item: I) -> R:
        if not self.together:
            self.calls += 1
            return (await self._run(key, [item]))[0]
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append((item, future))
        if key not in self._running:
            self._running[key] = asyncio.create_task(self._drain(key), name=f"batch-{key}")
        return await future

    async def _drain(self, key: str) -> None:
        try:
            await asyncio.sleep(0)  # everything submitted in this loop turn joins
            while True:
                batch = self._pending.pop(key, None)
                if not batch:
                    return
                live = [(item, future) for item, future in batch if not future.done()]
                if not live:
                    continue
                self.calls += 1
                try:
                    results = await self._run(key, [item for item, _ in live])
                except Exception as exc:
                    for _, future in live:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(live, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        except asyncio.CancelledError:
            for _, future in self._pending.pop(key, []):
                future.cancel()
            raise
        finally:
            self._running.pop(key, None)
