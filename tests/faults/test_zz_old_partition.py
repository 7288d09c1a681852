"""Fault: every connection between the workers and Redis is cut for 10 s (a partition made by a
TCP proxy), mid-question, while phones on both workers answer and a new phone tries to join.

Expected: one clear line per worker when Redis becomes unreachable and one when it is back (with
how long); no traceback; a socket whose request needed Redis is closed with the documented code
1011 (never 1006) and resumes afterwards; nothing acknowledged is lost; the room plays on.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx

from tests.conftest import FAST_QUIZ
from tests.faults.test_redis_stall import workers_behind_a_proxy
from tests.support.multiworker import close_all, export, hosted_room, join_spread, worker_pids
from tests.support.phones import Phone, answer_frame

PHONES = 12
DOWN_S = 10.0
QUIZ = {
    **FAST_QUIZ,
    "id": "test-redis-partition",
    "questions": [{**FAST_QUIZ["questions"][0], "time_limit": 120}],
}


async def test_a_partition_is_two_log_lines_and_clean_closes(tmp_path: Path) -> None:
    with workers_behind_a_proxy(tmp_path) as (proxy, server):
        workers = await worker_pids(server)
        room = await hosted_room(server, QUIZ, workers[0])
        phones, _ = await join_spread(server, room.code, workers, PHONES)
        tokens = [p.welcome["token"] for p in phones if p.welcome]
        late: Phone | None = None
        try:
            await room.host.control("start")
            await asyncio.gather(*(p.wait_view("question") for p in phones))
            before = server.log_path.read_text()

            proxy.partition()
            cut_at = time.monotonic()
            # Half the phones answer during the partition; a new phone tries to join; HTTP too.
            for i in range(0, PHONES, 2):
                await phones[i].send(answer_frame(0, 0))
            late = await Phone(server.ws_url).open()
            await late.send({"type": "hello", "role": "phone", "room": room.code, "name": "Laat"})
            status = (await asyncio.to_thread(
                httpx.get, f"{server.base}/api/rooms/{room.code}", timeout=30)).status_code
            await asyncio.sleep(max(0.0, DOWN_S - (time.monotonic() - cut_at)))
            proxy.heal()

            # Whoever was cut was cut with the documented code, never without a close frame.
            closed = [c for c in [*phones, late] if c.closed.is_set()]
            for client in closed:
                assert client.ws is not None and client.ws.close_code == 1011, client.ws.close_code
            assert status in (200, 503)

            # The cut phones come back as themselves, answer, and the question closes normally.
            for i, phone in enumerate(phones):
                if phone.closed.is_set():
                    fresh = await Phone(server.ws_url).open()
                    assert (await fresh.resume(room.code, tokens[i]))["type"] == "welcome"
                    phones[i] = fresh
            for i in range(0, PHONES, 2):
                reply = await phones[i].answer(0, choice=0)
                assert reply["type"] == "ack" or reply.get("code") == "already_answered", reply
            await room.host.control("close")
            await asyncio.gather(*(p.wait_view("reveal", timeout=20) for p in phones))
            answered = {
                p["name"] for p in export(server, room.code, room.secret)["players"]
                if p["answers"] and p["answers"][0]["answer"]
            }
            assert answered == {f"Speler {i}" for i in range(0, PHONES, 2)}
        finally:
            await close_all([*phones, room.host, *([late] if late else [])])
        log = server.log_path.read_text()[len(before):]
        assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-4000:]
        down = re.findall(r"redis is unreachable", log)
        back = re.findall(r"redis is reachable again after (\d+\.\d) s", log)
        assert 1 <= len(down) <= len(workers), log[-3000:]
        assert len(back) == len(down), log[-3000:]
        assert all(float(s) >= DOWN_S - 2 for s in back), back
        assert len(log.splitlines()) < 40, log[-4000:]
