"""The Backend contract: every test runs on the memory backend and on a real redis-server."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.hub import codes
from server.hub.backend import Arriving, Backend, Enrolled, Enrolment, Put, PutResult
from server.hub.memory import MemoryBackend
from server.hub.room import DEVICES, NAMES, PLAYERS, TOKENS
from tests.contract.conftest import Cluster, FakeClock, eventually

ROOM = "123456"
OTHER = "654321"
_codes = itertools.count(200_000)


def fresh_code() -> str:
    return str(next(_codes))


async def next_message(backend: Backend, within: float = 3.0) -> tuple[str, bytes]:
    return await asyncio.wait_for(backend.next_published(), within)


# ---- room documents ------------------------------------------------------------------------------
async def test_create_and_load(backend: Backend) -> None:
    assert await backend.load_room(ROOM) is None
    assert await backend.create_room(ROOM, b"doc-1") is True
    assert await backend.load_room(ROOM) == (1, b"doc-1")


async def test_create_refuses_a_taken_code(backend: Backend) -> None:
    assert await backend.create_room(ROOM, b"first") is True
    assert await backend.create_room(ROOM, b"second") is False
    assert await backend.load_room(ROOM) == (1, b"first")


async def test_save_is_compare_and_set_on_the_version(backend: Backend) -> None:
    await backend.create_room(ROOM, b"v1")
    assert await backend.save_room(ROOM, 1, b"v2") is True
    assert await backend.load_room(ROOM) == (2, b"v2")
    assert await backend.save_room(ROOM, 1, b"stale") is False
    assert await backend.load_room(ROOM) == (2, b"v2")
    assert await backend.save_room(ROOM, 2, b"v3") is True
    assert await backend.load_room(ROOM) == (3, b"v3")
    assert await backend.save_room(OTHER, 1, b"no room") is False
    assert await backend.load_room(OTHER) is None


async def test_records_saved_with_the_document_are_stored_only_with_it(backend: Backend) -> None:
    await backend.create_room(ROOM, b"v1")
    gate = [("meta", "open", b"gate 1"), ("meta", "present", b"\x90")]
    assert not await backend.save_room(ROOM, 7, b"stale", gate)  # lost the race: nothing
    assert await backend.hgetall(ROOM, "meta") == {}
    assert await backend.save_room(ROOM, 1, b"v2", gate)
    assert await backend.load_room(ROOM) == (2, b"v2")
    assert await backend.hgetall(ROOM, "meta") == {"open": b"gate 1", "present": b"\x90"}
    await backend.hset(ROOM, "meta", "open", b"closed since")
    assert await backend.save_room(ROOM, 1, b"v2", gate)  # a repeat: done by the first
    assert await backend.hget(ROOM, "meta", "open") == b"closed since"
    assert await backend.save_room(ROOM, 2, b"v3")  # no records: the tables stay as they are
    assert await backend.hgetall(ROOM, "meta") == {"open": b"closed since", "present": b"\x90"}


async def test_records_saved_with_the_document_expire_with_the_room(cluster: Cluster) -> None:
    cluster.room_ttl = 1.0
    backend = await cluster.worker()
    await backend.create_room(ROOM, b"v1")
    assert await backend.save_room(ROOM, 1, b"v2", [("answers:0", "p1", b"A")])
    await cluster.wait(1.1)

    async def gone() -> bool:
        return await backend.load_room(ROOM) is None

    await eventually(gone, within=4)
    assert await backend.hgetall(ROOM, "answers:0") == {}


async def test_concurrent_saves_at_one_version_have_one_winner(cluster: Cluster) -> None:
    workers = [await cluster.worker() for _ in range(3)]
    await workers[0].create_room(ROOM, b"v1")
    results = await asyncio.gather(
        *(workers[i % 3].save_room(ROOM, 1, f"writer {i}".encode()) for i in range(12))
    )
    assert results.count(True) == 1
    winner = results.index(True)
    assert await workers[1].load_room(ROOM) == (2, f"writer {winner}".encode())


async def test_documents_are_bytes_exact(backend: Backend) -> None:
    doc = bytes(range(256)) * 4
    await backend.create_room(ROOM, doc)
    assert await backend.load_room(ROOM) == (1, doc)


async def test_room_count(backend: Backend) -> None:
    assert await backend.room_count() == 0
    await backend.create_room(ROOM, b"a")
    await backend.create_room(OTHER, b"b")
    await backend.create_room(ROOM, b"taken")
    assert await backend.room_count() == 2


# ---- change counter ------------------------------------------------------------------------------
async def test_bump_is_monotonic(backend: Backend) -> None:
    await backend.create_room(ROOM, b"doc")
    assert await backend.seq(ROOM) == 0
    assert [await backend.bump(ROOM) for _ in range(3)] == [1, 2, 3]
    assert await backend.seq(ROOM) == 3
    assert await backend.seq(OTHER) == 0


async def test_concurrent_bumps_hand_out_distinct_values(cluster: Cluster) -> None:
    workers = [await cluster.worker() for _ in range(3)]
    await workers[0].create_room(ROOM, b"doc")
    values = await asyncio.gather(*(workers[i % 3].bump(ROOM) for i in range(30)))
    assert sorted(values) == list(range(1, 31))
    assert await workers[2].seq(ROOM) == 30


async def test_bump_of_a_missing_room_does_not_create_it(backend: Backend) -> None:
    assert await backend.bump(OTHER) == 0
    assert await backend.load_room(OTHER) is None


# ---- tables --------------------------------------------------------------------------------------
async def test_table_operations(backend: Backend) -> None:
    await backend.create_room(ROOM, b"doc")
    assert await backend.hget(ROOM, "players", "p1") is None
    assert await backend.hgetall(ROOM, "players") == {}
    assert await backend.hlen(ROOM, "players") == 0
    await backend.hset(ROOM, "players", "p1", b"ann")
    await backend.hset(ROOM, "players", "p2", b"bob")
    await backend.hset(ROOM, "players", "p1", b"anna")
    await backend.hset(ROOM, "answers", "p1", b"\x00\xff")
    assert await backend.hget(ROOM, "players", "p1") == b"anna"
    assert await backend.hgetall(ROOM, "players") == {"p1": b"anna", "p2": b"bob"}
    assert await backend.hlen(ROOM, "players") == 2
    assert await backend.hgetall(ROOM, "answers") == {"p1": b"\x00\xff"}
    await backend.hdel(ROOM, "players", "p1")
    await backend.hdel(ROOM, "players", "nobody")
    assert await backend.hgetall(ROOM, "players") == {"p2": b"bob"}
    assert await backend.hlen(ROOM, "players") == 1
    # A table read is the caller's own copy: the hub keeps it to see whether the table changed.
    kept = await backend.hgetall(ROOM, "players")
    snapped = (await backend.snapshot(ROOM, ("players",))).tables["players"]
    await backend.hset(ROOM, "players", "p3", b"cas")
    assert kept == snapped == {"p2": b"bob"}


async def test_hsetnx_sets_only_once(backend: Backend) -> None:
    await backend.create_room(ROOM, b"doc")
    assert await backend.hsetnx(ROOM, "answers", "p1", b"first") is True
    assert await backend.hsetnx(ROOM, "answers", "p1", b"second") is False
    assert await backend.hget(ROOM, "answers", "p1") == b"first"


async def test_writes_to_a_missing_room_are_dropped(backend: Backend) -> None:
    await backend.hset(OTHER, "players", "p1", b"x")
    assert await backend.hsetnx(OTHER, "players", "p2", b"y") is False
    assert await backend.hget(OTHER, "players", "p1") is None
    assert await backend.hgetall(OTHER, "players") == {}
    assert await backend.load_room(OTHER) is None


async def test_concurrent_hsetnx_has_one_winner(cluster: Cluster) -> None:
    workers = [await cluster.worker() for _ in range(4)]
    await workers[0].create_room(ROOM, b"doc")
    results = await asyncio.gather(
        *(workers[i % 4].hsetnx(ROOM, "answers", "p1", f"{i}".encode()) for i in range(40))
    )
    assert results.count(True) == 1
    assert await workers[1].hget(ROOM, "answers", "p1") == str(results.index(True)).encode()


# ---- put_if_open ---------------------------------------------------------------------------------
async def test_put_if_open(backend: Backend) -> None:
    await backend.create_room(ROOM, b"doc")
    assert await backend.put_if_open(ROOM, b"q1", "answers", "p1", b"A") == PutResult.CLOSED
    await backend.hset(ROOM, "meta", "open", b"q1")
    assert await backend.put_if_open(ROOM, b"q1", "answers", "p1", b"A") == PutResult.OK
    assert await backend.put_if_open(ROOM, b"q1", "answers", "p1", b"B") == PutResult.DUPLICATE
    assert await backend.put_if_open(ROOM, b"q1", "answers", "p2", b"B") == PutResult.OK
    # The gate is compared byte for byte: no prefix, no trailing NUL, no other question.
    assert await backend.put_if_open(ROOM, b"q", "answers", "p3", b"C") == PutResult.CLOSED
    assert await backend.put_if_open(ROOM, b"q1\x00", "answers", "p3", b"C") == PutResult.CLOSED
    assert await backend.put_if_open(ROOM, b"q2", "answers", "p3", b"C") == PutResult.CLOSED
    await backend.hset(ROOM, "meta", "open", b"q2")
    assert await backend.put_if_open(ROOM, b"q1", "answers", "p3", b"C") == PutResult.CLOSED
    await backend.hdel(ROOM, "meta", "open")
    assert await backend.put_if_open(ROOM, b"q2", "answers", "p3", b"C") == PutResult.CLOSED
    assert await backend.hgetall(ROOM, "answers") == {"p1": b"A", "p2": b"B"}


async def test_put_if_open_on_a_missing_room_is_closed(backend: Backend) -> None:
    assert await backend.put_if_open(OTHER, b"", "answers", "p1", b"A") == PutResult.CLOSED
    assert await backend.put_if_open(OTHER, b"q1", "answers", "p1", b"A") == PutResult.CLOSED


async def test_concurrent_puts_of_one_player_store_exactly_one(cluster: Cluster) -> None:
    workers = [await cluster.worker() for _ in range(4)]
    await workers[0].create_room(ROOM, b"doc")
    await workers[0].hset(ROOM, "meta", "open", b"q7")
    # Many taps at once (each record differs: the hub stores the server's time and a nonce per
    # answer; identical bytes only come from a client retry, see the test at the end).
    values = [f"v{i}".encode() for i in range(50)]
    results = await asyncio.gather(
        *(
            workers[i % 4].put_if_open(ROOM, b"q7", "answers", "p1", value)
            for i, value in enumerate(values)
        )
    )
    assert results.count(PutResult.OK) == 1
    assert results.count(PutResult.DUPLICATE) == len(values) - 1
    assert await workers[3].hget(ROOM, "answers", "p1") == values[results.index(PutResult.OK)]


async def test_an_answer_is_stored_before_the_close_reads_or_refused(cluster: Cluster) -> None:
    workers = [await cluster.worker() for _ in range(3)]
    await workers[0].create_room(ROOM, b"doc")
    await workers[0].hset(ROOM, "meta", "open", b"q1")

    async def close() -> dict[str, bytes]:
        await asyncio.sleep(0)
        await workers[2].hdel(ROOM, "meta", "open")
        return await workers[2].hgetall(ROOM, "answers")

    puts = [workers[i % 2].put_if_open(ROOM, b"q1", "answers", f"p{i}", b"x") for i in range(60)]
    *results, read_at_close = await asyncio.gather(*puts, close())
    accepted = {f"p{i}" for i, r in enumerate(results) if r == PutResult.OK}
    assert all(r in (PutResult.OK, PutResult.CLOSED) for r in results)
    assert set(read_at_close) == accepted
    assert set(await workers[1].hgetall(ROOM, "answers")) == accepted


async def test_closing_with_replace_and_read_misses_no_accepted_answer(cluster: Cluster) -> None:
    """What a closing command does in one step: replace the gate, read the answers."""
    workers = [await cluster.worker() for _ in range(3)]
    await workers[0].create_room(ROOM, b"doc")
    await workers[0].hset(ROOM, "meta", "open", b"q1")

    async def close() -> tuple[bytes | None, dict[str, bytes]]:
        await asyncio.sleep(0)
        return await workers[2].replace_and_read(ROOM, "meta", "open", b"closed", "answers")

    puts = [workers[i % 2].put_if_open(ROOM, b"q1", "answers", f"p{i}", b"x") for i in range(60)]
    *results, (replaced, read_at_close) = await asyncio.gather(*puts, close())
    accepted = {f"p{i}" for i, r in enumerate(results) if r == PutResult.OK}
    assert replaced == b"q1"
    assert all(r in (PutResult.OK, PutResult.CLOSED) for r in results)
    assert read_at_close == dict.fromkeys(accepted, b"x")
    assert set(await workers[1].hgetall(ROOM, "answers")) == accepted
    assert await workers[1].hget(ROOM, "meta", "open") == b"closed"


async def test_replace_and_read(backend: Backend) -> None:
    await backend.create_room(ROOM, b"doc")
    assert await backend.replace_and_read(ROOM, "meta", "open", b"g1", "") == (None, {})
    await backend.hset(ROOM, "answers", "p1", b"A")
    assert await backend.replace_and_read(ROOM, "meta", "open", b"g2", "answers") == (
        b"g1",
        {"p1": b"A"},
    )
    assert await backend.hget(ROOM, "meta", "open") == b"g2"
    assert await backend.replace_and_read(ROOM, "meta", "open", b"g3", "nothing") == (b"g2", {})
    # A room that is gone stays gone.
    assert await backend.replace_and_read(OTHER, "meta", "open", b"g", "answers") == (None, {})
    assert await backend.load_room(OTHER) is None
    assert await backend.hgetall(OTHER, "meta") == {}


_ops = st.lists(
    st.one_of(
        st.tuples(st.just("open"), st.sampled_from([b"q1", b"q2"])),
        st.tuples(st.just("close")),
        st.tuples(
            st.just("put"),
            st.sampled_from([b"q1", b"q2"]),
            st.sampled_from(["p1", "p2", "p3"]),
            st.binary(max_size=4),
        ),
    ),
    max_size=25,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=_ops)
async def test_put_if_open_matches_a_model(backend: Backend, ops: list[tuple[object, ...]]) -> None:
    code = fresh_code()
    await backend.create_room(code, b"doc")
    gate: bytes | None = None
    stored: dict[str, bytes] = {}
    for op in ops:
        if op[0] == "open":
            assert isinstance(op[1], bytes)
            gate = op[1]
            await backend.hset(code, "meta", "open", gate)
        elif op[0] == "close":
            gate = None
            await backend.hdel(code, "meta", "open")
        else:
            _, want, player, value = op
            assert isinstance(want, bytes) and isinstance(player, str)
            assert isinstance(value, bytes)
            if stored.get(player) == value:
                expected = PutResult.OK  # a repeat of the call that stored it (backend.py)
            elif gate != want:
                expected = PutResult.CLOSED
            elif player in stored:
                expected = PutResult.DUPLICATE
            else:
                expected = PutResult.OK
                stored[player] = value
            assert await backend.put_if_open(code, want, "answers", player, value) == expected
    assert await backend.hgetall(code, "answers") == stored


# ---- presence ------------------------------------------------------------------------------------
async def test_presence_counts_players_with_an_open_connection(backend: Backend) -> None:
    await backend.create_room(ROOM, b"doc")
    assert await backend.online(ROOM) == set()
    await backend.set_online(ROOM, "p1", "c1", True)
    await backend.set_online(ROOM, "p1", "c2", True)
    await backend.set_online(ROOM, "p2", "c3", True)
    assert await backend.online(ROOM) == {"p1", "p2"}
    await backend.set_online(ROOM, "p1", "c1", False)
    assert await backend.online(ROOM) == {"p1", "p2"}
    await backend.set_online(ROOM, "p1", "c2", False)
    assert await backend.online(ROOM) == {"p2"}
    await backend.set_online(ROOM, "p2", "never-opened", False)
    assert await backend.online(ROOM) == {"p2"}
    assert await backend.online(OTHER) == set()


async def test_load_following_reads_what_the_single_reads_read(backend: Backend) -> None:
    """Many resumes' one read: the document and, per token, its player and their record."""
    assert await backend.load_following(ROOM, "tokens", ["t1"], "players") == (None, [None])
    await backend.create_room(ROOM, b"doc-1")
    await backend.hset(ROOM, "tokens", "t1", b"p1")
    await backend.hset(ROOM, "tokens", "t2", b"p2")
    await backend.hset(ROOM, "tokens", "t3", b"p3")  # a player without a name record
    await backend.hset(ROOM, "players", "p1", b"Anna")
    await backend.hset(ROOM, "players", "p2", "Bram 😀".encode())
    room, found = await backend.load_following(
        ROOM, "tokens", ["t2", "nope", "t1", "t3"], "players"
    )
    assert room == await backend.load_room(ROOM) == (1, b"doc-1")
    assert found == [("p2", "Bram 😀".encode()), None, ("p1", b"Anna"), ("p3", b"")]
    assert await backend.load_following(ROOM, "tokens", [], "players") == ((1, b"doc-1"), [])


async def test_arrive_is_the_single_writes_in_one(backend: Backend) -> None:
    """Many arrivals' one write: presence, records set and deleted; a repeat changes nothing;
    a room that is gone gets nothing."""
    await backend.create_room(ROOM, b"doc")
    await backend.hset(ROOM, "left", "p1", b"t")
    await backend.hset(ROOM, "left", "p2", b"t")
    await backend.hset(ROOM, "left", "p3", b"t")
    for _ in range(2):
        await backend.arrive(
            ROOM,
            [("p1", "c1"), ("p2", "c2")],
            [("devices", "p1", b"d1")],
            [("left", "p1"), ("left", "p2")],
        )
        assert await backend.online(ROOM) == {"p1", "p2"}
        assert await backend.hgetall(ROOM, "left") == {"p3": b"t"}
        assert await backend.hgetall(ROOM, "devices") == {"p1": b"d1"}
    await backend.set_online(ROOM, "p1", "c1", False)
    assert await backend.online(ROOM) == {"p2"}
    await backend.arrive(OTHER, [("p9", "c9")], [("devices", "p9", b"d")], [])
    assert await backend.load_room(OTHER) is None
    assert await backend.hgetall(OTHER, "devices") == {}


async def test_snapshot_reads_what_the_single_reads_read(backend: Backend) -> None:
    """A render's one read (one round trip on Redis) returns exactly the parts."""
    gone = await backend.snapshot(ROOM, ("players",))
    assert gone.room is None and gone.seq == 0 and gone.online == set()
    await backend.create_room(ROOM, b"doc-1")
    assert await backend.save_room(ROOM, 1, b"doc-2") is True
    await backend.bump(ROOM)
    await backend.hset(ROOM, "players", "p1", b"Anna")
    await backend.hset(ROOM, "players", "p2", "Bram 😀".encode())
    await backend.hset(ROOM, "answers:1:0", "p1", b"\x81\xa2ms\x05")
    await backend.set_online(ROOM, "p1", "c1", True)
    await backend.set_online(ROOM, "p2", "c2", True)
    await backend.set_online(ROOM, "p2", "c2", False)
    snap = await backend.snapshot(ROOM, ("players", "answers:1:0", "answers:1:1"))
    assert snap.seq == await backend.seq(ROOM) == 1
    assert snap.room == await backend.load_room(ROOM) == (2, b"doc-2")
    assert snap.tables == {
        "players": {"p1": b"Anna", "p2": "Bram 😀".encode()},
        "answers:1:0": {"p1": b"\x81\xa2ms\x05"},
        "answers:1:1": {},
    }
    assert snap.online == await backend.online(ROOM) == {"p1"}
    assert snap.fields == {}
    assert (await backend.snapshot(OTHER, ())).room is None
    # Single fields read along: the value, or None where the field or the table is missing.
    await backend.hset(ROOM, "meta", "present", b"\x92\xa2p1\xa2p2")
    fields = [("meta", "present"), ("meta", "open"), ("nothing", "x"), ("players", "p2")]
    snap = await backend.snapshot(ROOM, ("players",), fields)
    assert snap.tables == {"players": {"p1": b"Anna", "p2": "Bram 😀".encode()}}
    assert snap.fields == {
        ("meta", "present"): b"\x92\xa2p1\xa2p2",
        ("meta", "open"): None,
        ("nothing", "x"): None,
        ("players", "p2"): "Bram 😀".encode(),
    }
    assert snap.online == {"p1"} and snap.room == (2, b"doc-2")


async def test_presence_is_shared_between_workers(cluster: Cluster) -> None:
    first, second = await cluster.worker(), await cluster.worker()
    await first.create_room(ROOM, b"doc")
    await first.set_online(ROOM, "p1", "c1", True)
    await second.set_online(ROOM, "p2", "c2", True)
    assert await first.online(ROOM) == {"p1", "p2"}
    assert await second.online(ROOM) == {"p1", "p2"}
    await second.set_online(ROOM, "p2", "c2", False)
    assert await first.online(ROOM) == {"p1"}


# ---- deadlines -----------------------------------------------------------------------------------
NOW = 1_700_000_000.0


async def test_claim_due_hands_out_only_due_rooms(backend: Backend) -> None:
    for code in (ROOM, OTHER):
        await backend.create_room(code, b"doc")
    await backend.schedule(ROOM, NOW - 1)
    await backend.schedule(OTHER, NOW + 10)
    assert await backend.claim_due(NOW, lease=5) == [ROOM]
    # Leased: not due again until the lease runs out, then due again (its claimer died).
    assert await backend.claim_due(NOW + 4.9, lease=5) == []
    assert await backend.claim_due(NOW + 5.01, lease=5) == [ROOM]
    assert sorted(await backend.claim_due(NOW + 10.5, lease=5)) == sorted([OTHER, ROOM])


async def test_schedule_replaces_and_zero_removes(backend: Backend) -> None:
    for code in (ROOM, OTHER):
        await backend.create_room(code, b"doc")
    await backend.schedule(ROOM, NOW + 100)
    await backend.schedule(ROOM, NOW - 1)
    await backend.schedule(OTHER, NOW - 1)
    await backend.schedule(OTHER, 0)
    await backend.schedule("999999", 0)
    assert await backend.claim_due(NOW, lease=5) == [ROOM]
    await backend.schedule(ROOM, NOW + 100)
    assert await backend.claim_due(NOW + 50, lease=5) == []
    await backend.schedule(ROOM, 0)
    assert await backend.claim_due(NOW + 1000, lease=5) == []


async def test_an_earlier_only_tick_never_puts_off_one_due_sooner(backend: Backend) -> None:
    """A wake-up (`earlier=True`) moves a room's tick forward, never back; without a tick asked
    for it asks for one."""
    for code in (ROOM, OTHER):
        await backend.create_room(code, b"doc")
    await backend.schedule(ROOM, NOW + 10)
    await backend.schedule(ROOM, NOW + 20, earlier=True)  # later: ignored
    assert await backend.claim_due(NOW + 10, lease=100) == [ROOM]
    await backend.schedule(ROOM, NOW + 40)
    await backend.schedule(ROOM, NOW + 30, earlier=True)  # sooner: moves it forward
    assert await backend.claim_due(NOW + 29.9, lease=100) == []
    assert await backend.claim_due(NOW + 30, lease=100) == [ROOM]
    await backend.schedule(OTHER, NOW + 5, earlier=True)  # none asked for: asks for one
    assert await backend.claim_due(NOW + 5, lease=100) == [OTHER]


async def test_a_deadline_from_an_older_version_of_the_room_never_wins(backend: Backend) -> None:
    """A schedule carries the document version it was computed from: one from an older version
    that arrives late (a tick's fresh read before the host opened the next question) neither
    replaces nor removes the deadline of a newer one; the same or a newer version does."""
    await backend.create_room(ROOM, b"doc")
    await backend.schedule(ROOM, NOW + 20, version=5)
    await backend.schedule(ROOM, NOW + 60, version=4)  # older: ignored
    await backend.schedule(ROOM, 0, version=4)  # older: does not remove it either
    assert await backend.claim_due(NOW + 19.9, lease=100) == []
    assert await backend.claim_due(NOW + 20, lease=100) == [ROOM]
    await backend.schedule(ROOM, NOW + 30, version=5)  # the same version: re-armed
    assert await backend.claim_due(NOW + 30, lease=100) == [ROOM]
    await backend.schedule(ROOM, 0, version=6)  # newer: removed
    await backend.schedule(ROOM, NOW + 40, version=5)  # and an older one cannot bring it back
    assert await backend.claim_due(NOW + 1000, lease=100) == []
    await backend.schedule(ROOM, NOW + 50, version=7)
    assert await backend.claim_due(NOW + 50, lease=100) == [ROOM]


async def test_a_new_room_of_an_expired_code_schedules_from_version_one(
    cluster: Cluster,
) -> None:
    """The newest version a code was scheduled from can outlive its room (it is written after
    the room's last save): a room created again with that code starts afresh."""
    cluster.room_ttl = 1.0
    backend = await cluster.worker()
    assert await backend.create_room(ROOM, b"doc")
    await cluster.wait(0.6)
    await backend.schedule(ROOM, NOW + 100, version=40)  # lives 1 s from here, the room 0.4 s
    await cluster.wait(0.6)
    assert await backend.load_room(ROOM) is None
    assert await backend.create_room(ROOM, b"doc again")
    await backend.schedule(ROOM, NOW + 10, version=1)
    assert await backend.claim_due(NOW + 10, lease=100) == [ROOM]


async def test_claim_due_returns_rooms_in_deadline_order(backend: Backend) -> None:
    codes = [fresh_code() for _ in range(5)]
    for offset, code in zip([3, 1, 4, 2, 5], codes, strict=True):
        await backend.create_room(code, b"doc")
        await backend.schedule(code, NOW - 10 + offset)
    expected = [code for _, code in sorted(zip([3, 1, 4, 2, 5], codes, strict=True))]
    assert await backend.claim_due(NOW, lease=5) == expected


async def test_each_due_room_goes_to_exactly_one_claimer(cluster: Cluster) -> None:
    workers = [await cluster.worker() for _ in range(4)]
    codes = [fresh_code() for _ in range(25)]
    for code in codes:
        await workers[0].create_room(code, b"doc")
        await workers[0].schedule(code, NOW - 1)
    claims = await asyncio.gather(*(workers[i % 4].claim_due(NOW, 30) for i in range(8)))
    handed_out = [code for claim in claims for code in claim]
    assert sorted(handed_out) == sorted(codes)


@pytest.mark.parametrize(
    "moves",
    [
        [NOW - 1, NOW - 1],  # the same time twice
        [NOW - 1, NOW + 10, NOW - 1],  # moved away and back
        [NOW - 1, None, NOW - 1],  # unscheduled and scheduled again
    ],
    ids=["same-time", "moved-back", "rescheduled"],
)
async def test_a_room_is_claimed_once_however_it_was_scheduled(
    backend: Backend, moves: list[float | None]
) -> None:
    await backend.create_room(ROOM, b"doc")
    for at in moves:
        if at is None:
            await backend.schedule(ROOM, 0)
        else:
            await backend.schedule(ROOM, at)
    assert await backend.claim_due(NOW, lease=5) == [ROOM]
    assert await backend.claim_due(NOW + 1, lease=5) == []


# ---- fan-out -------------------------------------------------------------------------------------
async def test_published_messages_arrive_in_order(backend: Backend) -> None:
    await backend.subscribe(ROOM)
    for i in range(5):
        await backend.publish(ROOM, f"m{i}".encode())
    assert [await next_message(backend) for _ in range(5)] == [
        (ROOM, f"m{i}".encode()) for i in range(5)
    ]


async def test_messages_reach_other_workers(cluster: Cluster) -> None:
    listener, speaker = await cluster.worker(), await cluster.worker()
    await listener.subscribe(ROOM)
    payload = bytes(range(256))
    await speaker.publish(ROOM, payload)
    assert await next_message(listener) == (ROOM, payload)


async def test_rooms_not_subscribed_are_not_delivered(backend: Backend) -> None:
    await backend.subscribe(ROOM)
    await backend.publish(OTHER, b"not for us")
    await backend.publish(ROOM, b"for us")
    # Same publisher, so had OTHER's message been delivered it would have come first.
    assert await next_message(backend) == (ROOM, b"for us")


async def test_nothing_is_delivered_after_unsubscribe(backend: Backend) -> None:
    await backend.subscribe(ROOM)
    await backend.subscribe(OTHER)
    await backend.subscribe(OTHER)  # idempotent
    await backend.unsubscribe(ROOM)
    await backend.unsubscribe("999999")  # never subscribed: harmless
    await backend.publish(ROOM, b"gone")
    await backend.publish(OTHER, b"still here")
    assert await next_message(backend) == (OTHER, b"still here")
    await backend.subscribe(ROOM)
    await backend.publish(ROOM, b"back")
    assert await next_message(backend) == (ROOM, b"back")


async def test_changed_bumps_and_tells_every_worker_in_one(cluster: Cluster) -> None:
    listener, speaker = await cluster.worker(), await cluster.worker()
    await speaker.create_room(ROOM, b"doc")
    await listener.subscribe(ROOM)
    assert await speaker.changed(ROOM) == 1
    assert await speaker.changed(ROOM, urgent=True, table="a:0") == 2
    assert await speaker.changed(ROOM, table="") == 3  # "": no input table, passed on as given
    assert await listener.seq(ROOM) == 3
    got = [msgpack.unpackb((await next_message(listener))[1], raw=False) for _ in range(3)]
    assert got == [{"seq": 1}, {"seq": 2, "urgent": True, "table": "a:0"}, {"seq": 3, "table": ""}]


async def test_changed_of_a_missing_room_publishes_nothing(backend: Backend) -> None:
    await backend.create_room(ROOM, b"doc")
    await backend.subscribe(OTHER)
    await backend.subscribe(ROOM)
    assert await backend.changed(OTHER, urgent=True) == 0
    assert await backend.load_room(OTHER) is None
    await backend.changed(ROOM)
    # Same publisher, so had OTHER's change been published it would have come first.
    code, raw = await next_message(backend)
    assert (code, msgpack.unpackb(raw, raw=False)) == (ROOM, {"seq": 1})


async def test_a_save_publishes_views_made_before_it_only_while_the_round_is_empty(
    cluster: Cluster,
) -> None:
    """save_and_publish: the message goes out with the save (to every worker) when the save
    is made and the named table holds nothing; not for a lost race, not once the round has
    inputs (the views made before the save could be out of date by then)."""
    listener, saver = await cluster.worker(), await cluster.worker()
    await saver.create_room(ROOM, b"v1")
    await listener.subscribe(ROOM)
    gate = [("meta", "open", b"q1")]
    assert await saver.save_and_publish(ROOM, 1, b"v2", gate, "answers", b"views 2") == (
        True,
        True,
    )
    assert await next_message(listener) == (ROOM, b"views 2")
    assert await saver.load_room(ROOM) == (2, b"v2")
    assert await saver.hget(ROOM, "meta", "open") == b"q1"

    # A lost race: nothing saved, nothing stored along, nothing published.
    lost = await saver.save_and_publish(ROOM, 1, b"stale", [("meta", "x", b"1")], "answers", b"x")
    assert lost == (False, False)
    # The round has an input: saved, but the views are left to the caller.
    await saver.hset(ROOM, "answers", "p1", b"A")
    assert await saver.save_and_publish(ROOM, 2, b"v3", (), "answers", b"views 3") == (
        True,
        False,
    )
    assert await saver.load_room(ROOM) == (3, b"v3")
    assert await saver.hget(ROOM, "meta", "x") is None
    await saver.publish(ROOM, b"marker")
    # Same publisher, so had either message been published it would have come first.
    assert await next_message(listener) == (ROOM, b"marker")


# ---- durable store -------------------------------------------------------------------------------
async def test_store(backend: Backend) -> None:
    assert await backend.store_get("quizzes", "q1") is None
    assert await backend.store_all("quizzes") == {}
    await backend.store_put("quizzes", "q1", b"one")
    await backend.store_put("quizzes", "q2", b"\x00two")
    await backend.store_put("quizzes", "q1", b"uno")
    await backend.store_put("bokaal", "q1", b"other collection")
    assert await backend.store_get("quizzes", "q1") == b"uno"
    assert await backend.store_all("quizzes") == {"q1": b"uno", "q2": b"\x00two"}
    assert await backend.store_all("bokaal") == {"q1": b"other collection"}


async def test_store_put_only_new_and_delete(backend: Backend) -> None:
    assert await backend.store_put("quizzes", "q1", b"first", only_new=True)
    assert not await backend.store_put("quizzes", "q1", b"second", only_new=True)
    assert await backend.store_get("quizzes", "q1") == b"first"
    assert await backend.store_delete("quizzes", "q1")
    assert not await backend.store_delete("quizzes", "q1")
    assert await backend.store_get("quizzes", "q1") is None
    assert await backend.store_all("quizzes") == {}
    assert await backend.store_put("quizzes", "q1", b"again", only_new=True)


async def test_concurrent_puts_of_one_new_key_have_one_winner(cluster: Cluster) -> None:
    workers = [await cluster.worker() for _ in range(3)]
    results = await asyncio.gather(
        *(
            workers[i % 3].store_put("quizzes", "same", f"from {i}".encode(), only_new=True)
            for i in range(12)
        )
    )
    assert results.count(True) == 1
    winner = results.index(True)
    assert await workers[1].store_get("quizzes", "same") == f"from {winner}".encode()


@pytest.mark.parametrize("collection, key", [("quizzes", "../etc"), ("a/b", "k"), ("q", "")])
async def test_store_refuses_unsafe_keys(backend: Backend, collection: str, key: str) -> None:
    with pytest.raises(ValueError):
        await backend.store_put(collection, key, b"x")


# ---- expiry --------------------------------------------------------------------------------------
# The memory backend expires rooms on an injected clock that `cluster.wait` moves; on Redis the
# keys' TTLs run on Redis's own clock, so there these tests wait for real (about 2 s each).
async def test_a_room_expires_with_all_its_tables(cluster: Cluster) -> None:
    cluster.room_ttl = 1.0
    backend = await cluster.worker()
    await backend.create_room(ROOM, b"doc")
    await backend.bump(ROOM)
    await backend.hset(ROOM, "players", "p1", b"ann")
    await cluster.wait(0.5)
    # A late table write must not keep the table alive past the room.
    await backend.hset(ROOM, "answers", "p1", b"A")
    await cluster.wait(0.6)

    async def gone() -> bool:
        return await backend.load_room(ROOM) is None

    await eventually(gone, within=4)
    assert await backend.hget(ROOM, "players", "p1") is None
    assert await backend.seq(ROOM) == 0
    # The code can be used again, and the new room starts empty.
    assert await backend.create_room(ROOM, b"new") is True
    assert await backend.load_room(ROOM) == (1, b"new")
    assert await backend.hgetall(ROOM, "answers") == {}
    assert await backend.hgetall(ROOM, "players") == {}
    assert await backend.seq(ROOM) == 0


async def test_touch_keeps_a_room_alive(cluster: Cluster) -> None:
    cluster.room_ttl = 1.0
    backend = await cluster.worker()
    await backend.create_room(ROOM, b"doc")
    await backend.hset(ROOM, "players", "p1", b"ann")
    for _ in range(8):  # 2 s in all, twice the TTL
        await cluster.wait(0.25)
        await backend.touch(ROOM)
    assert await backend.load_room(ROOM) == (1, b"doc")
    assert await backend.hget(ROOM, "players", "p1") == b"ann"
    await cluster.wait(1.1)

    async def gone() -> bool:
        return await backend.load_room(ROOM) is None

    await eventually(gone, within=4)


async def test_save_keeps_a_room_alive(cluster: Cluster) -> None:
    cluster.room_ttl = 1.0
    backend = await cluster.worker()
    await backend.create_room(ROOM, b"v")
    await backend.hset(ROOM, "players", "p1", b"ann")
    for version in range(1, 9):
        await cluster.wait(0.25)
        assert await backend.save_room(ROOM, version, b"v")
    assert await backend.hget(ROOM, "players", "p1") == b"ann"


async def test_an_expired_room_is_not_counted(cluster: Cluster) -> None:
    cluster.room_ttl = 1.0
    backend = await cluster.worker()
    await backend.create_room(ROOM, b"doc")
    assert await backend.room_count() == 1
    await cluster.wait(1.1)

    async def uncounted() -> bool:
        return await backend.room_count() == 0

    await eventually(uncounted, within=4)


async def test_the_deadline_of_an_expired_room_is_not_claimed(cluster: Cluster) -> None:
    cluster.room_ttl = 1.0
    backend = await cluster.worker()
    await backend.create_room(ROOM, b"doc")
    now = time.time()
    await backend.schedule(ROOM, now + 1.5)
    await cluster.wait(1.6)
    assert await backend.claim_due(now + 1.6, lease=5) == []


async def test_memory_rooms_expire_on_the_injected_clock_to_the_second(tmp_path: Path) -> None:
    clock = FakeClock()
    backend = MemoryBackend(tmp_path, room_ttl=100.0, clock=clock)
    await backend.create_room(ROOM, b"doc")
    clock.now += 60
    await backend.touch(ROOM)
    clock.now += 100  # exactly the TTL since the touch: still there
    assert await backend.load_room(ROOM) == (1, b"doc")
    assert await backend.room_count() == 1
    clock.now += 0.001
    assert await backend.load_room(ROOM) is None
    assert await backend.room_count() == 0


# ---- every write is safe to repeat (a client retry after a timed-out reply) ---------------------
async def test_a_repeated_write_answers_as_the_first_did(backend: Backend) -> None:
    code = fresh_code()
    assert await backend.create_room(code, b"doc v1")
    assert await backend.create_room(code, b"doc v1")  # the same create again
    assert not await backend.create_room(code, b"someone else's room")
    assert await backend.load_room(code) == (1, b"doc v1")

    assert await backend.save_room(code, 1, b"doc v2")
    assert await backend.save_room(code, 1, b"doc v2")  # the same save again: done, not lost
    assert not await backend.save_room(code, 1, b"another v2")
    assert await backend.load_room(code) == (2, b"doc v2")

    assert await backend.hsetnx(code, "names", "anna", b"p1")
    assert await backend.hsetnx(code, "names", "anna", b"p1")
    assert not await backend.hsetnx(code, "names", "anna", b"p2")

    await backend.hset(code, "meta", "open", b"gate-1")
    assert await backend.put_if_open(code, b"gate-1", "answers", "p1", b"A") is PutResult.OK
    assert await backend.put_if_open(code, b"gate-1", "answers", "p1", b"A") is PutResult.OK
    assert await backend.put_if_open(code, b"gate-1", "answers", "p1", b"B") is PutResult.DUPLICATE
    # The question closed meanwhile: the repeat of a stored answer is still told it was stored.
    await backend.hset(code, "meta", "open", b"closed")
    assert await backend.put_if_open(code, b"gate-1", "answers", "p1", b"A") is PutResult.OK
    assert await backend.put_if_open(code, b"gate-1", "answers", "p2", b"A") is PutResult.CLOSED
    assert await backend.hgetall(code, "answers") == {"p1": b"A"}


# ---- put_if_open with overwrite: a record that may change until its gate closes (kring) ----------
async def test_overwrite_replaces_the_record_while_the_gate_is_the_same(backend: Backend) -> None:
    code = fresh_code()
    await backend.create_room(code, b"doc")
    await backend.hset(code, "meta", "open", b"kring-1")
    put = backend.put_if_open
    assert await put(code, b"kring-1", "entries", "p1", b"A7", overwrite=True) is PutResult.OK
    assert await put(code, b"kring-1", "entries", "p1", b"B3", overwrite=True) is PutResult.OK
    assert await put(code, b"kring-1", "entries", "p2", b"A9", overwrite=True) is PutResult.OK
    assert await backend.hgetall(code, "entries") == {"p1": b"B3", "p2": b"A9"}
    # Without overwrite the same table is still set-once.
    assert await put(code, b"kring-1", "entries", "p1", b"C1") is PutResult.DUPLICATE
    assert await backend.hget(code, "entries", "p1") == b"B3"


async def test_overwrite_is_refused_once_the_gate_changed(backend: Backend) -> None:
    code = fresh_code()
    await backend.create_room(code, b"doc")
    await backend.hset(code, "meta", "open", b"kring-1")
    put = backend.put_if_open
    assert await put(code, b"kring-1", "entries", "p1", b"A7", overwrite=True) is PutResult.OK
    await backend.hset(code, "meta", "open", b"kring-2")  # domains edited: a new gate
    assert await put(code, b"kring-1", "entries", "p1", b"B3", overwrite=True) is PutResult.CLOSED
    assert await put(code, b"kring-1", "entries", "p2", b"B3", overwrite=True) is PutResult.CLOSED
    await backend.hdel(code, "meta", "open")  # locked
    assert await put(code, b"kring-2", "entries", "p1", b"B3", overwrite=True) is PutResult.CLOSED
    assert await backend.hgetall(code, "entries") == {"p1": b"A7"}


async def test_concurrent_overwrites_leave_exactly_one_written_value(cluster: Cluster) -> None:
    workers = [await cluster.worker() for _ in range(4)]
    code = fresh_code()
    await workers[0].create_room(code, b"doc")
    await workers[0].hset(code, "meta", "open", b"kring-1")
    values = [f"grade-{i}".encode() for i in range(40)]
    results = await asyncio.gather(
        *(
            workers[i % 4].put_if_open(code, b"kring-1", "entries", "p1", v, overwrite=True)
            for i, v in enumerate(values)
        )
    )
    assert results == [PutResult.OK] * len(values)
    stored = [await w.hgetall(code, "entries") for w in workers]
    assert all(s == stored[0] for s in stored)
    assert set(stored[0]) == {"p1"} and stored[0]["p1"] in values


async def test_a_repeated_overwrite_answers_ok_also_after_the_close(backend: Backend) -> None:
    code = fresh_code()
    await backend.create_room(code, b"doc")
    await backend.hset(code, "meta", "open", b"kring-1")
    put = backend.put_if_open
    assert await put(code, b"kring-1", "entries", "p1", b"A7", overwrite=True) is PutResult.OK
    assert await put(code, b"kring-1", "entries", "p1", b"A7", overwrite=True) is PutResult.OK
    await backend.hdel(code, "meta", "open")
    # The reply to the first call was lost; its retry arrives after the lock: it did take effect.
    assert await put(code, b"kring-1", "entries", "p1", b"A7", overwrite=True) is PutResult.OK
    assert await put(code, b"kring-1", "entries", "p1", b"A8", overwrite=True) is PutResult.CLOSED
    assert await backend.hgetall(code, "entries") == {"p1": b"A7"}


# ---- many inputs through one gate in one call ---------------------------------------------------
async def test_put_many_answers_each_put_in_order(backend: Backend) -> None:
    code = fresh_code()
    await backend.create_room(code, b"doc")
    await backend.hset(code, "meta", "open", b"q1")
    results = await backend.put_many_if_open(
        code,
        b"q1",
        [
            Put("answers", "p1", b"A"),
            Put("answers", "p1", b"B"),  # a second tap in the same batch
            Put("answers", "p2", b"C"),
            Put("answers", "p1", b"A"),  # a repeat of the first
            Put("stickers", "p3", b"x", overwrite=True),
            Put("stickers", "p3", b"y", overwrite=True),
        ],
    )
    assert results == [
        PutResult.OK,
        PutResult.DUPLICATE,
        PutResult.OK,
        PutResult.OK,
        PutResult.OK,
        PutResult.OK,
    ]
    assert await backend.hgetall(code, "answers") == {"p1": b"A", "p2": b"C"}
    assert await backend.hgetall(code, "stickers") == {"p3": b"y"}
    # Another gate: nothing new goes in, what was stored is still acknowledged as stored.
    later = await backend.put_many_if_open(
        code, b"q0", [Put("answers", "p4", b"D"), Put("answers", "p2", b"C")]
    )
    assert later == [PutResult.CLOSED, PutResult.OK]
    assert await backend.put_many_if_open(OTHER, b"q1", [Put("answers", "p1", b"A")]) == [
        PutResult.CLOSED
    ]
    assert await backend.hgetall(code, "answers") == {"p1": b"A", "p2": b"C"}


# ---- a new player in one write ------------------------------------------------------------------
def _anna(n: int) -> list[tuple[str, str]]:
    return [("anna", "Anna")] + [(f"anna {i}", f"Anna {i}") for i in range(2, n + 1)]


async def test_enrol_takes_the_first_free_name_and_stores_the_player(backend: Backend) -> None:
    code = fresh_code()
    await backend.create_room(code, b"doc")
    first = await backend.enrol(code, 10, "digest-1", _anna(2), "aaaaaa")
    assert first == Enrolled(Enrolment.OK, "p0000001aaaaaa", "Anna", 1)
    assert first.player == codes.player_id(1, "aaaaaa")
    second = await backend.enrol(code, 10, "digest-2", _anna(2), "bbbbbb")
    assert second == Enrolled(Enrolment.OK, "p0000002bbbbbb", "Anna 2", 2)
    assert await backend.seq(code) == 2  # the enrolment is the room's change
    assert await backend.hgetall(code, PLAYERS) == {
        first.player: b"Anna",
        second.player: b"Anna 2",
    }
    assert await backend.hgetall(code, TOKENS) == {
        "digest-1": first.player.encode(),
        "digest-2": second.player.encode(),
    }
    assert await backend.hget(code, NAMES, "anna 2") == second.player.encode()
    # Every name offered is taken: nobody is stored.
    taken = await backend.enrol(code, 10, "digest-3", _anna(2), "cccccc")
    assert taken.outcome is Enrolment.NAMES_TAKEN and taken.player == ""
    assert await backend.hlen(code, PLAYERS) == 2
    assert await backend.hget(code, TOKENS, "digest-3") is None


async def test_a_repeated_enrol_returns_the_player_it_made(backend: Backend) -> None:
    code = fresh_code()
    await backend.create_room(code, b"doc")
    first = await backend.enrol(code, 10, "digest-1", _anna(3), "aaaaaa")
    again = await backend.enrol(code, 10, "digest-1", _anna(3), "zzzzzz")
    assert (again.outcome, again.player, again.name) == (Enrolment.OK, first.player, "Anna")
    assert await backend.hlen(code, PLAYERS) == 1


async def test_enrol_refuses_a_full_room_and_a_missing_one(backend: Backend) -> None:
    code = fresh_code()
    await backend.create_room(code, b"doc")
    assert (await backend.enrol(code, 1, "d1", [("bo", "Bo")], "aaaaaa")).outcome is Enrolment.OK
    full = await backend.enrol(code, 1, "d2", [("cas", "Cas")], "bbbbbb")
    assert full.outcome is Enrolment.FULL
    assert await backend.hget(code, NAMES, "cas") is None
    assert (await backend.enrol(OTHER, 5, "d3", [("cas", "Cas")], "cccccc")).outcome is (
        Enrolment.GONE
    )
    assert await backend.hlen(OTHER, PLAYERS) == 0


async def test_concurrent_enrols_with_one_name_get_distinct_names(cluster: Cluster) -> None:
    workers = [await cluster.worker() for _ in range(3)]
    code = fresh_code()
    await workers[0].create_room(code, b"doc")
    results = await asyncio.gather(
        *(workers[i % 3].enrol(code, 100, f"digest-{i}", _anna(12), f"{i:06x}") for i in range(12))
    )
    assert all(r.outcome is Enrolment.OK for r in results)
    assert sorted(r.name for r in results) == sorted(name for _, name in _anna(12))
    assert len({r.player for r in results}) == 12
    assert sorted(r.seq for r in results) == list(range(1, 13))


async def test_enrol_with_an_arrival_marks_the_socket_records_the_device_and_announces(
    cluster: Cluster,
) -> None:
    joiner, watcher = await cluster.worker(), await cluster.worker()
    code = fresh_code()
    await joiner.create_room(code, b"doc")
    await watcher.subscribe(code)
    arrival = Arriving("conn-1", "device-digest", b"announce")
    enrolled = await joiner.enrol(code, 10, "digest-1", [("bo", "Bo")], "aaaaaa", arrival)
    assert enrolled.outcome is Enrolment.OK
    assert await watcher.online(code) == {enrolled.player}
    assert await watcher.hget(code, DEVICES, enrolled.player) == b"device-digest"
    assert await next_message(watcher) == (code, b"announce")
    # The socket closes: the player goes offline as with set_online.
    await joiner.set_online(code, enrolled.player, "conn-1", False)
    assert await watcher.online(code) == set()
    # A full room announces nothing and marks nobody.
    full = await joiner.enrol(code, 1, "digest-2", [("cas", "Cas")], "bbbbbb", arrival)
    assert full.outcome is Enrolment.FULL
    with pytest.raises(TimeoutError):
        await next_message(watcher, within=0.3)
    assert await watcher.online(code) == set()
