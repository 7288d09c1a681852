"""A big room's reveal before it is scored reaches the phones on every worker: the closing
worker publishes the previewed views and the other workers write them without reading the room
(two hubs on one real Redis, in one process, so that the room-size threshold can be lowered).
So does every transition's new view once it is saved (Fanout.show_saved), at no lower a
version than the phones of each worker show."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest

from server.activities import quiz as q
from server.activities.themaquiz import answers_table
from server.hub import fanout
from server.hub.backend import Snapshot, Write
from server.hub.bokaal import BokaalBook
from server.hub.errors import HubError
from server.hub.redis import RedisBackend
from server.hub.room import LEFT, META, input_table, pack, unpack
from server.hub.rooms import Hub, HubSettings
from tests.conftest import FAST_QUIZ
from tests.contract.test_attendance import Socket, until
from tests.support.phones import answer_frame
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
async def two_workers(redis_server: RedisServer) -> AsyncIterator[tuple[Hub, Hub]]:
    namespace = f"kkp{uuid.uuid4().hex[:8]}"
    hubs = []
    for _ in range(2):
        backend = RedisBackend(redis_server.url, namespace=namespace)
        hubs.append(Hub(backend, BokaalBook(backend), HubSettings(coalesce_s=0.01)))
    async with hubs[0] as a, hubs[1] as b:
        yield a, b


def _frames(socket: Socket, kind: str, phase: str | None = None) -> list[dict[str, Any]]:
    return [
        f
        for f in socket.frames
        if f.get("type") == kind and (phase is None or f.get("phase") == phase)
    ]


async def test_the_reveal_preview_reaches_the_phones_of_the_other_worker(
    two_workers: tuple[Hub, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fanout, "PREVIEW_AT", 3)  # a "big" room of 3 players
    closing, other = two_workers
    code, host = await _quiz_room(closing)
    here = Socket(closing)
    await closing.hello(here.client, {"role": "phone", "room": code, "name": "Hier"})
    there = [Socket(other) for _ in range(2)]
    for i, phone in enumerate(there):
        await other.hello(phone.client, {"role": "phone", "room": code, "name": f"Daar {i}"})
    await closing.control(host.client, {"action": "start"})
    phones = [here, *there]
    await until(lambda: all(_frames(p, "view", q.QUESTION) for p in phones), "the question")
    await closing.input(here.client, answer_frame(0, 0))
    await other.input(there[0].client, answer_frame(0, 1))
    await asyncio.sleep(0.1)  # both workers have rendered the answers
    await closing.control(host.client, {"action": "close"})

    def scored(phone: Socket) -> bool:
        return any(f.get("result") for f in _frames(phone, "me"))

    await until(lambda: all(scored(p) for p in phones), "every phone's result")
    await asyncio.sleep(0.2)  # renders after the save come and go
    for phone in there:
        reveals = _frames(phone, "view", q.REVEAL)
        result = next(f for f in _frames(phone, "me") if f.get("result"))
        # One reveal view, and it is the preview: at the version the phone showed before the
        # close, lower than that of the result, which came with the render after the save.
        assert len(reveals) == 1
        assert reveals[0]["v"] < result["v"]
        assert reveals[0]["reveal"]["distribution"][:2] == [1, 1]


class HeldBackend(RedisBackend):
    """The real Redis backend whose renders' reads (those that read who left; a transition's
    read of the room does not) wait until the test lets them go."""

    def __init__(self, url: str, namespace: str) -> None:
        super().__init__(url, namespace=namespace)
        self.go = asyncio.Event()
        self.go.set()
        self.snapshots = 0
        self.reads: list[str] = []  # `online` and whole-table reads, in order
        self.writes: list[tuple[str, str]] = []  # single records and saves, in order
        self.hold_after_read = False  # hold a render's read after it was made, not before
        self.held_reads = 0
        self.on_publish: Callable[[], Any] = lambda: None
        self.published: list[Any] = []  # what on_publish() said as each publish was made
        self.fields: list[tuple[str, str]] = []  # single fields read (`hget`), in order

        self.hold_field: tuple[str, str] | None = None  # the next read of it waits for `go`

    async def hget(self, code: str, table: str, key: str) -> bytes | None:
        self.fields.append((table, key))
        value = await super().hget(code, table, key)
        if self.hold_field == (table, key):
            self.hold_field = None
            await self.go.wait()
        return value

    async def online(self, code: str) -> set[str]:
        self.reads.append("online")
        return await super().online(code)

    async def hgetall(self, code: str, table: str) -> dict[str, bytes]:
        self.reads.append(table)
        return await super().hgetall(code, table)

    async def publish(self, code: str, message: bytes) -> None:
        self.published.append(self.on_publish())
        await super().publish(code, message)

    async def hset(self, code: str, table: str, key: str, value: bytes) -> None:
        self.writes.append((table, key))
        await super().hset(code, table, key, value)

    async def save_room(
        self, code: str, version: int, doc: bytes, writes: Sequence[Write] = ()
    ) -> bool:
        self.writes.append(("save", ",".join(f"{t}.{k}" for t, k, _ in writes)))
        return await super().save_room(code, version, doc, writes)

    async def save_and_publish(
        self,
        code: str,
        version: int,
        doc: bytes,
        writes: Sequence[Write],
        empty: str,
        message: bytes,
    ) -> tuple[bool, bool]:
        self.writes.append(("save", ",".join(f"{t}.{k}" for t, k, _ in writes)))
        said = self.on_publish()
        saved, published = await super().save_and_publish(
            code, version, doc, writes, empty, message
        )
        if published:
            self.published.append(said)
        return saved, published

    async def snapshot(
        self, code: str, tables: Sequence[str], fields: Sequence[tuple[str, str]] = ()
    ) -> Snapshot:
        if LEFT in tables and self.hold_after_read:
            read = await super().snapshot(code, tables, fields)
            self.held_reads += 1
            await self.go.wait()
            return read
        if LEFT in tables:
            await self.go.wait()
            self.snapshots += 1
        return await super().snapshot(code, tables, fields)


async def _hubs(redis_server: RedisServer) -> tuple[Hub, Hub, HeldBackend, HeldBackend]:
    namespace = f"kkp{uuid.uuid4().hex[:8]}"
    first = HeldBackend(redis_server.url, namespace)
    second = HeldBackend(redis_server.url, namespace)
    settings = HubSettings(coalesce_s=0.01)
    return (
        Hub(first, BokaalBook(first), settings),
        Hub(second, BokaalBook(second), settings),
        first,
        second,
    )


async def _quiz_room(hub: Hub) -> tuple[str, Socket]:
    """A one-question quiz room on `hub`, and its host's socket there."""
    quiz = {**FAST_QUIZ, "questions": [{**FAST_QUIZ["questions"][0], "points": 1000}]}
    code, secret = await hub.create_room([("quiz", quiz)], "", "nl", "http://127.0.0.1")
    host = Socket(hub)
    await hub.hello(host.client, {"role": "host", "room": code, "secret": secret})
    return code, host


async def _phones(hub: Hub, code: str, n: int) -> list[Socket]:
    """`n` phones joined to room `code` on `hub`."""
    phones = [Socket(hub) for _ in range(n)]
    for i, phone in enumerate(phones):
        await hub.hello(phone.client, {"role": "phone", "room": code, "name": f"Daar {i}"})
    return phones


async def _question_open(deciding: Hub, other: Hub, n: int) -> tuple[str, Socket, list[Socket]]:
    """A quiz room on `deciding` with `n` phones on `other`, its first question open on them."""
    code, host = await _quiz_room(deciding)
    there = await _phones(other, code, n)
    await deciding.control(host.client, {"action": "start"})
    await until(lambda: all(_shown(p).get("phase") == q.QUESTION for p in there), "question")
    return code, host, there


def _shown(socket: Socket) -> dict[str, Any]:
    """The view a phone shows: as the clients do, a view older (`v`) than the shown one is
    ignored."""
    shown: dict[str, Any] = {}
    for view in _frames(socket, "view"):
        if view["v"] >= shown.get("v", 0):
            shown = view
    return shown


async def test_a_new_question_reaches_the_other_workers_phones_before_it_reads_the_room(
    redis_server: RedisServer,
) -> None:
    deciding_hub, other_hub, _, held = await _hubs(redis_server)
    async with deciding_hub as deciding, other_hub as other:
        code, host = await _quiz_room(deciding)
        there = await _phones(other, code, 3)
        await until(lambda: all(_shown(p).get("phase") == q.LOBBY for p in there), "the lobby")
        await until(lambda: not other.fanout._renderers, "the other worker's renders are done")
        held.go.clear()  # from here the other worker cannot read the room
        read_before = held.snapshots
        await deciding.control(host.client, {"action": "start"})
        await until(
            lambda: all(_shown(p).get("phase") == q.QUESTION for p in there),
            "the question on the other worker's phones",
        )
        assert held.snapshots == read_before  # it came without a read of the room there
        question = _shown(there[0])["question"]
        assert question["index"] == 0 and question["remaining_ms"] > 0
        held.go.set()
        # The render that follows sends each phone its own frame, not the view once more.
        await until(
            lambda: (
                all(_frames(p, "me") and _frames(p, "me")[-1].get("item") == 0 for p in there)
                and held.snapshots > read_before
                and not other.fanout._renderers
            ),
            "the render after the question",
        )
        for phone in there:
            assert len(_frames(phone, "view", q.QUESTION)) == 1


async def test_a_preview_is_shown_at_the_version_the_phones_of_each_worker_show(
    redis_server: RedisServer,
) -> None:
    """The deciding worker last rendered an older version than the other worker (its renders
    cannot read the room): the question it publishes is written to the other worker's phones
    at their own version, so they take it instead of ignoring it as older."""
    deciding_hub, other_hub, deciding_reads, _ = await _hubs(redis_server)
    async with deciding_hub as deciding, other_hub as other:
        code, host = await _quiz_room(deciding)
        phone = Socket(other)
        await other.hello(phone.client, {"role": "phone", "room": code, "name": "Daar"})
        await until(lambda: _shown(phone).get("phase") == q.LOBBY, "the phone's lobby")
        await until(lambda: not deciding.fanout._renderers, "the deciding worker's renders")
        deciding_reads.go.clear()  # the deciding worker's renders stay behind from here
        before = _shown(phone)["v"]
        await deciding.control(host.client, {"action": "lock"})  # a view change everywhere
        await until(lambda: _shown(phone)["room"]["locked"], "the lock on the other worker")
        shown = _shown(phone)["v"]
        assert shown > before
        assert deciding.fanout._rendered[code] < shown  # the deciding worker is behind
        await deciding.control(host.client, {"action": "start"})
        await until(lambda: bool(_frames(phone, "view", q.QUESTION)), "the question")
        first = _frames(phone, "view", q.QUESTION)[0]
        assert first["v"] == shown  # the preview, at the version this phone shows
        assert _shown(phone)["phase"] == q.QUESTION
        deciding_reads.go.set()


async def test_a_command_reads_the_room_once_and_its_views_need_no_further_read(
    redis_server: RedisServer,
) -> None:
    """A step that reads nothing of the people but the players (the quiz's scoreboard): the
    players and who is online come with the transition's read of the document and the closed
    question's answers from the worker's last read, so the new views go out after no read
    beyond the transition's own."""
    deciding_hub, other_hub, deciding_reads, _ = await _hubs(redis_server)
    async with deciding_hub as deciding, other_hub as other:
        code, host = await _quiz_room(deciding)
        there = await _phones(other, code, 2)
        await until(lambda: not deciding.fanout._renderers, "the deciding worker's renders")
        deciding_reads.reads.clear()
        deciding_reads.writes.clear()
        await deciding.control(host.client, {"action": "start"})
        await until(lambda: all(_shown(p).get("phase") == q.QUESTION for p in there), "question")
        # The gate that opens the answers and who is present then are stored by the save's own
        # script (nothing written before it; a save that loses its race opens nothing), ...
        assert deciding_reads.writes[0] == ("save", "meta.open,meta.present")
        assert all(table != "meta" for table, _ in deciding_reads.writes[1:])
        present = await deciding.backend.hget(code, "meta", "present")
        assert present is not None and len(unpack(present)) == 2  # both phones, as they were
        # ... and the new answers table is read along with the save; the players and who is
        # online came with the document.
        loaded = await deciding.load(code)
        assert loaded is not None
        assert deciding_reads.reads == [deciding.table_of(loaded[1])]
        await other.input(there[0].client, answer_frame(0, 0))
        await deciding.control(host.client, {"action": "close"})
        await until(lambda: all(_shown(p).get("phase") == q.REVEAL for p in there), "reveal")
        await until(lambda: _shown(host).get("phase") == q.REVEAL, "the host's reveal")
        await until(lambda: not deciding.fanout._renderers, "the deciding worker's renders")
        deciding_reads.reads.clear()
        await deciding.control(host.client, {"action": "scoreboard"})
        await until(
            lambda: all(_shown(p).get("phase") == q.SCOREBOARD for p in there), "the scoreboard"
        )
        # The command read the players and who is online with the document (a snapshot).
        assert deciding_reads.reads == []
        board = _shown(there[0])["scoreboard"]
        assert board, board


@pytest.mark.parametrize("preview_at", [3, 300], ids=["big room", "small room"])
async def test_closing_a_question_shuts_the_gate_and_reads_the_answers_in_one_step(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, preview_at: int
) -> None:
    """A close replaces the gate and reads the answers it closed in one script (Backend.
    replace_and_read): no separate read of the old gate, write of the new one or read of the
    answers before the step's scoring, and no answer accepted before it is left out. A big
    room's reveal preview uses who is online as the command read it with the document."""
    monkeypatch.setattr(fanout, "PREVIEW_AT", preview_at)
    deciding_hub, other_hub, deciding_io, _ = await _hubs(redis_server)
    async with deciding_hub as deciding, other_hub as other:
        _, host, there = await _question_open(deciding, other, 3)
        for i, phone in enumerate(there[:2]):
            assert (await other.input(phone.client, answer_frame(0, i)))["type"] == "ack"
        await until(lambda: not deciding.fanout._renderers, "the deciding worker's renders")
        deciding_io.reads.clear()
        deciding_io.writes.clear()
        await deciding.control(host.client, {"action": "close"})
        await until(lambda: all(_shown(p).get("phase") == q.REVEAL for p in there), "reveal")
        assert deciding_io.reads == []
        assert deciding_io.writes[0][0] == "save"
        distribution = _shown(there[0])["reveal"]["distribution"]
        assert distribution[:2] == [1, 1]
        with pytest.raises(HubError) as late:
            await other.input(there[2].client, answer_frame(0, 0))
        assert late.value.code == "too_late"


async def test_answers_that_arrive_together_read_a_gate_they_do_not_know_once(
    redis_server: RedisServer,
) -> None:
    """The worker that did not open the question has no copy of its gate (or the last
    question's): the answers that arrive before its first read of the gate returns share that
    read instead of each reading it (at 10,000 phones, a handful per room and question)."""
    deciding_hub, other_hub, _, other_io = await _hubs(redis_server)
    async with deciding_hub as deciding, other_hub as other:
        code, host = await _quiz_room(deciding)
        there = await _phones(other, code, 12)
        await deciding.control(host.client, {"action": "start"})
        await until(lambda: all(_shown(p).get("phase") == q.QUESTION for p in there), "question")
        other_io.fields.clear()
        acks = await asyncio.gather(
            *(other.input(p.client, answer_frame(0, i % 2)) for i, p in enumerate(there))
        )
        assert [ack["type"] for ack in acks] == ["ack"] * len(there)
        assert other_io.fields.count((META, "open")) == 1
        # Every answer was stored once: a second tap of each is a duplicate.
        with pytest.raises(HubError) as again:
            await other.input(there[0].client, answer_frame(0, 1))
        assert again.value.code == "already_answered"


async def test_an_answer_that_joined_a_read_of_the_gate_before_the_question_reads_again(
    redis_server: RedisServer,
) -> None:
    """A read of the gate that Redis answered before the question opened, still on its way back
    when an answer to that question arrives: the answer does not take its old gate (no round
    open) for the truth, it reads the gate once more and is accepted."""
    deciding_hub, other_hub, _, other_io = await _hubs(redis_server)
    async with deciding_hub as deciding, other_hub as other:
        code, host = await _quiz_room(deciding)
        early, late = await _phones(other, code, 2)
        other_io.go.clear()
        other_io.hold_field = (META, "open")
        too_early = asyncio.create_task(other.input(early.client, answer_frame(0, 0)))
        await until(lambda: other_io.hold_field is None, "the read of the lobby's gate")
        await deciding.control(host.client, {"action": "start"})
        await until(lambda: _shown(late).get("phase") == q.QUESTION, "question")
        answer = asyncio.create_task(other.input(late.client, answer_frame(0, 1)))
        await asyncio.sleep(0.05)
        assert not answer.done()  # it waits for the read under way
        other_io.go.set()
        assert (await answer)["type"] == "ack"
        with pytest.raises(HubError) as lobby:
            await too_early  # sent before the question opened: its own read said so
        assert lobby.value.code == "not_open"
        assert other_io.fields.count((META, "open")) == 2


def _given(socket: Socket, phase: str) -> bool:
    """Whether the hub gave `socket` a view of `phase`: written, or queued for the turn's end."""
    queued = [unpack(data) for data in socket.client._pending]
    return any(f.get("type") == "view" and f.get("phase") == phase for f in socket.frames + queued)


async def test_a_room_with_many_sockets_here_publishes_its_new_views_before_writing_them(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many of the room's sockets on the deciding worker: the other workers get the new views
    first and write them to their sockets (on their own cores) while this worker writes its own.
    A room with few sockets here writes them first (the publish's loop turn costs more), except
    for a round that opens: its views are published by the save's own script, before anything
    could be written here."""
    deciding_hub, other_hub, deciding_io, _ = await _hubs(redis_server)
    async with deciding_hub as deciding, other_hub as other:
        code, host = await _quiz_room(deciding)
        here = await _phones(deciding, code, 3)
        there = await _phones(other, code, 1)
        phones = [*here, *there]
        await until(lambda: not deciding.fanout._renderers, "the deciding worker's renders")
        monkeypatch.setattr(fanout, "SPLIT_PERSONAL_AT", 100)  # few sockets here
        deciding_io.on_publish = lambda: [_given(p, q.QUESTION) for p in here]
        await deciding.control(host.client, {"action": "start"})
        await until(lambda: all(_frames(p, "view", q.QUESTION) for p in phones), "q")
        assert deciding_io.published[-1] == [False] * 3  # with the save: before written here
        deciding_io.on_publish = lambda: [_given(p, q.REVEAL) for p in here]
        await deciding.control(host.client, {"action": "close"})
        await until(lambda: all(_shown(p).get("phase") == q.REVEAL for p in phones), "r")
        assert deciding_io.published[-1] == [True] * 3  # few: written, then published
        monkeypatch.setattr(fanout, "SPLIT_PERSONAL_AT", 3)  # 3 phones and the host: many
        deciding_io.on_publish = lambda: [_given(p, q.SCOREBOARD) for p in here]
        # The render that follows the change may not read the room before the step has shown
        # its views (on a busy machine it could, and would write the views here first).
        deciding_io.go.clear()
        await deciding.control(host.client, {"action": "scoreboard"})
        assert deciding_io.published[-1] == [False] * 3  # published before written here
        deciding_io.go.set()
        await until(lambda: all(_shown(p).get("phase") == q.SCOREBOARD for p in phones), "s")


async def test_a_round_that_has_an_input_already_gets_views_made_after_its_save(
    redis_server: RedisServer,
) -> None:
    """The save publishes the views made before it only while the round it opens has no inputs
    (Backend.save_and_publish). A round with a record already (here written before it opened)
    gets its views made after the save, from its table: the projector on the other worker
    counts that answer from the first view of the question on."""
    deciding_hub, other_hub, _, _ = await _hubs(redis_server)
    async with deciding_hub as deciding, other_hub as other:
        code, host = await _quiz_room(deciding)
        there = await _phones(other, code, 2)
        screen = Socket(other)
        await other.hello(screen.client, {"role": "screen", "room": code})
        player = there[0].frames[0]["player"]
        record = pack({"ms": 500, "choice": 0, "value": None, "n": "0"})
        await deciding.backend.hset(code, input_table(0, answers_table(1, 0)), player, record)
        await deciding.control(host.client, {"action": "start"})
        await until(lambda: bool(_frames(screen, "view", q.QUESTION)), "the question")
        assert _frames(screen, "view", q.QUESTION)[0]["answered"]["count"] == 1


async def test_a_render_that_read_the_room_before_a_shown_change_does_not_take_phones_back(
    redis_server: RedisServer,
) -> None:
    """The other worker's render read the room while the question was open and finishes after
    the reveal was shown (a busy worker): its question view must not reach the phones again,
    which would take them from the reveal back to the question for a moment."""
    deciding_hub, other_hub, _, other_io = await _hubs(redis_server)
    async with deciding_hub as deciding, other_hub as other:
        _, host, there = await _question_open(deciding, other, 2)
        await until(lambda: not other.fanout._renderers, "the other worker's renders")
        other_io.go.clear()
        other_io.hold_after_read = True
        await other.input(there[0].client, answer_frame(0, 0))  # the other worker re-renders
        await until(lambda: other_io.held_reads > 0, "the other worker's read of the question")
        await deciding.control(host.client, {"action": "close"})
        await until(lambda: all(_shown(p).get("phase") == q.REVEAL for p in there), "reveal")
        other_io.hold_after_read = False
        other_io.go.set()  # the read from before the close comes back now
        await until(lambda: not other.fanout._renderers, "the other worker's renders")
        await asyncio.sleep(0.1)
        for phone in there:
            views = _frames(phone, "view")
            first_reveal = next(i for i, v in enumerate(views) if v["phase"] == q.REVEAL)
            assert [v["phase"] for v in views[first_reveal:]] == [q.REVEAL]


async def test_a_question_s_views_say_it_takes_inputs_and_a_reveal_s_do_not(
    two_workers: tuple[Hub, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The render hold (Fanout._hold) needs to know whether previewed views are of a round that
    takes inputs: the activity says so (`collecting`), on the worker that made the views and
    with them over the subscription. Here one room is a burst: its render after the question
    waits, the one after the reveal does not, and the host still gets the question's view."""
    monkeypatch.setattr(fanout, "HOLD_BURST", 1)
    deciding, other = two_workers
    code, host, there = await _question_open(deciding, other, 2)
    assert code in deciding.fanout._preview_at and code in other.fanout._preview_at
    await until(lambda: _host_has(host, q.QUESTION), "the host's view of the question")
    await deciding.control(host.client, {"action": "close"})
    await until(lambda: all(_shown(p).get("phase") == q.REVEAL for p in there), "the reveal")
    assert code not in deciding.fanout._preview_at and code not in other.fanout._preview_at
    assert deciding.fanout._hold(code) == 0.0 and other.fanout._hold(code) == 0.0


def _host_has(host: Socket, phase: str) -> bool:
    return bool(_frames(host, "view", phase))
