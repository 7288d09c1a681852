"""Script calls of one event-loop turn go to one Redis as one pipeline.

Hundreds of rooms each call a script now and then (a phone's enrolment, an answer through the
gate, a change); one room's calls rarely come together (about one per round trip per room at
10,000 phones in 100 rooms, so `server/hub/batch.py` finds nothing to join there), but many
rooms' calls do. Each call alone costs the client a pooled connection, its timeouts and a socket
write. Here the first call of a loop turn goes at once, as it would alone, and the calls made
after it in the same turn go one turn later as one pipeline on one connection; each caller gets
its own reply or error. A script Redis does not know (after a restart) is loaded and those
calls made again on their own. One Redis only: on a cluster the calls of a turn go to different
masters (`RedisClusterBackend` calls each script directly).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

Arg = bytes | str | int | float
Call = tuple[AsyncScript, list[str], list[Arg], "asyncio.Future[Any]"]
MAX_PER_PIPELINE = 256  # a long turn's calls go as several pipelines, each its own connection


class ScriptPipeline:
    """`await run(script, keys, args)`: the script's reply, as `script(keys=…, args=…)` gives."""

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
        if len(queued) == 1:  # alone: a pipeline would only cost more than the call itself
            await self._alone(*queued[0])
            return
        chunks = [queued[i : i + MAX_PER_PIPELINE] for i in range(0, len(queued), MAX_PER_PIPELINE)]
        await asyncio.gather(*(self._send(chunk) for chunk in chunks))

    async def _send(self, calls: list[Call]) -> None:
        self.pipelines += 1
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for script, keys, args, _ in calls:
                    pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
                replies = await pipe.execute(raise_on_error=False)
        except asyncio.CancelledError:  # stopped: the callers stop too
            for *_, future in calls:
                future.cancel()
            raise
        except Exception as exc:  # the connection: every call of the pipeline fails alike
            for *_, future in calls:
                if not future.done():
                    future.set_exception(exc)
            return
        again: list[Call] = []
        for call, reply in zip(calls, replies, strict=True):
            future = call[3]
            if isinstance(reply, NoScriptError):  # nothing ran: once more, loading it
                again.append(call)
            elif future.done():
                continue
            elif isinstance(reply, Exception):
                future.set_exception(reply)
            else:
                future.set_result(reply)
        await asyncio.gather(*(self._alone(*call) for call in again))

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
