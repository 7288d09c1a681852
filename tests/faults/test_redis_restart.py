"""Fault: Redis (appendonly yes, appendfsync always) restarts in the middle of a round.

Both workers reconnect and resubscribe by themselves, the round goes on for phones on both
workers, and no acknowledged answer is lost — also when Redis is killed (SIGKILL) rather than
stopped, because every acknowledged write was fsynced to the append-only file first.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import FAST_QUIZ
from tests.support.multiworker import (
    close_all,
    export,
    hosted_room,
    join_spread,
    open_on,
    redis_and_workers,
    screens_on,
    wait_until,
    worker_pids,
)
from tests.support.phones import Phone, answer_frame

PHONES = 60
QUIZ = {
    **FAST_QUIZ,
    "id": "test-redis-restart",
    "questions": [
        {**FAST_QUIZ["questions"][0], "time_limit": 60},
        {**FAST_QUIZ["questions"][1], "time_limit": 60},
    ],
}
DOWN_S = 0.5  # well inside the workers' retry budget (about 5 s)
OPTIONS = [o["text"] for o in FAST_QUIZ["questions"][0]["options"]]


def choice(i: int) -> int:
    return (i * 5) % len(OPTIONS)


def wave(i: int) -> str:
    """A: before the restart, B: sent while Redis is down, C: after it is back.
    Phone i is on worker i % 2, so every wave has phones on both workers."""
    return "ABC"[(i // 2) % 3]


def _replied(phone: Phone, mark: int) -> bool:
    return any(f.get("type") in ("ack", "error") for f in phone.frames[mark:])


async def _subscribers(url: str, channel: str, want: int, within: float) -> float:
    """Seconds until `want` connections subscribe to `channel` (PUBSUB NUMSUB), bounded."""
    started = time.monotonic()
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        while True:
            try:
                count = dict(client.pubsub_numsub(channel)).get(channel.encode(), 0)
            except redis.RedisError:
                count = -1
            if count == want:
                return time.monotonic() - started
            if time.monotonic() - started > within:
                raise AssertionError(f"{channel}: {count} subscribers, want {want}")
            await asyncio.sleep(0.05)
    finally:
        client.close()


@pytest.mark.parametrize("hard", [False, True], ids=["sigterm", "sigkill"])
async def test_redis_restart_mid_round(tmp_path: Path, hard: bool) -> None:
    with redis_and_workers(tmp_path, appendonly=True) as (redis_server, server):
        workers = await worker_pids(server)
        code, secret, host, _ = await hosted_room(server, QUIZ, workers[0])
        screens = await screens_on(server, code, workers)
        phones, on = await join_spread(server, code, workers, PHONES)
        clients: list[Any] = [host, *screens, *phones]
        channel = f"kk:ch:{{{code}}}"
        try:
            assert await _subscribers(redis_server.url, channel, len(workers), 10) >= 0
            await host.command("start")  # done: the restart cuts no write of it
            await asyncio.gather(*(p.wait_view("question", index=0) for p in phones))
            acked: dict[int, int] = {}

            async def answer(i: int) -> None:
                reply = await phones[i].answer(0, choice=choice(i))
                assert reply["type"] == "ack", (i, reply)
                acked[i] = reply["choice"]

            await asyncio.gather(*(answer(i) for i in range(PHONES) if wave(i) == "A"))

            # Redis goes down; wave B is sent while it is down; it comes back on the same port
            # and files.
            await asyncio.to_thread(redis_server.kill if hard else redis_server.stop)
            marks = {i: len(phones[i].frames) for i in range(PHONES) if wave(i) == "B"}
            await asyncio.gather(*(phones[i].send(answer_frame(0, choice(i))) for i in marks))
            await asyncio.sleep(DOWN_S)
            assert not any(_replied(phones[i], m) for i, m in marks.items())
            await asyncio.to_thread(redis_server.start)
            back = time.monotonic()
            replies = await asyncio.gather(
                *(phones[i].reply_since(m, 15) for i, m in marks.items())
            )
            for i, reply in zip(marks, replies, strict=True):
                # The workers' Redis retries ride out the restart: each answer is stored and
                # acknowledged once, however it was timed against the restart.
                assert reply is not None and reply["type"] == "ack", (i, reply)
                acked[i] = reply["choice"]
            assert not any(c.closed.is_set() for c in clients), "a socket was dropped"

            # Both workers resubscribe to the room (the heartbeat notices a dead subscription).
            await _subscribers(redis_server.url, channel, len(workers), 15)
            took = time.monotonic() - back
            print(f"\nboth workers resubscribed within {took:.2f}s after Redis was back")
            await asyncio.gather(*(answer(i) for i in range(PHONES) if wave(i) == "C"))

            # What every worker shows comes from the restarted Redis: all answers, on both screens.
            for screen in screens:
                await screen.wait_for(
                    lambda f: (
                        f.get("type") == "view" and f.get("answered", {}).get("count") == PHONES
                    ),
                    timeout=10,
                )
            await asyncio.gather(*(p.wait_view("reveal", index=0) for p in phones))
            reveal = screens[1].view
            assert reveal is not None and reveal["phase"] == "reveal"
            expected = [0] * len(OPTIONS)
            for i in range(PHONES):
                expected[choice(i)] += 1
            assert reveal["reveal"]["distribution"] == expected

            # The round goes on: the next question reaches phones on both workers.
            await host.control("next")
            await asyncio.gather(*(p.wait_view("question", index=1) for p in phones))
            acks = await asyncio.gather(*(p.answer(1, choice=i % 2) for i, p in enumerate(phones)))
            assert all(a["type"] == "ack" for a in acks), acks
            await host.wait_view("reveal", index=1)
            await host.control("next")
            await asyncio.gather(*(s.wait_view("podium") for s in screens))

            results = export(server, code, secret)
            by_name = {p["name"]: p for p in results["players"]}
            assert len(acked) == PHONES
            for i, given in acked.items():
                answers = by_name[f"Speler {i}"]["answers"]
                assert [a["answer"] for a in answers] == [
                    OPTIONS[given],
                    ["Waar", "Niet waar"][i % 2],
                ], i

            def settled() -> bool:
                return all(
                    p.me is not None and p.me.get("score") == by_name[f"Speler {i}"]["score"]
                    for i, p in enumerate(phones)
                )

            await wait_until(settled, 5, "every phone's score to match the export")
            assert {on[i] for i in range(PHONES)} == set(workers)
        finally:
            await close_all(clients)


OUTAGE_S = 8.0  # longer than the workers' Redis retries (about 5.5 s)


def present_players(url: str, code: str) -> set[str]:
    """The players Redis counts as connected in room `code` (its presence hash)."""
    client = redis.Redis.from_url(url)
    try:
        keys = client.keys(f"*:room:{{{code}}}:presence")
        return {f.decode().partition("|")[0] for key in keys for f in client.hkeys(key)}
    finally:
        client.close()


async def test_redis_away_longer_than_the_retry_budget(tmp_path: Path) -> None:
    """Requests that outlast the retries fail and close their socket; those phones resume when
    Redis is back. Phones that left during the outage do not linger as connected players (else
    no later question would close by itself), and nothing acknowledged is lost."""
    n = 12
    with redis_and_workers(tmp_path, appendonly=True) as (redis_server, server):
        workers = await worker_pids(server)
        code, secret, host, _ = await hosted_room(server, QUIZ, workers[0])
        phones, _on = await join_spread(server, code, workers, n)
        tokens = [p.welcome["token"] for p in phones]  # type: ignore[index]
        clients: list[Any] = [host, *phones]
        leavers, during, after = [0, 1], [2, 3, 4, 5], list(range(6, n))
        try:
            await host.command("start")  # done: the kill cuts no write of it
            await asyncio.gather(*(p.wait_view("question", index=0) for p in phones))
            redis_server.kill()
            await close_all([phones[i] for i in leavers])  # screens locked, never back
            marks = {i: len(phones[i].frames) for i in during}
            await asyncio.gather(*(phones[i].send(answer_frame(0, choice(i))) for i in during))
            await asyncio.sleep(OUTAGE_S)
            await asyncio.to_thread(redis_server.start)
            acked: dict[int, int] = {}
            for i in during:
                reply = await phones[i].reply_since(marks[i], 10)
                if reply is not None:
                    assert reply["type"] == "ack", reply
                    acked[i] = reply["choice"]
                    continue
                assert phones[i].closed.is_set()
                for _attempt in range(20):  # bounded: Redis answers again within a second or two
                    phone, _ = await open_on(Phone, server)
                    clients.append(phone)
                    welcome = await phone.resume(code, tokens[i])
                    if welcome["type"] == "welcome":
                        break
                    await asyncio.sleep(0.25)
                phones[i] = phone
                again = await phone.answer(0, choice=choice(i))
                assert again["type"] == "ack" or again["code"] == "already_answered", again
                acked[i] = choice(i)
            assert not any(phones[i].closed.is_set() for i in after)
            for i in after:
                reply = await phones[i].answer(0, choice=choice(i))
                assert reply["type"] == "ack", reply
                acked[i] = reply["choice"]
            # Everyone still here answered. The two who left were here when the question opened,
            # so it waits for them (or its deadline); the host closes it. They are no longer
            # counted as connected: their presence goes with the first liveness beat (1.5 s)
            # after Redis is back, which also writes back the presence of the phones still here
            # (pruned meanwhile: the outage outlasted the workers' liveness keys). The close must
            # not overtake that beat.
            leaving = {phones[i].welcome["player"] for i in leavers}  # type: ignore[index]
            staying = {phones[i].welcome["player"] for i in after}  # type: ignore[index]
            for _ in range(60):  # bounded: 6 s, a few beats
                present = present_players(redis_server.url, code)
                if not present & leaving and staying <= present:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"presence not settled after the outage: {present}")
            await host.control("close")
            reveal = await host.wait_view("reveal", index=0)
            assert reveal["answered"] == {"count": len(acked), "of": len(acked)}
            # The next question, opened with only the remaining phones here, closes by itself.
            await host.control("next")
            await asyncio.gather(*(phones[i].wait_view("question", index=1) for i in acked))
            acks = await asyncio.gather(*(phones[i].answer(1, choice=0) for i in acked))
            assert all(a["type"] == "ack" for a in acks), acks
            reveal = await host.wait_view("reveal", index=1)
            assert reveal["answered"] == {"count": len(acked), "of": len(acked)}
            results = export(server, code, secret)
            by_name = {p["name"]: p for p in results["players"]}
            for i, given in acked.items():
                assert by_name[f"Speler {i}"]["answers"][0]["answer"] == OPTIONS[given]
        finally:
            await close_all(clients)
