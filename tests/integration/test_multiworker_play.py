"""Two uvicorn workers on one Redis: phones on both workers play one quiz and all see the same."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.conftest import FAST_QUIZ
from tests.support.multiworker import (
    close_all,
    export,
    hosted_room,
    join_spread,
    probe,
    redis_and_workers,
    screens_on,
    wait_until,
    worker_pids,
)

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
        code, secret, host, welcome = await hosted_room(
            server, FAST_QUIZ, workers[0], team="Wijkteam Noord"
        )
        assert welcome["type"] == "welcome"
        screens = await screens_on(server, code, workers)
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
