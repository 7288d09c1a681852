"""A load balancer on loopback for tests: several Kenniskring servers behind one address.

docs/DEPLOYING.md runs several machines on one Redis behind a load balancer without sticky
sessions. This stands in for that balancer: every new TCP connection goes to the next backend in
turn, and the bytes go both ways unchanged. Websocket upgrades and plain HTTP requests take turns
separately (the first bytes of a connection tell which), so the sockets of consecutive pages
alternate over the backends whatever the browser does with its keep-alive connections.
`take_out(port)` does what a balancer's health check does once a machine stops answering: no new
connection goes there, and the ones it carried are cut.

`by_room=True` is the balancer with room affinity of docs/DEPLOYING.md (nginx's
`hash $arg_room`): a websocket upgrade goes to the backend its `?room=` code hashes to, so every
socket of one room lands on one server. `rooms` records, per room code in the upgrades' URLs
(None: an upgrade without one), the backends its sockets went to.

It runs its own event loop in a thread, so synchronous tests (Playwright) can use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import zlib
from collections import Counter, defaultdict
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from tests.support.redis_server import RedisServer, free_port
from tests.support.servers import ServerProcess

HEAD_LIMIT = 16_384  # a request head longer than this is passed on as plain HTTP


class Balancer:
    def __init__(self, backends: list[int], by_room: bool = False) -> None:
        self.backends = list(backends)
        self.by_room = by_room
        self.rooms: defaultdict[str | None, set[int]] = defaultdict(set)
        self.port = free_port()
        self.websockets: Counter[int] = Counter()  # websocket connections per backend port
        self.requests: Counter[int] = Counter()  # other connections per backend port
        self.open_websockets: Counter[int] = Counter()  # websockets carried now, per backend
        self._out: set[int] = set()
        self._turns = {True: itertools.count(), False: itertools.count()}
        self._open: dict[int, set[asyncio.StreamWriter]] = {port: set() for port in backends}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Balancer:
        self._thread.start()
        self._call(self._listen())
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def take_out(self, backend: int) -> None:
        """No new connection goes to `backend`; the connections it carries are cut."""
        self._call(self._take_out(backend))

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        for port in self.backends:
            await self._take_out(port)
        carrying = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in carrying:
            task.cancel()
        await asyncio.gather(*carrying, return_exceptions=True)

    async def _take_out(self, backend: int) -> None:
        self._out.add(backend)
        for writer in list(self._open[backend]):
            writer.close()

    def _next(self, websocket: bool, room: str | None) -> int | None:
        live = [port for port in self.backends if port not in self._out]
        if not live:
            return None
        if websocket and self.by_room and room is not None:
            return live[zlib.crc32(room.encode()) % len(live)]
        return live[next(self._turns[websocket]) % len(live)]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = b""
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while b"\r\n\r\n" not in head and len(head) < HEAD_LIMIT:
                chunk = await reader.read(4096)
                if not chunk:
                    break
                head += chunk
        websocket = b"upgrade: websocket" in head.lower()
        room = room_in(head) if websocket else None
        backend = self._next(websocket, room)
        if not head or backend is None:
            writer.close()
            return
        if websocket:
            self.rooms[room].add(backend)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend)
        except OSError:
            writer.close()
            return
        (self.websockets if websocket else self.requests)[backend] += 1
        self.open_websockets[backend] += websocket
        carried = self._open[backend]
        carried.update((writer, up_writer))
        try:
            up_writer.write(head)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self.open_websockets[backend] -= websocket
            carried.discard(writer)
            carried.discard(up_writer)
            writer.close()
            up_writer.close()


def room_in(head: bytes) -> str | None:
    """The `room` query parameter of a request head's URL, if there is one."""
    target = head.split(b"\r\n", 1)[0].split(b" ")
    if len(target) < 2:
        return None
    found = parse_qs(urlsplit(target[1].decode("latin-1")).query).get("room")
    return found[0] if found else None


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy until either side ends, then end the other side too."""
    try:
        while chunk := await source.read(65_536):
            sink.write(chunk)
            await sink.drain()
    except OSError:
        pass
    finally:
        sink.close()


@contextlib.contextmanager
def balanced(backends: list[int], by_room: bool = False) -> Iterator[Balancer]:
    balancer = Balancer(backends, by_room).start()
    try:
        yield balancer
    finally:
        balancer.stop()


class Deployment(NamedTuple):
    """Servers on one Redis behind a balancer: what a browser sees is `balancer.base`."""

    redis: RedisServer
    servers: list[ServerProcess]
    balancer: Balancer

    @property
    def base(self) -> str:
        return self.balancer.base


@contextlib.contextmanager
def servers_behind_a_balancer(
    data_dir: Path, count: int = 2, by_room: bool = False
) -> Iterator[Deployment]:
    """`count` servers of one worker each on a fresh redis-server (FAILS the test when there is
    none), behind a Balancer (`by_room`: with room affinity); the join links and QR codes point
    at the balancer."""
    servers = [ServerProcess(data_dir / f"server-{i}") for i in range(count)]
    with contextlib.ExitStack() as stack:
        redis = RedisServer()
        stack.callback(redis.close)
        redis.start()
        balancer = stack.enter_context(balanced([server.port for server in servers], by_room))
        for server in servers:
            server.redis_url = redis.url
            server.args = ["--public-url", balancer.base]
            stack.callback(server.stop)
            server.start()
        yield Deployment(redis, servers, balancer)
