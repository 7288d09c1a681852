"""Joining through the hub on every backend: one enrolment per join, names made unique in
order, a full room refused with its own message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from server.hub.bokaal import BokaalBook
from server.hub.errors import HubError
from server.hub.rooms import Hub, HubSettings
from tests.conftest import FAST_QUIZ
from tests.contract.conftest import Cluster
from tests.contract.test_attendance import Socket, _backend


@pytest.fixture
async def hub(cluster: Cluster) -> AsyncIterator[Hub]:
    backend = _backend(cluster)
    async with Hub(backend, BokaalBook(backend), HubSettings(coalesce_s=0.01)) as hub:
        yield hub


async def test_ten_annas_get_numbers_in_join_order(hub: Hub) -> None:
    code, _secret = await hub.create_room([("quiz", FAST_QUIZ)], "", "nl", "http://127.0.0.1")
    names = []
    for _ in range(10):  # past the first batch of names offered at once ("Anna" … "Anna 8")
        phone = Socket(hub)
        welcome = await hub.hello(phone.client, {"role": "phone", "room": code, "name": "anna"})
        names.append(welcome["name"])
    assert names == ["anna"] + [f"anna {n}" for n in range(2, 11)]
    players = await hub.names(code)
    assert sorted(players.values()) == sorted(names)
    assert list(players) == sorted(players)  # player ids sort in join order


async def test_a_full_room_refuses_the_next_phone(hub: Hub) -> None:
    hub.settings.max_players = 3
    code, _secret = await hub.create_room([("quiz", FAST_QUIZ)], "", "nl", "http://127.0.0.1")
    for i in range(3):
        await hub.hello(Socket(hub).client, {"role": "phone", "room": code, "name": f"P {i}"})
    with pytest.raises(HubError) as full:
        await hub.hello(Socket(hub).client, {"role": "phone", "room": code, "name": "Vier"})
    assert full.value.code == "room_full"
    assert len(await hub.names(code)) == 3


async def test_joins_that_arrive_together_read_the_room_once(hub: Hub) -> None:
    """20 phones and a projector join one room in the same event-loop turn: one read of the
    room where a read is a round trip (Redis, the cluster), one each in process; every phone
    is welcomed with a name of its own, and a wrong code still gets its own refusal."""
    code, _secret = await hub.create_room([("quiz", FAST_QUIZ)], "", "nl", "http://127.0.0.1")
    before = hub.entrance.loads.calls
    hellos = [
        hub.hello(Socket(hub).client, {"role": "phone", "room": code, "name": "Sam"})
        for _ in range(20)
    ]
    hellos.append(hub.hello(Socket(hub).client, {"role": "screen", "room": code}))
    welcomes = await asyncio.gather(*hellos)
    assert hub.entrance.loads.calls - before == (1 if hub.backend.batches else 21)
    names = [w["name"] for w in welcomes[:20]]
    assert len(set(names)) == 20 and "Sam" in names
    assert welcomes[20]["role"] == "screen"
    with pytest.raises(HubError) as gone:
        await hub.hello(Socket(hub).client, {"role": "phone", "room": "999999", "name": "X"})
    assert gone.value.code == "room_not_found"
