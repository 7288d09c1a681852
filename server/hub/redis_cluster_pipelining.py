"""Script calls of one event-loop turn, one pipeline per Redis Cluster master.

As `ScriptPipeline` does for one Redis (server/hub/redis_pipelining.py): the first call of a
loop turn goes at once, the calls made after it in the same turn go one turn later, here grouped
by the master that holds their room's slot, one pipeline per master on one of its connections.
A call whose slot moved (MOVED, ASK) or whose master is failing over (CLUSTERDOWN, TRYAGAIN, a
master turned replica) did not run; one whose connection failed may have, as a lone command
whose reply was lost may have before the client retries it. Either is made again on its own
through the cluster client, which follows the redirect, re-reads the slot table and retries as
it does for every command (server/hub/redis_cluster_client.py). Pipelines count against the
client's commands in flight.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from redis.asyncio.cluster import ClusterNode, PipelineCommand
from redis.exceptions import (
    AskError,
    BusyLoadingError,
    ClusterDownError,
    ConnectionError,
    MasterDownError,
    MaxConnectionsError,
    MovedError,
    NoScriptError,
    ReadOnlyError,
    RedisClusterException,
    SlotNotCoveredError,
    TimeoutError,
    TryAgainError,
)

from server.hub.redis_cluster_client import ClusterClient
from server.hub.redis_pipelining import Call, ScriptPipeline

# Replies and failures after which a call goes again on its own, through the cluster client.
ELSEWHERE: tuple[type[Exception], ...] = (
    NoScriptError,
    MovedError,
    AskError,
    TryAgainError,
    ClusterDownError,
    MasterDownError,
    ReadOnlyError,
    BusyLoadingError,
    ConnectionError,
    TimeoutError,
    MaxConnectionsError,
    SlotNotCoveredError,
)


class ClusterScriptPipeline(ScriptPipeline):
    again_after: ClassVar[tuple[type[Exception], ...]] = ELSEWHERE

    def __init__(self, client: ClusterClient) -> None:
        super().__init__(client)  # type: ignore[arg-type]  # used only through the hooks below
        self.cluster = client

    def _groups(self, calls: list[Call]) -> list[tuple[Any, list[Call]]]:
        by_node: dict[str, tuple[ClusterNode, list[Call]]] = {}
        lone: list[tuple[Any, list[Call]]] = []
        for call in calls:
            try:
                node = self.cluster.get_node_from_key(call[1][0])
            except (RedisClusterException, SlotNotCoveredError):
                node = None
            if node is None:  # no master known for the slot now: the client finds one
                lone.append((None, [call]))
                continue
            by_node.setdefault(node.name, (node, []))[1].append(call)
        return [*by_node.values(), *lone]

    async def _replies(self, target: Any, calls: list[Call]) -> list[Any]:
        assert isinstance(target, ClusterNode)
        commands = [
            PipelineCommand(i, "EVALSHA", script.sha, len(keys), *keys, *args)
            for i, (script, keys, args, _) in enumerate(calls)
        ]
        async with self.cluster.in_flight:
            await target.execute_pipeline(commands)
        return [command.result for command in commands]

    async def _failed(self, calls: list[Call], exc: Exception) -> None:
        if not isinstance(exc, ELSEWHERE):
            await super()._failed(calls, exc)
            return
        await asyncio.gather(*(self._alone(*call) for call in calls))
