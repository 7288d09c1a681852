"""Two uvicorn workers on one Redis: phones on both workers play one quiz and all see the same.

The helpers here are shared with the fault tests (worker kill, Redis restart, concurrent
answers). They put each socket on a known worker: a client first sends one keep-alive
`GET /healthz` over a fresh TCP connection, reads the `worker` (pid) of the process that accepted
it, and then upgrades that same connection to the websocket. The kernel hands connections to
uvicorn's workers as it likes; this tells us exactly where each one landed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.conftest import FAST_QUIZ, create_room, upload
from tests.support.phones import Host, Phone, WsClient
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
        f"{server.base}/api/rooms/{code}/results.json", params={"secret": secret}, timeout=10
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


# ---- the test -----------------------------------------------------------------------------------
PHONES = 40


def _script(i: int, question: dict[str, Any]) -> dict[str, Any]:
    """What phone i answers: fixed per phone, a mix of right and wrong."""
    if question["type"] == "estimate":
        return {"value": [50, 47, 90, 10][i % 4]}
    return {"choice": (i * 7 + question["index"]) % len(question["options"])}


async def test_phones_on_two_workers_play_one_quiz_and_agree(tmp_path: Path) -> None:
    with redis_and_workers(tmp_path) as (_, server):
        workers = await worker_pids(server)
        # The quiz goes in through one worker and the room through maybe another: all shared.
        room = create_room(server.base, upload(server.base, FAST_QUIZ), team="Wijkteam Noord")
        code, secret = room["code"], room["host_secret"]
        host, _ = await open_on(Host, server, workers[0])
        assert (await host.attach(code, secret))["type"] == "welcome"
        screens = []
        for pid in workers:
            screen, _ = await open_on(WsClient, server, pid)
            await screen.send({"type": "hello", "role": "screen", "room": code})
            screens.append(screen)
        phones, on = await join_spread(server, code, workers, PHONES)
        clients = [host, *screens, *phones]
        try:
            # Each worker's /healthz counts its own sockets: half the phones, its screen (+ host).
            expected = {workers[0]: PHONES // 2 + 2, workers[1]: PHONES // 2 + 1}
            counts: dict[int, int] = {}
            async with asyncio.timeout(10):
                while counts != expected:
                    sock, health = await probe(server.port)
                    sock.close()
                    counts[health["worker"]] = health["connections"]
            # Joins on either worker reach the screens on both.
            for screen in screens:
                await screen.wait_for(
                    lambda f: f.get("type") == "view" and f.get("lobby", {}).get("count") == PHONES
                )
            await host.control("start")
            for index in range(3):
                views = await asyncio.gather(
                    *(c.wait_view("question", index=index) for c in [*screens, *phones])
                )
                question = views[0]["question"]
                assert all(
                    v["question"] == {**question, "remaining_ms": v["question"]["remaining_ms"]}
                    for v in views
                )
                sent = [_script(i, question) for i in range(PHONES)]
                # First only the phones of worker B answer: the screen on worker A must count them.
                first = [i for i in range(PHONES) if on[i] == workers[1]]
                acks = await asyncio.gather(*(phones[i].answer(index, **sent[i]) for i in first))
                assert all(a["type"] == "ack" for a in acks), acks
                n = len(first)
                for screen in screens:
                    await screen.wait_for(
                        lambda f, n=n: (
                            f.get("type") == "view" and f.get("answered", {}).get("count") == n
                        )
                    )
                rest = [i for i in range(PHONES) if on[i] == workers[0]]
                acks = await asyncio.gather(*(phones[i].answer(index, **sent[i]) for i in rest))
                assert all(a["type"] == "ack" for a in acks), acks
                # Everybody answered: the question closes, and both screens show the same reveal.
                reveals = [await s.wait_view("reveal", index=index) for s in screens]
                assert reveals[0]["reveal"] == reveals[1]["reveal"]
                assert (
                    reveals[0]["answered"]
                    == reveals[1]["answered"]
                    == {"count": PHONES, "of": PHONES}
                )
                if question["type"] != "estimate":
                    distribution = [0] * len(question["options"])
                    for s in sent:
                        distribution[s["choice"]] += 1
                    assert reveals[0]["reveal"]["distribution"] == distribution
                # Every phone, on either worker, sees the reveal and its own result.
                await asyncio.gather(*(p.wait_view("reveal", index=index) for p in phones))
                marks = [len(s.frames) for s in screens]
                await host.control("scoreboard")
                boards = [
                    await s.wait_for(lambda f: f.get("phase") == "scoreboard", since=mark)
                    for s, mark in zip(screens, marks, strict=True)
                ]
                assert boards[0]["scoreboard"] == boards[1]["scoreboard"]
                await host.control("next")
            podiums = [await s.wait_view("podium") for s in screens]
            assert podiums[0]["podium"] == podiums[1]["podium"]
            podium = podiums[0]["podium"]
            assert podium["bokaal"]["winner"] == podium["top"][0]["name"]

            results = export(server, code, secret)
            by_name = {p["name"]: p for p in results["players"]}
            assert len(by_name) == PHONES
            top = [(t["name"], t["score"]) for t in boards[0]["scoreboard"]["top"]]
            assert top == [(p["name"], p["score"]) for p in results["players"][:10]]

            # Each phone's own frame agrees with the export, whichever worker it is on.
            def settled() -> bool:
                return all(
                    p.me is not None
                    and p.me.get("score") == by_name[f"Speler {i}"]["score"]
                    and p.me.get("rank") == by_name[f"Speler {i}"]["rank"]
                    for i, p in enumerate(phones)
                )

            await wait_until(settled, 5, "phones' me frames to match the export")
            for i in range(PHONES):
                assert len(by_name[f"Speler {i}"]["answers"]) == 3
        finally:
            await close_all(clients)
