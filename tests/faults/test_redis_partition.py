"""Fault: every connection between the workers and Redis is cut for 10 s or more (a partition by a
TCP proxy), mid-question, while phones on both workers answer and a new phone tries to join.

Expected during the partition: one clear line per worker when Redis becomes unreachable, no
traceback, and a socket whose request needed Redis closed with the documented code 1011 (never
1006), so the phone reconnects and resumes.

Not asserted here: recovery after the partition. In about half of the runs on a loaded 2-core
machine both workers stopped answering requests after the proxy let connections through again
(their event loops idle; see the issue notes) — a bug still open, not hidden by a retry here.
Recovery after a Redis restart is covered by tests/faults/test_redis_restart.py.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from tests.conftest import FAST_QUIZ
from tests.faults.test_redis_stall import workers_behind_a_proxy
from tests.support.multiworker import close_all, hosted_room, join_spread, worker_pids
from tests.support.phones import Phone, answer_frame

PHONES = 12
DOWN_S = 10.0
QUIZ = {
    **FAST_QUIZ,
    "id": "test-redis-partition",
    "questions": [{**FAST_QUIZ["questions"][0], "time_limit": 120}],
}


async def test_a_partition_is_one_log_line_and_clean_closes(tmp_path: Path) -> None:
    with workers_behind_a_proxy(tmp_path) as (proxy, server):
        workers = await worker_pids(server)
        room = await hosted_room(server, QUIZ, workers[0])
        phones, _ = await join_spread(server, room.code, workers, PHONES)
        late: Phone | None = None
        try:
            await room.host.control("start")
            await asyncio.gather(*(p.wait_view("question") for p in phones))
            before = server.log_path.read_text()

            proxy.partition()
            cut_at = time.monotonic()
            # Half the phones answer during the partition; a new phone tries to join.
            for i in range(0, PHONES, 2):
                await phones[i].send(answer_frame(0, 0))
            late = await Phone(server.ws_url).open()
            await late.send({"type": "hello", "role": "phone", "room": room.code, "name": "Laat"})
            await asyncio.sleep(max(0.0, DOWN_S - (time.monotonic() - cut_at)))
            # Every request that needed Redis gives up with a close once the client's retries
            # run out (about 5 s, longer when requests queue for a pooled connection): wait,
            # bounded, for the first, with Redis still unreachable.
            clients = [*phones, late]
            deadline = time.monotonic() + 30
            while not any(c.closed.is_set() for c in clients) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            during = server.log_path.read_text()[len(before):]

            # Whoever was cut was cut with the documented code, never without a close frame.
            closed = [c for c in clients if c.closed.is_set()]
            assert closed, "no socket whose request needed Redis was closed during the partition"
            for client in closed:
                assert client.ws is not None and client.ws.close_code == 1011, client.ws.close_code
        finally:
            proxy.heal()
            await close_all([*phones, room.host, *([late] if late else [])])
        assert "Traceback" not in during and "Exception in ASGI application" not in during, during
        down = re.findall(r"redis is unreachable", during)
        assert 1 <= len(down) <= len(workers), during[-3000:]
        assert len(during.splitlines()) < 40, during[-4000:]
