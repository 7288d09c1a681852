"""Two uvicorn workers on one Redis: 120 phones, spread over both workers, move stickers at the
same time; the counts on both projectors, after the close and in the export equal the sum of the
final placements: nothing lost or doubled."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import httpx

from tests.integration.test_dotvote_flow import done, input_frame, wait_dv, wait_me
from tests.support.multiworker import (
    close_all,
    export,
    join_spread,
    open_on,
    redis_and_workers,
    screens_on,
    worker_pids,
)
from tests.support.phones import Host, Phone

PHONES = 120
MOVES = 12
CARDS = 10


async def test_phones_on_two_workers_move_stickers_at_once(tmp_path: Path) -> None:
    with redis_and_workers(tmp_path) as (_, server):
        workers = await worker_pids(server)
        cards = [{"domain": "inkomen", "onderwerp": f"Thema {i + 1}"} for i in range(CARDS)]
        content = {"cards": cards, "cap": 3, "show_totals": True}
        response = httpx.post(
            f"{server.base}/api/rooms",
            json={"programme": [{"kind": "dotvote", "content": content}]},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        code, secret = response.json()["code"], response.json()["host_secret"]
        host, _ = await open_on(Host, server, workers[0])
        await host.attach(code, secret)
        screens = await screens_on(server, code, workers)
        phones, on = await join_spread(server, code, workers, PHONES)
        clients = [host, *screens, *phones]
        ids = [f"c{i + 1}" for i in range(CARDS)]
        try:
            assert set(on) == set(workers)
            # The host opens voting on worker 0; phones on worker 1 find the gate through Redis.
            assert (await done(host, "open_voting"))["type"] == "done"
            for phone in phones:
                await wait_dv(phone, "voting", timeout=20)
            finals: list[dict[str, int]] = [{} for _ in phones]
            refused: list[str] = []

            async def move(i: int, phone: Phone) -> None:
                rng = random.Random(i)
                placement: dict[str, int] = {}
                for _ in range(MOVES):
                    if sum(placement.values()) < 6 and rng.random() < 0.7:
                        card = rng.choice(ids)  # place (may go over the cap: refused)
                        placement[card] = placement.get(card, 0) + 1
                    elif placement:
                        src = rng.choice(sorted(placement))
                        placement[src] -= 1
                        if not placement[src]:
                            del placement[src]
                        if rng.random() < 0.8:  # move, else remove
                            dst = rng.choice(ids)
                            placement[dst] = placement.get(dst, 0) + 1
                    frame = input_frame({"stickers": dict(placement)}, item=0)
                    reply = await phone.request(frame, "ack", timeout=20)
                    if reply["type"] == "ack":
                        finals[i] = reply["stickers"]
                    else:
                        refused.append(reply["code"])
                        placement = dict(finals[i])  # the server kept the last one
                    await asyncio.sleep(rng.uniform(0.0, 0.05))

            await asyncio.gather(*(move(i, p) for i, p in enumerate(phones)))
            assert set(refused) <= {"over_cap", "over_budget"}, refused
            expected = {c: sum(f.get(c, 0) for f in finals) for c in ids}
            placed = sum(expected.values())
            assert placed > PHONES  # the phones really placed stickers
            for screen in screens:  # both workers count every placement exactly once
                await wait_dv(screen, "voting", timeout=20, totals=expected, placed=placed)

            marks = [len(p.frames) for p in phones]
            assert (await done(host, "close_voting"))["type"] == "done"
            for screen in screens:
                view = await wait_dv(screen, "result", timeout=20)
                assert {r["card_id"]: r["stickers"] for r in view["ranking"]} == expected
            for i, phone in enumerate(phones):
                me = await wait_me(phone, marks[i], timeout=20, minority=None)
                assert me["stickers"] == finals[i]
            data = export(server, code, secret)
            assert {r["card_id"]: r["stickers"] for r in data["ranking"]} == expected
            assert data["voters"] == sum(1 for f in finals if f)
        finally:
            await close_all(clients)
