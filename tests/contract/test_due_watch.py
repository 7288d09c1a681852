"""Which ticks a worker claims when, on one Redis and on a cluster (server/hub/due_watch.py): its
own ticks when they are due, another worker's within the idle ask (so an idle worker does not
ask every group of the due set on every poll). The memory backend is one object for every
"worker" and claims exactly on time; it has no such groups."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.crc import key_slot

from server.hub.due_watch import IDLE_ASK_S
from server.hub.redis_cluster import SPAN
from tests.contract.conftest import Cluster

NOW = 1_700_000_000.0
_codes = itertools.count(300_000)


def codes_in_one_group(n: int) -> list[str]:
    """`n` fresh room codes whose deadlines share one group (the cluster's slot group)."""
    found: list[str] = []
    while len(found) < n:
        code = str(next(_codes))
        if not found or key_slot(code.encode()) // SPAN == key_slot(found[0].encode()) // SPAN:
            found.append(code)
    return found


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("cluster", marks=pytest.mark.redis),
    ]
)
async def shared(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cluster]:
    fixture = "redis_server" if request.param == "redis" else "redis_cluster"
    cluster = Cluster(request.param, tmp_path / "data", request.getfixturevalue(fixture).url)
    try:
        yield cluster
    finally:
        await cluster.close()


async def test_own_ticks_are_claimed_when_due_and_others_within_the_idle_ask(
    shared: Cluster,
) -> None:
    here, there = await shared.worker(), await shared.worker()
    theirs, mine = codes_in_one_group(2)
    for code in (theirs, mine):
        assert await here.create_room(code, b"doc")
    assert await here.claim_due(NOW, lease=100) == []  # asked: nothing due
    await there.schedule(theirs, NOW + 0.1)
    await here.schedule(mine, NOW + 0.3)
    # Another worker's tick is due, but this worker asked 0.2 s ago and knows of none yet.
    assert await here.claim_due(NOW + 0.2, lease=100) == []
    # Its own tick is due: it asks, and gets both, in deadline order.
    assert await here.claim_due(NOW + 0.3, lease=100) == [theirs, mine]
    await there.schedule(theirs, NOW + 0.4)
    assert await here.claim_due(NOW + 0.4, lease=100) == []
    assert await here.claim_due(NOW + 0.3 + IDLE_ASK_S, lease=100) == [theirs]


async def test_a_tick_asked_for_while_idle_is_claimed_at_its_time(shared: Cluster) -> None:
    """The earliest tick left in a group, as a claim saw it, is asked for at its time."""
    here, there = await shared.worker(), await shared.worker()
    (code,) = codes_in_one_group(1)
    assert await here.create_room(code, b"doc")
    await there.schedule(code, NOW + 2 * IDLE_ASK_S + 0.05)
    assert await here.claim_due(NOW, lease=100) == []  # sees it, not due
    assert await here.claim_due(NOW + 2 * IDLE_ASK_S + 0.05, lease=100) == [code]


async def test_ask_all_asks_whatever_this_worker_knows(shared: Cluster) -> None:
    """While the backend is thought unreachable the deadline loop asks on every poll: only a
    poll that reached Redis may report it back (server/hub/outage.py)."""
    here, there = await shared.worker(), await shared.worker()
    (code,) = codes_in_one_group(1)
    assert await here.create_room(code, b"doc")
    assert await here.claim_due(NOW, lease=100) == []
    await there.schedule(code, NOW + 0.1)
    assert await here.claim_due(NOW + 0.1, lease=100) == []  # not asked
    assert await here.claim_due(NOW + 0.1, lease=100, ask_all=True) == [code]
