"""Real Kenniskring servers for tests: `python -m server serve` on a free 127.0.0.1 port, or
uvicorn in the test's own event loop (`in_process`), where a test can also look inside."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from server.cli import uvicorn_options
from server.config import Settings
from server.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def in_process(tmp: Path, **options: Any) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """Kenniskring under uvicorn in this event loop, with `kenniskring serve`'s options (but
    this loop, not uvicorn's) and `options` over them; yields its "127.0.0.1:port" and server."""
    settings = replace(Settings(), host="127.0.0.1", port=free_port(), data_dir=tmp)
    app = create_app(settings)
    merged = {**uvicorn_options(settings), "log_level": "warning", **options}
    server = uvicorn.Server(uvicorn.Config(app, **merged))
    task = asyncio.create_task(server.serve())
    for _ in range(200):  # bounded: 10 s
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"127.0.0.1:{settings.port}", server
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


class ServerProcess:
    """One `kenniskring serve` process (possibly with several workers) on loopback."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        redis_url: str | None = None,
        workers: int = 1,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self.redis_url = redis_url
        self.workers = workers
        self.extra_env = env or {}
        self.args = args or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 20.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Tests play hundreds of phones and rooms from one address: the per-address limits are
        # off unless a test sets KENNISKRING_LIMITS (tests/integration/test_limits.py does).
        env = {
            **os.environ,
            "KENNISKRING_LOG_LEVEL": "warning",
            "KENNISKRING_LIMITS": "off",
            **self.extra_env,
        }
        env.pop("REDIS_URL", None)
        cmd = [
            sys.executable,
            "-m",
            "server",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data",
            str(self.data_dir),
            "--public-url",
            self.base,
            "--workers",
            str(self.workers),
            *self.args,
        ]
        if self.redis_url:
            cmd += ["--redis-url", self.redis_url]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not healthy: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)

    def kill(self) -> None:
        """The machine goes down: SIGKILL to the server and its workers, no cleanup of any kind."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)

    def worker_pids(self) -> list[int]:
        """Child worker processes (uvicorn --workers), via /proc."""
        assert self.proc is not None
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid:
                pids.append(int(entry.name))
        return sorted(pids)
