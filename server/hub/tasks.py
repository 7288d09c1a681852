"""Stopping background tasks so that shutdown always ends.

`task.cancel(); await task` is not enough on Python 3.11: `asyncio.wait_for` (which redis-py
uses to bound a socket write) returns the inner result instead of raising when the cancel
arrives just as the inner call finishes (CPython gh-86296, fixed in 3.12). A loop that was
inside a Redis command at that moment never sees its cancel and runs on, and awaiting it hangs
the worker's shutdown for good. Measured on redis-py 8.1 with a plain client: about one cancel
in four of a task busy with short commands was lost.

`stop_tasks` cancels, waits a little, and cancels again whatever is still running (a second
cancel lands: the race needs the call to finish at that very moment), up to a bound; a task
that still runs after it is logged and left behind instead of blocking the shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger("kenniskring.hub")

RECANCEL_EVERY_S = 0.05  # how long a cancelled task gets before it is cancelled again
STOP_PATIENCE_S = 3.0  # after this a task that still runs is logged and left behind


async def stop_tasks(
    tasks: Iterable[asyncio.Task[Any]], *, patience: float = STOP_PATIENCE_S
) -> None:
    """Cancel the tasks and wait until they have ended (at most `patience` seconds)."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    loop = asyncio.get_running_loop()
    give_up = loop.time() + patience
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_EVERY_S)
        if pending and loop.time() >= give_up:
            log.warning(
                "stopping: %d task(s) did not end within %.1f s: %s",
                len(pending),
                patience,
                ", ".join(sorted(t.get_name() for t in pending)),
            )
            return
    for task in tasks:
        _retrieve(task)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Log what a stopped task raised (other than its cancel), so nothing ends unread."""
    if task.done() and not task.cancelled():
        exc = task.exception()
        if exc is not None:
            log.warning("task %s ended with %r while stopping", task.get_name(), exc)
