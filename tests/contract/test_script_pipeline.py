"""The scripts of one event-loop turn go to one Redis as one pipeline (server/hub/redis_pipelining.py),
on a real redis-server: each caller still gets its own reply, its own error, and a script Redis
lost (a restart, SCRIPT FLUSH) is loaded again."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from server.hub.backend import Enrolment
from server.hub.redis import RedisBackend
from server.hub.redis_pipelining import MAX_PER_PIPELINE, ScriptPipeline
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.redis

ECHO = "return {KEYS[1], ARGV[1]}"
FAIL_ON_X = "if ARGV[1] == 'x' then return redis.error_reply('no x here') end return ARGV[1]"


async def test_the_calls_of_one_turn_are_one_pipeline_and_each_gets_its_own_reply(
    admin: Redis,
) -> None:
    pipeline = ScriptPipeline(admin)
    echo = admin.register_script(ECHO)
    await echo(keys=["k"], args=["warm"])  # loaded once, as the backend's scripts are in use
    replies = await asyncio.gather(
        *(pipeline.run(echo, [f"room{i}"], [i]) for i in range(MAX_PER_PIPELINE + 4))
    )
    assert replies == [[f"room{i}".encode(), str(i).encode()] for i in range(MAX_PER_PIPELINE + 4)]
    # The first call went at once; of the 259 after it, 256 in one pipeline, 3 in another.
    assert pipeline.pipelines == 2
    # Calls of later turns are later pipelines; a call alone (or second) in its turn is made
    # as it is.
    pair = await asyncio.gather(pipeline.run(echo, ["a"], [1]), pipeline.run(echo, ["b"], [2]))
    assert pair == [[b"a", b"1"], [b"b", b"2"]]
    assert await pipeline.run(echo, ["c"], [3]) == [b"c", b"3"]
    assert pipeline.pipelines == 2
    three = await asyncio.gather(*(pipeline.run(echo, ["d"], [i]) for i in range(3)))
    assert three == [[b"d", str(i).encode()] for i in range(3)]
    assert pipeline.pipelines == 3
    await pipeline.stop()


async def test_an_error_of_one_call_is_only_its_callers(admin: Redis) -> None:
    pipeline = ScriptPipeline(admin)
    script = admin.register_script(FAIL_ON_X)
    await script(keys=["k"], args=["warm"])
    results = await asyncio.gather(
        pipeline.run(script, ["k"], ["a"]),
        pipeline.run(script, ["k"], ["x"]),
        pipeline.run(script, ["k"], ["b"]),
        return_exceptions=True,
    )
    assert results[0] == b"a" and results[2] == b"b"
    assert isinstance(results[1], ResponseError) and "no x here" in str(results[1])
    assert pipeline.pipelines == 1
    await pipeline.stop()


async def test_a_script_redis_lost_is_loaded_again(admin: Redis) -> None:
    pipeline = ScriptPipeline(admin)
    echo = admin.register_script(ECHO)
    await echo(keys=["k"], args=["warm"])
    other = admin.register_script("return 'first'")
    for calls in (3, 1, 0):  # after the turn's first call: in a pipeline, alone; or first itself
        await admin.script_flush()  # as after a restart of Redis
        await other(keys=[], args=[])  # loaded again (by the script object)
        first = pipeline.run(other, [], []) if calls else pipeline.run(echo, ["r"], [0])
        replies = await asyncio.gather(
            first, *(pipeline.run(echo, ["r"], [i]) for i in range(calls))
        )
        expected = [[b"r", str(i).encode()] for i in range(calls)]
        assert replies == ([b"first", *expected] if calls else [[b"r", b"0"]])
        assert (await admin.script_exists(echo.sha)) == [True]
    assert pipeline.pipelines == 1
    await pipeline.stop()


async def test_a_dead_connection_fails_every_call_of_its_pipeline() -> None:
    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    pipeline = ScriptPipeline(dead)
    echo = dead.register_script(ECHO)
    results = await asyncio.gather(
        *(pipeline.run(echo, ["k"], [i]) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RedisConnectionError) for r in results), results
    assert pipeline.pipelines == 1  # the second and third went as one
    await pipeline.stop()
    await dead.aclose()


async def test_the_backend_sends_many_rooms_enrolments_of_one_turn_together(
    redis_server: RedisServer,
) -> None:
    backend = RedisBackend(redis_server.url, namespace=f"kkp{uuid.uuid4().hex[:8]}")
    await backend.connect()
    try:
        codes = [f"{100000 + i}" for i in range(40)]
        for code in codes:
            assert await backend.create_room(code, b"doc")
        assert backend._pipeline is not None
        before = backend._pipeline.pipelines
        enrolled = await asyncio.gather(
            *(backend.enrol(code, 10, f"digest{code}", [("anna", "Anna")], "t") for code in codes)
        )
        assert [e.outcome for e in enrolled] == [Enrolment.OK] * 40
        assert {e.name for e in enrolled} == {"Anna"}
        assert backend._pipeline.pipelines - before == 1
    finally:
        await backend.disconnect()
