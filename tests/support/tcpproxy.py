"""A TCP proxy on loopback between the workers and Redis, to make the quiet faults: a stall (every
connection stays open, no byte flows) and a partition (every connection is cut, new ones are
refused). It runs its own event loop in a thread, so a test's blocking calls cannot hold it up;
it forwards only to a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable


class TcpProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._refusing = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        self._flowing.set()
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def stall(self) -> None:
        """Bytes stop flowing both ways; connections stay open, new ones are accepted (and
        stall too). What was sent meanwhile arrives after `resume`, as from a congested link."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def cut(self) -> None:
        """Close every connection now."""
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def partition(self) -> None:
        """Cut every connection and refuse new ones until `heal`."""
        self._refusing = True
        self.cut()

    def heal(self) -> None:
        self._refusing = False

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while True:
                chunk = await src.read(65536)
                await self._flowing.wait()
                if not chunk:
                    break
                dst.write(chunk)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(dst)
            with contextlib.suppress(Exception):
                dst.close()


class ProxyThread:
    """A TcpProxy in a thread of its own; every call is thread-safe and returns when done."""

    def __init__(self, upstream_port: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.proxy = self._call(lambda: TcpProxy(upstream_port).start())

    def _call(self, make: Callable[[], object]) -> TcpProxy:
        async def run() -> object:
            result = make()
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)  # type: ignore[return-value]

    @property
    def url(self) -> str:
        return self.proxy.url

    def stall(self) -> None:
        self._call(self.proxy.stall)

    def resume(self) -> None:
        self._call(self.proxy.resume)

    def partition(self) -> None:
        self._call(self.proxy.partition)

    def heal(self) -> None:
        self._call(self.proxy.heal)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self.proxy.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
