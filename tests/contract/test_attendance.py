"""The hub's one rule for `answered.of` and the close when everybody answered, with a phone
that drops mid-question: on the memory backend and on a real Redis, with the hub's clock driven
by the test (the grace lapses, and a question's time runs out, when the test says so)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.activities import quiz as q
from server.hub.attendance import LOST_GRACE_S
from server.hub.backend import Backend
from server.hub.clients import CLOSE_KICKED, Client
from server.hub.errors import HubError
from server.hub.memory import MemoryBackend
from server.hub.redis import RedisBackend
from server.hub.redis_cluster import RedisClusterBackend
from server.hub.room import LEFT, unpack
from server.hub.rooms import Hub
from server.messages import message
from tests.conftest import FAST_QUIZ
from tests.contract.conftest import Cluster
from tests.support.phones import answer_frame

GRACE = 3.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class Socket:
    """The sending end of one test socket: keeps the frames the hub wrote to it."""

    def __init__(self, hub: Hub) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: int | None = None
        self.client = Client(self._send, self._close, 100, "t", outbox=hub.outbox)

    async def _send(self, data: bytes) -> None:
        self.frames.append(unpack(data))

    async def _close(self, code: int) -> None:
        self.closed = code

    def views(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == "view"]


def _backend(cluster: Cluster) -> Backend:
    if cluster.kind == "memory":
        return MemoryBackend(cluster.data_dir)
    assert cluster.url is not None
    kind = RedisClusterBackend if cluster.kind == "cluster" else RedisBackend
    return kind(cluster.url, namespace=cluster.namespace)


async def until(check: Any, what: str, within: float = 10.0) -> None:
    """Wait for the hub's background tasks (render, deadline loop) to get there."""
    async with asyncio.timeout(within):
        while not check():
            await asyncio.sleep(0.01)


async def _room_with_phones(hub: Hub, n: int) -> tuple[str, Socket, list[Socket]]:
    quiz = {**FAST_QUIZ, "questions": [{**FAST_QUIZ["questions"][0], "points": 1000}]}
    code, secret = await hub.create_room([("quiz", quiz)], "", "nl", "http://127.0.0.1")
    host = Socket(hub)
    await hub.hello(host.client, {"role": "host", "room": code, "secret": secret})
    phones = []
    for i in range(n):
        phone = Socket(hub)
        await hub.hello(phone.client, {"role": "phone", "room": code, "name": f"Speler {i}"})
        phones.append(phone)
    await hub.control(host.client, {"action": "start"})
    await until(lambda: _last(host).get("phase") == q.QUESTION, "the question opens")
    return code, host, phones


def _last(socket: Socket) -> dict[str, Any]:
    views = socket.views()
    return views[-1] if views else {}


def _open_index(socket: Socket) -> int | None:
    """The index of the question `socket` last saw open, None when it shows none open."""
    view = _last(socket)
    return view["question"]["index"] if view.get("phase") == q.QUESTION else None


async def test_a_dropped_phone_counts_for_its_grace_then_the_question_closes(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    hub, clock = hub_and_clock
    _code, host, phones = await _room_with_phones(hub, 5)
    gone, rest = phones[0], phones[1:]
    await hub.leave(gone.client)
    for phone in rest:
        await hub.input(phone.client, answer_frame(0, 0))
    # Within the grace the counter waits for the dropped phone, and says so.
    await until(lambda: _last(host).get("answered") == {"count": 4, "of": 5}, "4 of 5")
    await asyncio.sleep(0.2)  # renders and deadline polls come and go: nothing closes
    assert _last(host)["phase"] == q.QUESTION
    # The grace lapses (the question's own deadline is 30 s away): the room stops waiting.
    clock.now += GRACE + 0.01
    await until(lambda: _last(host).get("phase") == q.REVEAL, "the close after the grace")
    shown = [v["answered"] for v in host.views() if v.get("phase") == q.QUESTION]
    assert all(a["of"] >= a["count"] for a in shown)
    assert _last(host)["answered"] == {"count": 4, "of": 4}


async def test_a_phone_back_within_its_grace_can_still_answer(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    hub, clock = hub_and_clock
    code, host, phones = await _room_with_phones(hub, 3)
    first = phones[0]
    token = next(f for f in first.frames if f.get("type") == "welcome")["token"]
    await hub.leave(first.client)
    for phone in phones[1:]:
        await hub.input(phone.client, answer_frame(0, 1))
    clock.now += GRACE / 2
    back = Socket(hub)
    await hub.hello(back.client, {"role": "phone", "room": code, "token": token})
    clock.now += GRACE  # the old socket's grace would have lapsed: it is back, so it counts
    await asyncio.sleep(0.2)
    assert _last(host)["phase"] == q.QUESTION
    assert _last(host)["answered"] == {"count": 2, "of": 3}
    ack = await hub.input(back.client, answer_frame(0, 0))
    assert ack["type"] == "ack"
    await until(lambda: _last(host).get("phase") == q.REVEAL, "the close once all answered")


async def test_no_answers_and_everybody_gone_waits_for_the_timer(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    hub, clock = hub_and_clock
    _code, host, phones = await _room_with_phones(hub, 2)
    for phone in phones:
        await hub.leave(phone.client)
    clock.now += GRACE + 1
    await until(lambda: _last(host).get("answered") == {"count": 0, "of": 0}, "0 of 0")
    await asyncio.sleep(0.2)
    assert _last(host)["phase"] == q.QUESTION  # nobody answered: nothing to close on
    clock.now += 60
    await until(lambda: _last(host).get("phase") == q.REVEAL, "the close at the deadline")


async def test_the_question_closes_at_its_deadline_on_the_hub_clock(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    """The server's deadline closes a question nobody else closes: a 5 s limit, waited out on
    the hub's clock (this used to wait 5 real seconds against a real server)."""
    hub, clock = hub_and_clock
    question = {**FAST_QUIZ["questions"][0], "time_limit": 5, "points": 1000}
    quiz = {**FAST_QUIZ, "questions": [question]}
    code, secret = await hub.create_room([("quiz", quiz)], "", "nl", "http://127.0.0.1")
    host = Socket(hub)
    await hub.hello(host.client, {"role": "host", "room": code, "secret": secret})
    quick, slow = Socket(hub), Socket(hub)
    for i, phone in enumerate((quick, slow)):
        await hub.hello(phone.client, {"role": "phone", "room": code, "name": f"Speler {i}"})
    await hub.control(host.client, {"action": "start"})
    await until(lambda: _last(quick).get("phase") == q.QUESTION, "the question opens")
    assert _last(quick)["question"]["remaining_ms"] == 5000  # the clock stands still
    assert (await hub.input(quick.client, answer_frame(0, 0)))["type"] == "ack"
    await until(lambda: _last(host).get("answered") == {"count": 1, "of": 2}, "1 of 2")
    clock.now += 4.9
    await asyncio.sleep(0.2)  # deadline polls come and go: 0.1 s before the limit, still open
    assert _last(host)["phase"] == q.QUESTION
    clock.now += 0.1
    await until(lambda: _last(host).get("phase") == q.REVEAL, "the close at the deadline")
    assert _last(host)["answered"] == {"count": 1, "of": 2}
    with pytest.raises(HubError) as late:
        await hub.input(slow.client, answer_frame(0, 0))
    assert late.value.code == "too_late" and message("too_late").startswith("Te laat")

    def result(socket: Socket) -> dict[str, Any]:
        return next((f for f in reversed(socket.frames) if "result" in f), {})

    await until(lambda: bool(result(slow)), "the slow phone's result")
    assert result(slow)["result"] == {
        "question": 0,
        "correct": False,
        "outcome": "none",
        "points": 0,
        "streak_bonus": 0,
        "answered": False,
        "choice": None,
        "value": None,
    }
    assert result(quick)["result"]["correct"] is True


async def test_a_phone_whose_socket_the_server_closed_counts_for_the_longer_grace(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    """A socket the server closes itself (a shutdown, a full send queue) is not the phone
    leaving: the question waits LOST_GRACE_S for it, not the reload's grace; also for a phone
    that joined after the question opened."""
    hub, clock = hub_and_clock
    code, host, rest = await _room_with_phones(hub, 2)
    cut = Socket(hub)
    await hub.hello(cut.client, {"role": "phone", "room": code, "name": "Laat"})
    await until(lambda: _last(host).get("answered") == {"count": 0, "of": 3}, "0 of 3")
    cut.client.drop(1012)
    await hub.leave(cut.client)
    for phone in rest:
        await hub.input(phone.client, answer_frame(0, 0))
    await until(lambda: _last(host).get("answered") == {"count": 2, "of": 3}, "2 of 3")
    clock.now += GRACE + 0.01  # a reload's grace is over: still waiting
    await asyncio.sleep(0.2)
    assert _last(host)["phase"] == q.QUESTION
    assert _last(host)["answered"] == {"count": 2, "of": 3}
    clock.now += LOST_GRACE_S - GRACE  # the longer grace is over: the room stops waiting
    await until(lambda: _last(host).get("phase") == q.REVEAL, "the close after the grace")
    assert _last(host)["answered"] == {"count": 2, "of": 2}


async def test_a_kicked_phone_leaves_no_grace_behind(hub_and_clock: tuple[Hub, Clock]) -> None:
    """The socket of a removed player is closed by the server too, but nobody waits for them:
    no leave is recorded (it would also let the seat cleanup forget their refused token)."""
    hub, _clock = hub_and_clock
    code, _host, phones = await _room_with_phones(hub, 2)
    kicked, stays = phones
    player = kicked.frames[0]["player"]
    await hub.kick(code, player)
    await until(lambda: kicked.closed == CLOSE_KICKED, "the kicked phone's socket closes")
    await hub.leave(kicked.client)  # as the web layer does once the socket closed
    await hub.leave(stays.client)
    assert set(await hub.backend.hgetall(code, LEFT)) == {stays.frames[0]["player"]}


async def test_a_late_completion_closes_only_the_question_it_was_decided_for(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    """A render that saw everybody answer question 1 asks for its close; by the time that
    arrives (after a Redis outage: seconds), another worker closed question 1 and the host
    opened question 2. The late request must not close question 2, which nobody answered yet."""
    hub, _clock = hub_and_clock
    quiz = {**FAST_QUIZ, "questions": [{**x, "points": 1000} for x in FAST_QUIZ["questions"]]}
    code, secret = await hub.create_room([("quiz", quiz)], "", "nl", "http://127.0.0.1")
    host = Socket(hub)
    await hub.hello(host.client, {"role": "host", "room": code, "secret": secret})
    phones = [Socket(hub) for _ in range(3)]
    for i, phone in enumerate(phones):
        await hub.hello(phone.client, {"role": "phone", "room": code, "name": f"Speler {i}"})
    await hub.control(host.client, {"action": "start"})
    await until(lambda: _last(host).get("phase") == q.QUESTION, "question 1 opens")

    async def table_now() -> str:
        loaded = await hub.load(code)
        assert loaded is not None
        return hub.table_of(loaded[1])

    first = await table_now()
    for phone in phones:
        assert (await hub.input(phone.client, answer_frame(0, 0)))["type"] == "ack"
    await until(lambda: _last(host).get("phase") == q.REVEAL, "the close once all answered")
    await hub.control(host.client, {"action": "next"})
    await until(lambda: _open_index(host) == 1, "question 2 opens")
    second = await table_now()
    assert second != first

    await hub.deadlines.complete_when_all_done(code, first)  # the late request about question 1
    await asyncio.sleep(0.2)  # renders and deadline polls come and go
    assert _last(host)["phase"] == q.QUESTION and _open_index(host) == 1
    assert (await hub.input(phones[0].client, answer_frame(1, 0)))["type"] == "ack"
    await hub.deadlines.complete_when_all_done(
        code, second
    )  # a request about question 2 does close it
    await until(lambda: _last(host).get("phase") == q.REVEAL, "question 2 closes")
    with pytest.raises(HubError) as late:
        await hub.input(phones[1].client, answer_frame(1, 1))
    assert late.value.code == "too_late"


async def _question_one_of_60_then_one_of_5(hub: Hub) -> tuple[str, Socket, Socket]:
    """A room with a host and one phone whose quiz has a question of 60 s, then one of 5 s;
    question 1 is open."""
    first = {**FAST_QUIZ["questions"][0], "time_limit": 60, "points": 1000}
    second = {**FAST_QUIZ["questions"][1], "time_limit": 5, "points": 1000}
    quiz = {**FAST_QUIZ, "questions": [first, second]}
    code, secret = await hub.create_room([("quiz", quiz)], "", "nl", "http://127.0.0.1")
    host = Socket(hub)
    await hub.hello(host.client, {"role": "host", "room": code, "secret": secret})
    phone = Socket(hub)
    await hub.hello(phone.client, {"role": "phone", "room": code, "name": "Speler 0"})
    await hub.control(host.client, {"action": "start"})
    await until(lambda: _open_index(host) == 0, "question 1 opens")
    return code, host, phone


async def test_a_late_wake_up_does_not_put_off_the_next_questions_deadline(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    """A render of question 1 (60 s) asks for a wake-up when a dropped phone's grace lapses; it
    arrives after the host opened question 2 (5 s). Question 2 still closes at its own
    deadline, not at the later wake-up."""
    hub, clock = hub_and_clock
    code, host, phone = await _question_one_of_60_then_one_of_5(hub)
    question_one_deadline = clock.now + 60
    assert (await hub.input(phone.client, answer_frame(0, 0)))["type"] == "ack"
    await until(lambda: _last(host).get("phase") == q.REVEAL, "the close once all answered")
    await hub.control(host.client, {"action": "next"})
    await until(lambda: _open_index(host) == 1, "question 2 opens")

    # The late wake-up of question 1's render: 8 s from now, after question 2's deadline.
    await hub.deadlines.wake_at(code, question_one_deadline, clock.now + 8)
    clock.now += 5
    await until(lambda: _last(host).get("phase") == q.REVEAL, "question 2 closes at 5 s")


async def test_a_stale_tick_does_not_remove_the_deadline_of_the_question_opened_meanwhile(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    """A tick comes due after question 1 closed (nothing to do: not due) and re-arms the room
    from a fresh read; between that read and its write the host opens question 2 (5 s). The
    tick's "no deadline" from the older read must not remove question 2's: it still closes at
    5 s. (The read is held back here until the host's command is saved, as a busy worker's
    event loop or a slow round trip holds it back.)"""
    hub, clock = hub_and_clock
    code, host, _phone = await _question_one_of_60_then_one_of_5(hub)
    await hub.control(host.client, {"action": "close"})
    await until(lambda: _last(host).get("phase") == q.REVEAL, "question 1 closes")

    read_room = hub.load

    async def read_then_the_host_goes_on(room_code: str) -> Any:
        loaded = await read_room(room_code)
        await hub.control(host.client, {"action": "next"})
        return loaded

    hub.load = read_then_the_host_goes_on  # type: ignore[method-assign]
    try:
        await hub.deadlines.tick(code)
    finally:
        hub.load = read_room  # type: ignore[method-assign]
    await until(lambda: _open_index(host) == 1, "question 2 opens")
    clock.now += 5
    await until(lambda: _last(host).get("phase") == q.REVEAL, "question 2 closes at 5 s")


async def test_a_room_without_sockets_here_is_not_kept_decoded(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    """Once its last socket in this worker closed, the worker drops the room's decoded document
    and per-room caches; a resume decodes it again."""
    hub, _clock = hub_and_clock
    code, host, phones = await _room_with_phones(hub, 2)
    assert len(hub.rooms) == 1
    token = phones[0].frames[0]["token"]
    for socket in (host, *phones):
        await hub.leave(socket.client)
    assert len(hub.rooms) == 0 and not hub.fanout.has_room(code)
    again = Socket(hub)
    welcome = await hub.hello(again.client, {"role": "phone", "room": code, "token": token})
    assert welcome["player"] == phones[0].frames[0]["player"] and len(hub.rooms) == 1


async def test_answers_that_arrive_together_are_one_write_and_each_gets_its_own_reply(
    hub_and_clock: tuple[Hub, Clock],
) -> None:
    """30 answers in one event-loop turn go through the gate in one backend call where a call
    is a round trip (Redis, the cluster), one call each in process (memory: no loop turn of
    waiting); every phone still gets its own ack, and a second tap its own refusal."""
    hub, _clock = hub_and_clock
    _code, host, phones = await _room_with_phones(hub, 30)
    before = hub.puts.calls
    taps = [hub.input(phone.client, answer_frame(0, i % 4)) for i, phone in enumerate(phones)]
    taps.append(hub.input(phones[0].client, answer_frame(0, 3)))  # a second tap
    replies = await asyncio.gather(*taps, return_exceptions=True)
    assert [r["type"] for r in replies[:30] if isinstance(r, dict)] == ["ack"] * 30
    assert isinstance(replies[30], HubError) and replies[30].code == "already_answered"
    assert hub.puts.calls - before == (1 if hub.backend.batches else 31)
    await until(lambda: _last(host).get("phase") == q.REVEAL, "the close once all answered")
    reveal = _last(host)
    assert reveal["reveal"]["distribution"] == [8, 8, 7, 7]


async def test_a_failure_while_showing_the_new_views_first_leaves_the_change_whole(
    hub_and_clock: tuple[Hub, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Showing a saved transition's views before the renders (Fanout.show_saved) only saves
    time: when it fails, the failure is logged, the renders show the question all the same, and
    its deadline still closes it."""
    hub, clock = hub_and_clock

    async def broken(room: Any, seen: Any) -> None:
        raise RuntimeError("a view that cannot be made")

    monkeypatch.setattr(hub.fanout, "show_saved", broken)
    question = {**FAST_QUIZ["questions"][0], "time_limit": 5, "points": 1000}
    code, secret = await hub.create_room(
        [("quiz", {**FAST_QUIZ, "questions": [question]})], "", "nl", "http://127.0.0.1"
    )
    host = Socket(hub)
    await hub.hello(host.client, {"role": "host", "room": code, "secret": secret})
    phone = Socket(hub)
    await hub.hello(phone.client, {"role": "phone", "room": code, "name": "Speler"})
    await hub.control(host.client, {"action": "start"})  # no error for the host
    await until(lambda: {"type": "done", "action": "start"} in host.frames, "the command's done")
    await until(lambda: _last(phone).get("phase") == q.QUESTION, "the question, by the render")
    clock.now += 5.0
    await until(lambda: _last(phone).get("phase") == q.REVEAL, "the close at the deadline")
