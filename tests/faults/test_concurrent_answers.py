"""Concurrency: every player answers at once over two workers, twice on one socket and once more
from a second socket resumed with the same token on the other worker. Exactly one answer per
player per question is recorded: one `ack` per player, `already_answered` for the rest, and the
stored record (read straight from Redis), the reveal, the export and both sockets' `me` agree on
which one it was.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import msgpack
import redis

from tests.conftest import FAST_QUIZ
from tests.support.multiworker import (
    close_all,
    export,
    hosted_room,
    join_spread,
    open_on,
    redis_and_workers,
    wait_until,
    worker_pids,
)
from tests.support.phones import Phone, answer_frame

PLAYERS = 150
QUIZ = {
    **FAST_QUIZ,
    "id": "test-concurrent",
    "questions": [
        {**FAST_QUIZ["questions"][0], "time_limit": 60},
        {**FAST_QUIZ["questions"][1], "time_limit": 60},
        {**FAST_QUIZ["questions"][0], "id": "q3", "time_limit": 60},
    ],
}


def _replies(phone: Phone, mark: int) -> list[dict[str, Any]]:
    return [f for f in phone.frames[mark:] if f.get("type") in ("ack", "error")]


async def test_duplicate_answers_from_two_workers_record_exactly_one(tmp_path: Path) -> None:
    with redis_and_workers(tmp_path) as (redis_server, server):
        workers = await worker_pids(server)
        code, secret, host, _ = await hosted_room(server, QUIZ, workers[0])
        firsts, on = await join_spread(server, code, workers, PLAYERS)
        players = [p.welcome["player"] for p in firsts]  # type: ignore[index]
        # The same player's second socket, on the other worker.
        opened = await asyncio.gather(
            *(open_on(Phone, server, workers[(i + 1) % 2]) for i in range(PLAYERS))
        )
        seconds = [phone for phone, _ in opened]
        assert all(pid != on[i] for i, (_, pid) in enumerate(opened))
        resumed = await asyncio.gather(
            *(s.resume(code, f.welcome["token"]) for f, s in zip(firsts, seconds, strict=True))  # type: ignore[index]
        )
        assert [w["player"] for w in resumed] == players
        # One phone that never answers keeps each question open until the host closes it, so
        # every duplicate meets an open question (and gets already_answered, not too_late).
        idle, _ = await open_on(Phone, server)
        await idle.join(code, "Kijker")
        clients: list[Any] = [host, idle, *firsts, *seconds]
        store = redis.Redis.from_url(redis_server.url)
        counted: list[dict[str, int]] = []
        try:
            await host.control("start")
            for index, question in enumerate(QUIZ["questions"]):
                await asyncio.gather(
                    *(p.wait_view("question", index=index) for p in [*firsts, *seconds])
                )
                options = 2 if question["type"] == "true_false" else len(question["options"])
                # Socket 1 sends choice a twice, socket 2 (other worker) sends b; all at once.
                a = [i % options for i in range(PLAYERS)]
                b = [(i + 1) % options for i in range(PLAYERS)]
                marks1 = [len(p.frames) for p in firsts]
                marks2 = [len(p.frames) for p in seconds]

                def frame(choice: int, idx: int = index) -> dict[str, Any]:
                    return answer_frame(idx, choice)

                async def twice(phone: Phone, choice: int) -> None:
                    await phone.send(frame(choice))
                    await phone.send(frame(choice))

                await asyncio.gather(
                    *(twice(firsts[i], a[i]) for i in range(PLAYERS)),
                    *(seconds[i].send(frame(b[i])) for i in range(PLAYERS)),
                )
                await wait_until(
                    lambda m1=marks1, m2=marks2: all(
                        len(_replies(firsts[i], m1[i])) >= 2 and len(_replies(seconds[i], m2[i]))
                        for i in range(PLAYERS)
                    ),
                    15,
                    "every answer to get a reply",
                )
                acked: dict[str, int] = {}
                for i in range(PLAYERS):
                    replies = _replies(firsts[i], marks1[i]) + _replies(seconds[i], marks2[i])
                    kinds = Counter(r.get("code", r["type"]) for r in replies)
                    assert kinds == {"ack": 1, "already_answered": 2}, (i, replies)
                    ack = next(r for r in replies if r["type"] == "ack")
                    assert ack["question"] == index and ack["choice"] in (a[i], b[i])
                    acked[players[i]] = ack["choice"]

                # Exactly one record per player in Redis, and it is the acknowledged one.
                raw = store.hgetall(f"kk:room:{{{code}}}:t:i0:answers:1:{index}")
                stored = {k.decode(): msgpack.unpackb(v)["choice"] for k, v in raw.items()}
                assert stored == acked
                counted.append(acked)

                # Both sockets of a player, on different workers, show the answer that counts.
                def shown(i: int, idx: int = index, given: dict[str, int] = acked) -> bool:
                    return all(
                        p.me is not None
                        and (p.me.get("answer") or {}).get("question") == idx
                        and p.me["answer"]["choice"] == given[players[i]]
                        for p in (firsts[i], seconds[i])
                    )

                await wait_until(lambda: all(shown(i) for i in range(PLAYERS)), 10, "me frames")
                await host.control("close")
                reveal = await host.wait_view("reveal", index=index)
                counts = Counter(acked.values())
                assert reveal["reveal"]["distribution"] == [counts[c] for c in range(options)]
                assert reveal["answered"] == {"count": PLAYERS, "of": PLAYERS + 1}
                # Nothing more arrived after the close: still one ack per player.
                for i in range(PLAYERS):
                    replies = _replies(firsts[i], marks1[i]) + _replies(seconds[i], marks2[i])
                    assert len(replies) == 3, (i, replies)
                await host.control("next")

            results = export(server, code, secret)
            by_id = {p["id"]: p for p in results["players"]}
            for pid in players:
                answers = by_id[pid]["answers"]
                assert len(answers) == len(QUIZ["questions"])
                questions = QUIZ["questions"]
                for question, given, answer in zip(questions, counted, answers, strict=True):
                    texts = (
                        ["Waar", "Niet waar"]
                        if question["type"] == "true_false"
                        else [o["text"] for o in question["options"]]
                    )
                    assert answer["answer"] == texts[given[pid]], (pid, answer)
        finally:
            store.close()
            await close_all(clients)
