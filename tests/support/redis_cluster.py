"""Start a throwaway Redis Cluster on 127.0.0.1 for tests: real redis-server processes, never a mock.

`RedisCluster(masters=3)` starts three masters; `replicas=1` adds one replica per master (six
processes), for the failover test. The nodes themselves are bench/redis_cluster.py's (the bench
starts the same cluster); this adds what tests need: a clear failure instead of a skip when
redis-server or redis-cli is missing (also in CI), the version check, a temporary folder, and
which master serves a slot. Ports come from the free-port helper.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest
from redis.crc import key_slot

from bench.redis_binary import CLUSTER_NEEDS, version_of
from bench.redis_cluster import NODE_TIMEOUT_MS, ClusterNode, ClusterProc, find_redis_cli
from tests.support.redis_server import find_redis_server, require_redis_server

__all__ = ["NODE_TIMEOUT_MS", "ClusterNode", "RedisCluster", "require_redis_cli"]

ENV_CLI = "KENNISKRING_REDIS_CLI"


def require_redis_cli() -> str:
    override = os.environ.get(ENV_CLI)
    if override:
        found = override if os.access(override, os.X_OK) else None
    else:
        found = find_redis_cli(find_redis_server())
    if found is None:
        pytest.fail(
            "redis-cli ontbreekt (nodig om een Redis Cluster te maken): installeer redis-tools, "
            f"of zet {ENV_CLI} op het pad van de binary",
            pytrace=False,
        )
    return found


def require_version(binary: str, at_least: tuple[int, int] = CLUSTER_NEEDS) -> None:
    """Sharded pub/sub (SSUBSCRIBE/SPUBLISH) came with Redis 7.0: fail clearly on an older one."""
    found = version_of(binary)
    if found is None or found[:2] < at_least:
        shown = ".".join(map(str, found)) if found else "?"
        pytest.fail(
            f"{binary} is te oud voor een Redis Cluster met sharded pub/sub (nodig: "
            f"{at_least[0]}.{at_least[1]}+): {shown}",
            pytrace=False,
        )


class RedisCluster(ClusterProc):
    """`masters` masters (+ `replicas` per master) on loopback, created with redis-cli."""

    def __init__(self, masters: int = 3, replicas: int = 0, start_timeout: float = 30.0) -> None:
        binary = require_redis_server()
        require_version(binary)
        self._tmp = tempfile.TemporaryDirectory(prefix="kk-cluster-")
        super().__init__(
            Path(self._tmp.name), binary, require_redis_cli(), masters, replicas, start_timeout
        )

    def start(self) -> RedisCluster:
        super().start()
        return self

    def master_of_slot(self, slot: int) -> int:
        """The port of the master serving `slot`, as the live nodes see it now."""
        for node in self.nodes:
            if node.running:
                port = _master_for_slot(self.cli_run(node.port, "CLUSTER", "NODES"), slot)
                if port is not None:
                    return port
        raise RuntimeError(f"no live node knows a master for slot {slot}")

    @staticmethod
    def keyslot(key: str) -> int:
        return key_slot(key.encode())

    def node(self, port: int) -> ClusterNode:
        return next(n for n in self.nodes if n.port == port)

    def wait_ok(self, within: float = 20.0) -> None:
        """Every live node reports cluster_state:ok (after a failover)."""
        deadline = time.monotonic() + within
        for node in self.nodes:
            if node.running:
                self.wait(
                    lambda n=node: "cluster_state:ok" in self.cli_run(n.port, "CLUSTER", "INFO"),
                    deadline,
                    f"cluster_state:ok on {node.port}",
                )

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> RedisCluster:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _master_for_slot(nodes_output: str, slot: int) -> int | None:
    """From CLUSTER NODES (`id ip:port@bus flags master ping pong epoch state slots...`): the
    port of the live master whose slot ranges hold `slot`."""
    for line in nodes_output.splitlines():
        parts = line.split()
        if len(parts) < 8 or "master" not in parts[2].split(",") or "fail" in parts[2]:
            continue
        for spec in parts[8:]:
            if spec.startswith("["):  # a slot being migrated
                continue
            start, _, end = spec.partition("-")
            if int(start) <= slot <= int(end or start):
                return int(parts[1].split("@")[0].rsplit(":", 1)[1])
    return None
