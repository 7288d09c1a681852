"""A websocket leaves no reference cycle, from its upgrade to its close: reference counting frees
it when it closes (before the two cycles were broken, every closed socket left about 57
objects for a full garbage collection to find). Real uvicorn with `kenniskring serve`'s
options on its event loop (uvloop, server/web/eventloop.py), real websocket clients that join
a room and then drop."""

from __future__ import annotations

import asyncio
import gc
import tempfile
from collections import Counter
from pathlib import Path

import httpx
import uvicorn

from server.web.eventloop import new_event_loop
from tests.conftest import FAST_QUIZ
from tests.support.phones import Phone
from tests.support.servers import in_process

PHONES = 20
SERVER_SIDE = (
    "FrameWritingProtocol",
    "UpgradingHttpProtocol",
    "HttpToolsProtocol",
    "HttpRequestParser",
    "websockets.server.ServerProtocol",
    "server.hub.clients.Client",
)


async def cycles_of_dropped_phones(address: str, server: uvicorn.Server, code: str) -> Counter[str]:
    """The cyclic garbage (by type) made while PHONES phones connect, join and drop."""
    phones = [Phone(f"ws://{address}/ws") for _ in range(PHONES)]
    gc.collect()
    gc.disable()  # nothing is collected meanwhile: all their garbage is still there below
    try:
        for n, phone in enumerate(phones):
            await phone.open()
            await phone.join(code, f"Speler {n}")
        for phone in phones:
            assert phone.ws is not None
            phone.ws.transport.abort()  # the Wi-Fi drops: no close frame
        for _ in range(100):  # bounded: the server notices the drops
            if len(server.server_state.connections) == 1:  # the watcher's
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_phones_that_drop_leave_no_cyclic_garbage() -> None:
    async def main() -> Counter[str]:
        async with in_process(Path(tempfile.mkdtemp())) as (address, server):
            async with httpx.AsyncClient(base_url=f"http://{address}") as http:
                quiz = (await http.post("/api/quizzes", json=FAST_QUIZ)).json()["id"]
                code = (await http.post("/api/rooms", json={"quiz_id": quiz})).json()["code"]
            watcher = await Phone(f"ws://{address}/ws").open()  # keeps the room alive
            await watcher.join(code, "Blijft")
            left = await cycles_of_dropped_phones(address, server, code)
            await watcher.close()
            return left

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        left = runner.run(main())
    cycles = {k: v for k, v in left.items() if k.endswith(SERVER_SIDE)}
    assert not cycles, f"the phones' sockets left cycles: {cycles}"
    # before the two cycles were broken: about 57 objects per phone
    assert sum(left.values()) < 5, str(sorted(left.items()))
