"""A scripted websocket client speaking docs/PROTOCOL.md, for integration and fault tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgpack
from websockets.asyncio.client import ClientConnection, connect

Frame = dict[str, Any]


def answer_frame(
    question: int, choice: int | None = None, value: float | None = None, item: int = 0
) -> Frame:
    """A quiz answer: the generic `input` frame with the quiz's payload (docs/PROTOCOL.md)."""
    data: Frame = {"question": question}
    if choice is not None:
        data["choice"] = choice
    if value is not None:
        data["value"] = value
    return {"type": "input", "item": item, "data": data}


def pack(frame: Frame) -> bytes:
    return msgpack.packb(frame, use_bin_type=True)  # type: ignore[no-any-return]


class WsClient:
    """One socket; keeps every frame it got, newest view and me, and lets a test wait for one."""

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url
        self.ws: ClientConnection | None = None
        self.frames: list[Frame] = []
        self.view: Frame | None = None
        self.me: Frame | None = None
        self.welcome: Frame | None = None
        self.errors: list[Frame] = []
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self.closed = asyncio.Event()

    async def open(self, **kwargs: Any) -> WsClient:
        self.ws = await connect(self.ws_url, max_size=2**20, compression=None, **kwargs)
        self.closed.clear()
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                frame = msgpack.unpackb(raw, raw=False)
                async with self._changed:
                    self.frames.append(frame)
                    kind = frame.get("type")
                    if kind == "view" and (self.view is None or frame["v"] >= self.view["v"]):
                        self.view = frame
                    elif kind == "me":
                        self.me = frame
                    elif kind == "welcome":
                        self.welcome = frame
                    elif kind == "error":
                        self.errors.append(frame)
                    self._changed.notify_all()
        except Exception:
            pass
        finally:
            self.closed.set()
            async with self._changed:
                self._changed.notify_all()

    async def send(self, frame: Frame) -> None:
        assert self.ws is not None
        await self.ws.send(pack(frame))

    async def send_raw(self, data: bytes | str) -> None:
        assert self.ws is not None
        await self.ws.send(data)

    async def wait_for(
        self, predicate: Callable[[Frame], bool], timeout: float = 10.0, since: int = 0
    ) -> Frame:
        """The first frame (from index `since`) matching `predicate`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                for frame in self.frames[since:]:
                    if predicate(frame):
                        return frame
                left = deadline - time.monotonic()
                if left <= 0 or self.closed.is_set():
                    kinds = [
                        (f.get("type"), f.get("phase"), f.get("code")) for f in self.frames[-8:]
                    ]
                    raise TimeoutError(f"no matching frame; last frames: {kinds}")
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    pass

    async def wait_view(self, phase: str, timeout: float = 10.0, **match: Any) -> Frame:
        def ok(f: Frame) -> bool:
            if f.get("type") != "view" or f.get("phase") != phase:
                return False
            return all(f.get("question", {}).get(k) == v for k, v in match.items())

        return await self.wait_for(ok, timeout)

    async def wait_error(self, code: str, timeout: float = 5.0, since: int = 0) -> Frame:
        return await self.wait_for(
            lambda f: f.get("type") == "error" and f.get("code") == code, timeout, since
        )

    async def request(self, frame: Frame, answer_type: str, timeout: float = 5.0) -> Frame:
        """Send and wait for the next frame of `answer_type` or an error."""
        mark = len(self.frames)
        await self.send(frame)
        return await self.wait_for(
            lambda f: f.get("type") in (answer_type, "error"), timeout, since=mark
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)


class Phone(WsClient):
    async def join(self, room: str, name: str) -> Frame:
        frame = await self.request(
            {"type": "hello", "role": "phone", "room": room, "name": name}, "welcome"
        )
        return frame

    async def resume(self, room: str, token: str) -> Frame:
        return await self.request(
            {"type": "hello", "role": "phone", "room": room, "token": token}, "welcome"
        )

    async def answer(
        self, question: int, choice: int | None = None, value: float | None = None
    ) -> Frame:
        item = self.view["item"] if self.view and "item" in self.view else 0
        return await self.request(answer_frame(question, choice, value, item), "ack")

    async def reply_since(self, mark: int, within: float) -> Frame | None:
        """The reply (ack or error) to an answer sent at frame index `mark`, or None if none came
        in time (the socket died first)."""
        try:
            return await self.wait_for(
                lambda f: f.get("type") in ("ack", "error"), timeout=within, since=mark
            )
        except TimeoutError:
            return None


class Host(WsClient):
    async def attach(self, room: str, secret: str) -> Frame:
        return await self.request(
            {"type": "hello", "role": "host", "room": room, "secret": secret}, "welcome"
        )

    async def control(self, action: str, **extra: Any) -> None:
        await self.send({"type": "control", "action": action, **extra})

    async def command(self, action: str, timeout: float = 10.0) -> Frame:
        """`control` `action` and its `done`: the server has finished the command's writes
        (the projector and phones may show the change before that: Fanout.show_saved)."""
        since = len(self.frames)
        await self.control(action)
        return await self.wait_for(
            lambda f: f.get("type") == "done" and f.get("action") == action, timeout, since
        )
