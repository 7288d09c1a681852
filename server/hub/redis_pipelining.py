"""Script calls of one event-loop turn go to one Redis as one pipeline.

Hundreds of rooms each call a script now and then (a phone's enrolment, an answer through the
gate, a change); one room's calls rarely come together (about one per round trip per room at
10,000 phones in 100 rooms, so `server/hub/batch.py` finds nothing to join there), but many
rooms' calls do. Each call alone costs the client a pooled connection, its timeouts and a socket
write. Here the first call of a loop turn goes at once, as it would alone, and the calls made
after it in the same turn go one turn later as one pipeline on one connection; each caller gets
its own reply or error. A script Redis does not know (after a restart) is loaded and those
calls made again on their own. On a cluster the calls of a turn are grouped by the master of
their room (`server/hub/redis_cluster_pipelining.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

Arg = bytes | str | int | float
Call = tuple[AsyncScript, list[str], list[Arg], "asyncio.Future[Any]"]
MAX_PER_PIPELINE = 256  # a long turn's calls go as several pipelines, each its own connection


class ScriptPipeline:
    """`await run(script, keys, args)`: the script's reply, as `script(keys=…, args=…)` gives."""

    # Replies after which a call is made again on its own, by the script object (which loads a
    # script Redis lost): the script did not run.
    again_after: ClassVar[tuple[type[Exception], ...]] = (NoScriptError,)

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._queue: list[Call] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._turn_open = False  # a call was made in this loop turn
        self.pipelines = 0  # how many pipelines were sent (tests, figures)

    async def run(self, script: AsyncScript, keys: Sequence[str], args: Sequence[Arg]) -> Any:
        if not self._turn_open:
            # The first call of a loop turn goes at once, as it would alone; the calls made
            # after it in the same turn wait for the next turn and go together.
            self._turn_open = True
            asyncio.get_running_loop().call_soon(self._close_turn)
            return await script(keys=list(keys), args=list(args))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((script, list(keys), list(args), future))
        return await future

    def _close_turn(self) -> None:
        self._turn_open = False
        queued, self._queue = self._queue, []
        if queued:
            task = asyncio.create_task(self._flush(queued))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _flush(self, queued: list[Call]) -> None:
        sends = []
        for target, calls in self._groups(queued):
            if len(calls) == 1:  # alone: a pipeline would only cost more than the call itself
                sends.append(self._alone(*calls[0]))
                continue
            for i in range(0, len(calls), MAX_PER_PIPELINE):
                sends.append(self._send(target, calls[i : i + MAX_PER_PIPELINE]))
        await asyncio.gather(*sends)

    def _groups(self, calls: list[Call]) -> list[tuple[Any, list[Call]]]:
        """The calls by where they go (one Redis: all to it)."""
        return [(None, calls)]

    async def _replies(self, target: Any, calls: list[Call]) -> list[Any]:
        """One pipeline of EVALSHA calls to `target`: a reply or an exception per call."""
        async with self.client.pipeline(transaction=False) as pipe:
            for script, keys, args, _ in calls:
                pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
            return list(await pipe.execute(raise_on_error=False))

    async def _send(self, target: Any, calls: list[Call]) -> None:
        self.pipelines += 1
        try:
            replies = await self._replies(target, calls)
        except asyncio.CancelledError:  # stopped: the callers stop too
            for *_, future in calls:
                future.cancel()
            raise
        except Exception as exc:  # the connection: every call of the pipeline fails alike
            await self._failed(calls, exc)
            return
        again: list[Call] = []
        for call, reply in zip(calls, replies, strict=True):
            future = call[3]
            if isinstance(reply, self.again_after):  # nothing ran: once more on its own
                again.append(call)
            elif future.done():
                continue
            elif isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)
        await asyncio.gather(*(self._alone(*call) for call in again))

    async def _failed(self, calls: list[Call], exc: Exception) -> None:
        """The pipeline itself failed (one Redis: its connection): so does every call of it."""
        for *_, future in calls:
            if not future.done():
                future.set_exception(exc)

    @staticmethod
    async def _alone(
        script: AsyncScript, keys: list[str], args: list[Arg], future: asyncio.Future[Any]
    ) -> None:
        """One call on its own, by the script object (which loads a script Redis lost)."""
        try:
            reply = await script(keys=keys, args=args)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(reply)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
