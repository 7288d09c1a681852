"""redis-py's asyncio RedisCluster as the cluster backend uses it, and the
`redis+cluster://` URLs that select it (see docs/DEPLOYING.md)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from server.hub.redis_subscription import BUILD_TIMEOUT
from server.hub.tasks import stop_tasks

log = logging.getLogger(__name__)

# The least time between two slot-table re-reads.
REFRESH_AT_MOST_EVERY = 0.25

# A command that failed on a master waits this long before its next try; with RETRIES tries it
# rides out about 5 s of failover (the time RedisBackend's retries ride out a restart).
FAILED_NODE_PAUSE = 0.25
RETRIES = 20
POOL_SIZE = 64  # connections per master, as RedisBackend's pool for one Redis
COMMANDS_AT_ONCE = 48  # commands in flight per worker (see ClusterClient); the rest: pipelines


def startup_nodes(url: str) -> tuple[str, list[tuple[str, int]]]:
    """`redis+cluster://[user:pw@]h1:p1,h2:p2/?opts` → (`redis://[user:pw@]h1:p1/?opts`, all
    (host, port) pairs). The first URL carries credentials and options for every node."""
    scheme, _, rest = url.partition("+cluster://")
    if not rest:
        raise ValueError(f"geen cluster-URL: {url}")
    parts = urlsplit(f"{scheme}://{rest}")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    nodes: list[tuple[str, int]] = []
    for entry in hosts.split(","):
        host, _, port = entry.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"REDIS_URL: host:port verwacht, niet {entry!r} ({url})")
        nodes.append((host.strip("[]"), int(port)))
    first = f"{userinfo}@{hosts.split(',')[0]}" if userinfo else hosts.split(",")[0]
    return urlunsplit((parts.scheme, first, parts.path, parts.query, "")), nodes


def node_url(seed_url: str, host: str, port: int) -> str:
    parts = urlsplit(seed_url)
    userinfo = parts.netloc.rpartition("@")[0]
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    netloc = f"{userinfo}@{address}" if userinfo else address
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


class ClusterClient(RedisCluster):
    """redis-py's RedisCluster, kinder to the masters that are fine while one fails over.

    Stock redis-py 8.1, after a command to a dead master fails, (1) re-reads the slot table *and*
    the COMMAND table in the next command of every room (`initialize()`: 20–120 ms of one
    worker's time on a loaded 2-core machine, many times a second while that master's rooms
    keep trying), and (2) after a failed pipeline or a CLUSTERDOWN "closes" the client to force
    that re-read, dropping the connections to every master, also those with commands in flight.
    Here:

    - the re-read is of the slot table only (the COMMAND table does not change in a failover),
      at most every REFRESH_AT_MOST_EVERY, and only a command that failed waits for it; every
      other command goes on with the table it has while one runs in the background;
    - a command that failed on a node pauses FAILED_NODE_PAUSE before it tries again, so its
      retries span a failover (as RedisBackend's backoff spans a restart) instead of spinning;
    - `aclose()` while running only marks the table for a re-read; at shutdown the backend sets
      `closing` first, and `aclose()` closes;
    - a command waits for a free connection instead of failing: redis-py's cluster pool raises
      MaxConnectionsError at once when a node's `max_connections` are in use (a burst of
      thousands of answers did that to 15 % of them), so at most COMMANDS_AT_ONCE commands are
      in flight (fewer than a node's connections, whichever nodes they go to; pipelines keep
      the rest), as RedisBackend's BlockingConnectionPool makes a burst wait.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight = asyncio.Semaphore(COMMANDS_AT_ONCE)
        self.closing = False
        self._refreshed_at = float("-inf")
        self._refresh: asyncio.Task[None] | None = None

    async def initialize(
        self,
        additional_startup_nodes_info: list[tuple[str, int]] | None = None,
        last_failed_node_name: str | None = None,
    ) -> RedisCluster:
        if self.closing or self.nodes_manager.default_node is None:
            # The first start, or after redis-py gave up on every node: redis-py's own.
            return await super().initialize(additional_startup_nodes_info, last_failed_node_name)
        if not self._initialize:
            return self
        if last_failed_node_name is None:
            self.refresh_soon()
            return self
        await asyncio.sleep(FAILED_NODE_PAUSE)
        task = self.refresh_soon()
        if task is not None:
            await asyncio.shield(task)
        return self

    def refresh_soon(self) -> asyncio.Task[None] | None:
        """Re-read the slot table in the background (or join the re-read already running)."""
        if self._refresh is not None and not self._refresh.done():
            return self._refresh
        if time.monotonic() - self._refreshed_at < REFRESH_AT_MOST_EVERY:
            return None
        self._refreshed_at = time.monotonic()
        self._refresh = asyncio.create_task(self._reread(), name="redis-cluster-slots")
        return self._refresh

    async def _reread(self) -> None:
        try:
            async with asyncio.timeout(BUILD_TIMEOUT):
                await self.nodes_manager.initialize()
            self._initialize = False
        except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
            log.debug("redis: cluster slot table not re-read: %s", exc)
        finally:
            self._refreshed_at = time.monotonic()

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self._in_flight:
            return await super().execute_command(*args, **kwargs)

    async def aclose(self) -> None:
        if self.closing or self.nodes_manager.default_node is None:
            if self._refresh is not None:
                await stop_tasks([self._refresh])
            await super().aclose()
        else:
            self._initialize = True  # re-read the slot table; keep the healthy connections
