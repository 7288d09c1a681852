"""A throwaway Redis Cluster on 127.0.0.1: real redis-server processes created with redis-cli.

`ClusterProc(folder, masters=3)` starts three masters (`replicas=1` adds one replica per master);
`python -m bench --redis-url auto-cluster` runs Kenniskring's workers against it, and the test
suite's fixture (tests/support/redis_cluster.py) builds on the same class. Every node keeps its
`nodes.conf` and log in its own folder under `folder`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

# How long a master may be unreachable before the others mark it failed and its replica takes
# over. Redis's default is 15 s; the failover test wants it in about a second.
NODE_TIMEOUT_MS = 1000
# `redis-cli --cluster create` now and then never sees the nodes agree on the configuration
# ("Waiting for the cluster to join" until its timeout) on a loaded machine; a second set of
# fresh nodes on other ports then starts as usual. The first attempt's output goes to stderr.
CREATE_ATTEMPTS = 2


def find_redis_cli(server: str | None = None) -> str | None:
    """redis-cli (or valkey-cli) on the PATH, else beside the redis-server binary `server`."""
    for name in ("redis-cli", "valkey-cli"):
        found = shutil.which(name)
        if found:
            return found
    if server is not None:
        sibling = Path(server).with_name("redis-cli")
        if sibling.is_file() and os.access(sibling, os.X_OK):
            return str(sibling)
    return None


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports whose cluster bus port (+10000) is free as well."""
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

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

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
            "--maxclients", "10000",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
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


class ClusterProc:
    """`masters` masters (+ `replicas` per master) on loopback, created with redis-cli."""

    def __init__(
        self,
        folder: Path,
        binary: str,
        cli: str,
        masters: int = 3,
        replicas: int = 0,
        start_timeout: float = 30.0,
    ) -> None:
        self.binary, self.cli = binary, cli
        self.masters, self.replicas = masters, replicas
        self.start_timeout = start_timeout
        self.folder = folder
        self.nodes = self._new_nodes()

    def _new_nodes(self) -> list[ClusterNode]:
        ports = free_ports(self.masters * (1 + self.replicas))
        return [ClusterNode(self.binary, p, self.folder / str(p)) for p in ports]

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

    def start(self) -> ClusterProc:
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            for node in self.nodes:
                node.start()
            deadline = time.monotonic() + self.start_timeout
            for node in self.nodes:
                self.wait(partial(self._pings, node), deadline, f"node {node.port} to answer PING")
            failure = self._create()
            if failure is None:
                break
            if attempt == CREATE_ATTEMPTS:
                raise RuntimeError(failure)
            print(f"{failure}\n(trying again with new nodes)", file=sys.stderr, flush=True)
            self.stop()
            self.nodes = self._new_nodes()
        deadline = time.monotonic() + self.start_timeout
        for node in self.nodes:
            self.wait(
                partial(self.healthy, node.port), deadline, f"cluster_state:ok on {node.port}"
            )
        if self.replicas:
            # Every replica must have synced before a master may be killed.
            for node in self.nodes:
                self.wait(
                    partial(self._synced, node.port), deadline, f"replica sync on {node.port}"
                )
        return self

    def _create(self) -> str | None:
        """Make the started nodes one cluster; what went wrong (with redis-cli's output and
        the nodes' logs), or None."""
        command = [
            self.cli, "--cluster", "create",
            *(f"127.0.0.1:{n.port}" for n in self.nodes),
            "--cluster-replicas", str(self.replicas),
            "--cluster-yes",
        ]  # fmt: skip
        try:
            create = subprocess.run(
                command, capture_output=True, timeout=self.start_timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout or b""
            said = out.decode(errors="replace") if isinstance(out, bytes) else out
            return f"redis-cli --cluster create timed out:\n{said}\n{self._log_tails()}"
        if create.returncode != 0:
            said = create.stdout.decode(errors="replace")
            return f"redis-cli --cluster create failed:\n{said}\n{self._log_tails()}"
        return None

    def _log_tails(self) -> str:
        return "\n".join(f"--- {n.port}\n{n.log_tail()}" for n in self.nodes)

    def wait(self, check: Callable[[], bool], deadline: float, what: str) -> None:
        while not check():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}\n{self._log_tails()}")
            time.sleep(0.1)

    def _pings(self, node: ClusterNode) -> bool:
        return node.running and "PONG" in self.cli_run(node.port, "PING")

    def healthy(self, port: int) -> bool:
        info = self.cli_run(port, "CLUSTER", "INFO")
        return "cluster_state:ok" in info and f"cluster_known_nodes:{len(self.nodes)}" in info

    def _synced(self, port: int) -> bool:
        info = self.cli_run(port, "INFO", "replication")
        if "role:slave" in info:
            return "master_link_status:up" in info
        return f"connected_slaves:{self.replicas}" in info

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()
