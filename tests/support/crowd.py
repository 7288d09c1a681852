"""Many players on websockets for a browser test: a crowd on its own event loop in a thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

from tests.support.phones import Phone


class Crowd:
    """Players on websockets (docs/PROTOCOL.md), run on their own event loop in a thread, so a
    room can hold as many names at their maximum length as the lobby and scoreboard show."""

    def __init__(self, ws_url: str) -> None:
        self.ws_url = ws_url
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.phones: list[Phone] = []

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def join(self, code: str, names: list[str]) -> None:
        async def one(name: str) -> Phone:
            phone = await Phone(self.ws_url).open()
            welcome = await phone.join(code, name)
            assert welcome["type"] == "welcome", welcome
            return phone

        async def all_of() -> list[Phone]:
            return list(await asyncio.gather(*(one(name) for name in names)))

        self.phones += self.run(all_of())

    def answer(self, question: int, pick: Any) -> None:
        async def one(i: int, phone: Phone) -> None:
            await phone.wait_view("question", index=question)
            choice, value = pick(i)
            reply = await phone.answer(question, choice, value)
            assert reply["type"] == "ack", reply

        async def all_of() -> None:
            await asyncio.gather(*(one(i, p) for i, p in enumerate(self.phones)))

        self.run(all_of())

    def close(self) -> None:
        async def all_of() -> None:
            await asyncio.gather(*(p.close() for p in self.phones), return_exceptions=True)

        self.run(all_of())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
