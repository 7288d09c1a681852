"""Two uvicorn workers on one Redis: phones on both workers hold one binnen- en buitenkring, and
the screens on both workers show the same map."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.integration.test_kring import (
    DOMAINS,
    entry_of,
    input_frame,
    seating,
    shown_average,
    wait_me,
    wait_phase,
)
from tests.support.multiworker import (
    close_all,
    export,
    join_spread,
    open_on,
    redis_and_workers,
    screens_on,
    worker_pids,
)
from tests.support.phones import Host

PHONES = 11  # odd: one trio, across both workers


async def test_phones_on_two_workers_hold_one_kring_and_agree(tmp_path: Path) -> None:
    with redis_and_workers(tmp_path) as (_, server):
        workers = await worker_pids(server)
        response = httpx.post(
            f"{server.base}/api/rooms",
            json={"programme": [{"kind": "circle", "content": {"domains": DOMAINS}}]},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        code, secret = response.json()["code"], response.json()["host_secret"]
        host, _ = await open_on(Host, server, workers[0])
        assert (await host.attach(code, secret))["type"] == "welcome"
        screens = await screens_on(server, code, workers)
        phones, on = await join_spread(server, code, workers, PHONES)
        names = [f"Speler {i}" for i in range(PHONES)]
        clients = [host, *screens, *phones]
        try:
            assert set(on) == set(workers)
            # Entries arrive on both workers; the screens on both count all of them.
            acks = await asyncio.gather(
                *(p.request(input_frame(entry_of(i), 0), "ack") for i, p in enumerate(phones))
            )
            assert all(a["type"] == "ack" for a in acks), acks
            for screen in screens:
                await wait_phase(screen, "entry", entered=PHONES)

            marks = [len(p.frames) for p in phones]
            await host.control("lock_grades")
            mes = [await wait_me(p, m, seated=True) for p, m in zip(phones, marks, strict=True)]
            by_name = {names[i]: entry_of(i) for i in range(PHONES)}
            for me in mes:
                for partner in me["partners"]:  # often entered through the other worker
                    assert partner["entry"] == {**by_name[partner["name"]], "stale": False}
            assert sum(1 for me in mes if me["trio"]) == 3
            before = seating(mes, names)

            marks = [len(p.frames) for p in phones]
            await host.control("rotate", places=1)
            for screen in screens:
                await wait_phase(screen, "rounds", round=2)
            mes = [await wait_me(p, m, seated=True) for p, m in zip(phones, marks, strict=True)]
            after = seating(mes, names)
            assert sum(1 for n in names if after[n] != before[n]) >= PHONES - 3

            await host.control("reveal")
            reveals = [await wait_phase(screen, "reveal") for screen in screens]
            assert reveals[0]["domains"] == reveals[1]["domains"]
            for figure in reveals[0]["domains"]:
                grades = [
                    entry_of(i)["grade"]
                    for i in range(PHONES)
                    if entry_of(i)["domain"] == figure["domain"]
                ]
                assert figure["count"] == len(grades)
                assert figure["average"] == shown_average(grades)
            data = export(server, code, secret)
            assert {p["name"] for p in data["people"]} == set(names)
            assert [d["count"] for d in data["per_domain"]] == [
                d["count"] for d in reveals[0]["domains"]
            ]
        finally:
            await close_all(clients)
