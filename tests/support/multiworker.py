"""Two uvicorn workers on one Redis, and sockets placed on a known worker.

Shared by the multi-worker integration test and the fault tests (worker kill, Redis restart,
concurrent answers). A client first sends one keep-alive `GET /healthz` over a fresh TCP
connection, reads the `worker` (pid) of the process that accepted it, and then upgrades that same
connection to the websocket. The kernel hands connections to uvicorn's workers as it likes; this
tells us exactly where each one landed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import httpx

from tests.conftest import create_room, upload
from tests.support.phones import Frame, Host, Phone, WsClient
from tests.support.redis_cluster import RedisCluster
from tests.support.redis_server import RedisServer
from tests.support.servers import ServerProcess

WORKERS = 2
C = TypeVar("C", bound=WsClient)


# ---- a Redis and a two-worker server ------------------------------------------------------------
@contextlib.contextmanager
def redis_and_workers(
    tmp_path: Path, *, appendonly: bool = False, env: dict[str, str] | None = None
) -> Iterator[tuple[RedisServer, ServerProcess]]:
    """A fresh redis-server (FAILS the test when there is none) and `serve --workers 2` on it."""
    redis = RedisServer(appendonly=appendonly)
    try:
        redis.start()
        server = ServerProcess(tmp_path, redis_url=redis.url, workers=WORKERS, env=env)
        try:
            server.start()
            yield redis, server
        finally:
            server.stop()
    finally:
        redis.close()


@contextlib.contextmanager
def workers_on(
    tmp_path: Path, redis_url: str, *, env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    """`serve --workers 2` on a Redis (or cluster) someone else started and stops."""
    server = ServerProcess(tmp_path, redis_url=redis_url, workers=WORKERS, env=env)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def shard_of(cluster: RedisCluster, code: str) -> int:
    """The port of the master that holds room `code` (its keys and its channel) now."""
    return cluster.master_of_slot(cluster.keyslot(f"{{{code}}}"))


async def hosted_rooms_on_shards(
    server: ServerProcess,
    cluster: RedisCluster,
    quiz: dict[str, Any],
    shards: int,
    worker: int | None = None,
    within: int = 60,
) -> list[HostedRoom]:
    """Rooms of `quiz` on `shards` different masters, each with its host attached. Codes are
    random: rooms are created until enough masters are covered (bounded)."""
    quiz_id = upload(server.base, quiz)
    by_shard: dict[int, dict[str, Any]] = {}
    for _ in range(within):
        room = create_room(server.base, quiz_id)
        by_shard.setdefault(shard_of(cluster, room["code"]), room)
        if len(by_shard) == shards:
            break
    assert len(by_shard) == shards, f"rooms landed on {len(by_shard)} masters only"
    rooms = []
    for room in by_shard.values():
        host, _ = await open_on(Host, server, worker)
        welcome = await host.attach(room["code"], room["host_secret"])
        rooms.append(HostedRoom(room["code"], room["host_secret"], host, welcome))
    return rooms


async def probe(port: int, within: float = 5.0) -> tuple[socket.socket, dict[str, Any]]:
    """A connected TCP socket and the /healthz of the worker that accepted it."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        async with asyncio.timeout(within):
            await loop.sock_connect(sock, ("127.0.0.1", port))
            request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
            await loop.sock_sendall(sock, request.encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = await loop.sock_recv(sock, 4096)
                if not chunk:
                    raise ConnectionError("closed during /healthz")
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                chunk = await loop.sock_recv(sock, 4096)
                if not chunk:
                    raise ConnectionError("closed during /healthz")
                body += chunk
        return sock, dict(json.loads(body))
    except BaseException:
        sock.close()
        raise


async def open_on(
    cls: type[C], server: ServerProcess, worker: int | None = None, within: float = 15.0
) -> tuple[C, int]:
    """A websocket client of `cls` on `worker` (any worker when None) and that worker's pid.

    Idle workers race for each new connection, so a busy one can miss many in a row: keep
    probing, with short pauses, until one lands where we want it (bounded in time).
    """
    deadline = time.monotonic() + within
    misses = 0
    while True:
        sock, health = await probe(server.port)
        pid = int(health["worker"])
        if worker is None or pid == worker:
            break
        sock.close()
        misses += 1
        if time.monotonic() > deadline:
            raise AssertionError(f"no connection landed on worker {worker} in {misses} tries")
        await asyncio.sleep(min(0.002 * misses, 0.05))
    try:
        client = await cls(server.ws_url).open(sock=sock)
    except BaseException:
        sock.close()
        raise
    return client, pid


class HostedRoom(NamedTuple):
    code: str
    secret: str
    host: Host
    welcome: Frame  # the host's answer to its hello


async def hosted_room(
    server: ServerProcess, quiz: dict[str, Any], worker: int | None = None, team: str = ""
) -> HostedRoom:
    """`quiz` uploaded, a room of it, and its host attached on `worker` (any when None)."""
    room = create_room(server.base, upload(server.base, quiz), team=team)
    code, secret = room["code"], room["host_secret"]
    host, _ = await open_on(Host, server, worker)
    return HostedRoom(code, secret, host, await host.attach(code, secret))


async def screens_on(server: ServerProcess, code: str, workers: list[int]) -> list[WsClient]:
    """A projector screen of room `code` on each of `workers`."""
    screens = []
    for pid in workers:
        screen, _ = await open_on(WsClient, server, pid)
        await screen.send({"type": "hello", "role": "screen", "room": code})
        screens.append(screen)
    return screens


async def worker_pids(
    server: ServerProcess, count: int = WORKERS, within: float = 20.0
) -> list[int]:
    """The pids of `count` distinct workers that answer /healthz (waits for late starters)."""
    seen: set[int] = set()
    async with asyncio.timeout(within):
        while len(seen) < count:
            sock, health = await probe(server.port)
            sock.close()
            pid = int(health["worker"])
            if pid not in seen:
                seen.add(pid)
            else:
                await asyncio.sleep(0.02)
    return sorted(seen)


async def join_spread(
    server: ServerProcess, code: str, workers: list[int], n: int, name: str = "Speler"
) -> tuple[list[Phone], list[int]]:
    """`n` phones joined as `{name} {i}`, phone i on workers[i % len(workers)]."""
    opened = await asyncio.gather(
        *(open_on(Phone, server, workers[i % len(workers)]) for i in range(n))
    )
    phones = [phone for phone, _ in opened]
    welcomes = await asyncio.gather(*(p.join(code, f"{name} {i}") for i, p in enumerate(phones)))
    assert all(w["type"] == "welcome" for w in welcomes), welcomes
    assert [w["name"] for w in welcomes] == [f"{name} {i}" for i in range(n)]
    return phones, [pid for _, pid in opened]


def export(server: ServerProcess, code: str, secret: str) -> dict[str, Any]:
    response = httpx.get(
        f"{server.base}/api/rooms/{code}/results.json",
        headers={"X-Host-Secret": secret},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def close_all(clients: list[Any]) -> None:
    for client in clients:
        with contextlib.suppress(Exception):
            await client.close()


async def wait_until(predicate: Any, within: float, what: str) -> None:
    """Poll a cheap predicate (no I/O) until true; bounded."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
