"""Start a throwaway Redis Cluster on 127.0.0.1 for tests: real redis-server processes, never a mock.

`RedisCluster(masters=3)` starts three masters; `replicas=1` adds one replica per master (six
processes), for the failover test. Ports come from the free-port helper; each node keeps its
`nodes.conf`, log and (empty) data in one temporary folder. Like tests/support/redis_server.py: in
CI a missing redis-server or redis-cli FAILS the test instead of skipping it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest
from redis.crc import key_slot

from tests.support.redis_server import find_redis_server, require_redis_server

ENV_CLI = "KENNISKRING_REDIS_CLI"
# How long a master may be unreachable before the others mark it failed and its replica takes
# over. Redis's default is 15 s; the tests want a failover in about a second.
NODE_TIMEOUT_MS = 1000


def find_redis_cli() -> str | None:
    override = os.environ.get(ENV_CLI)
    if override:
        return override if os.access(override, os.X_OK) else None
    for name in ("redis-cli", "valkey-cli"):
        found = shutil.which(name)
        if found:
            return found
    server = find_redis_server()
    if server is not None:
        sibling = Path(server).with_name("redis-cli")
        if sibling.is_file() and os.access(sibling, os.X_OK):
            return str(sibling)
    return None


def require_redis_cli() -> str:
    found = find_redis_cli()
    if found is None:
        pytest.fail(
            "redis-cli ontbreekt (nodig om een Redis Cluster te maken): installeer redis-tools, "
            f"of zet {ENV_CLI} op het pad van de binary",
            pytrace=False,
        )
    return found


def require_version(binary: str, at_least: tuple[int, int] = (7, 0)) -> None:
    """Sharded pub/sub (SSUBSCRIBE/SPUBLISH) came with Redis 7.0: fail clearly on an older one."""
    out = subprocess.run([binary, "--version"], capture_output=True, timeout=10, check=False)
    found = re.search(rb"v=(\d+)\.(\d+)", out.stdout)
    if found is None or (int(found[1]), int(found[2])) < at_least:
        pytest.fail(
            f"{binary} is te oud voor een Redis Cluster met sharded pub/sub (nodig: "
            f"{at_least[0]}.{at_least[1]}+): {out.stdout.decode(errors='replace').strip()}",
            pytrace=False,
        )


def _free_ports(count: int) -> list[int]:
    """`count` distinct free ports whose cluster bus port (+10000) is free as well."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + 10000 > 65535 or port in ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports


class ClusterNode:
    def __init__(self, binary: str, port: int, folder: Path) -> None:
        self.binary = binary
        self.port = port
        self.dir = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--cluster-enabled", "yes",
            "--cluster-config-file", str(self.dir / "nodes.conf"),
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
            # While a failed master's replica is not yet promoted, the other masters go on
            # serving their own slots (with "yes" every node refuses every query meanwhile).
            "--cluster-require-full-coverage", "no",
            "--appendonly", "no",
            "--save", "",
            "--dir", str(self.dir),
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def kill(self) -> None:
        """A crash: SIGKILL, no chance to say goodbye to the cluster."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def log_tail(self) -> str:
        try:
            return "\n".join((self.dir / "redis.log").read_text().splitlines()[-20:])
        except OSError:
            return "(no log)"


class RedisCluster:
    """`masters` masters (+ `replicas` per master) on loopback, created with redis-cli."""

    def __init__(self, masters: int = 3, replicas: int = 0, start_timeout: float = 30.0) -> None:
        self.binary = require_redis_server()
        require_version(self.binary)
        self.cli = require_redis_cli()
        self.masters = masters
        self.replicas = replicas
        self.start_timeout = start_timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="kk-cluster-")
        ports = _free_ports(masters * (1 + replicas))
        self.nodes = [ClusterNode(self.binary, p, Path(self._tmp.name) / str(p)) for p in ports]

    @property
    def url(self) -> str:
        """What REDIS_URL says to select the cluster backend (any one node is enough)."""
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def cli_run(self, port: int, *args: str, timeout: float = 5.0) -> str:
        result = subprocess.run(
            [self.cli, "-h", "127.0.0.1", "-p", str(port), *args],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        return result.stdout.decode(errors="replace")

    def start(self) -> RedisCluster:
        for node in self.nodes:
            node.start()
        deadline = time.monotonic() + self.start_timeout
        for node in self.nodes:
            self._wait(lambda n=node: n.running and "PONG" in self.cli_run(n.port, "PING"),
                       deadline, f"node {node.port} to answer PING")  # fmt: skip
        create = subprocess.run(
            [
                self.cli, "--cluster", "create",
                *(f"127.0.0.1:{n.port}" for n in self.nodes),
                "--cluster-replicas", str(self.replicas),
                "--cluster-yes",
            ],
            capture_output=True, timeout=self.start_timeout, check=False,
        )  # fmt: skip
        if create.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{create.stdout.decode()}")
        for node in self.nodes:
            self._wait(lambda n=node: self.healthy(n.port), deadline,
                       f"cluster_state:ok on {node.port}")  # fmt: skip
        if self.replicas:
            # Every replica must have synced before a master may be killed in a test.
            for node in self.nodes:
                self._wait(lambda n=node: self._synced(n.port), deadline,
                           f"replica sync seen by {node.port}")  # fmt: skip
        return self

    def _wait(self, check: object, deadline: float, what: str) -> None:
        assert callable(check)
        while not check():
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {n.port}\n{n.log_tail()}" for n in self.nodes)
                raise RuntimeError(f"timed out waiting for {what}\n{tails}")
            time.sleep(0.1)

    def healthy(self, port: int) -> bool:
        info = self.cli_run(port, "CLUSTER", "INFO")
        return "cluster_state:ok" in info and f"cluster_known_nodes:{len(self.nodes)}" in info

    def _synced(self, port: int) -> bool:
        info = self.cli_run(port, "INFO", "replication")
        if "role:slave" in info:
            return "master_link_status:up" in info
        return f"connected_slaves:{self.replicas}" in info

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
                self._wait(
                    lambda n=node: "cluster_state:ok" in self.cli_run(n.port, "CLUSTER", "INFO"),
                    deadline,
                    f"cluster_state:ok on {node.port}",
                )

    def close(self) -> None:
        for node in self.nodes:
            node.kill()
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
