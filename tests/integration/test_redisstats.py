"""bench/redisstats.py against a real redis-server: what a phase cost Redis is read from
`INFO commandstats cpu`, the process's CPU beside the commands' time (docs/SCALING.md)."""

from __future__ import annotations

import redis

from bench import redisstats
from tests.support.redis_server import RedisServer

LOOPS = 200_000  # HSETs inside one script: tens of ms of Redis CPU on any machine


def test_a_reading_holds_the_process_cpu_and_each_command() -> None:
    with RedisServer() as server:
        client = redis.Redis.from_url(server.url)
        before = redisstats.read_all([server.url])
        client.eval(
            "for i = 1, tonumber(ARGV[1]) do redis.call('HSET', KEYS[1], i, 'x') end return 1",
            1,
            "h",
            LOOPS,
        )
        spent = redisstats.read_all([server.url]).minus(before)
        client.close()

    assert spent.commands["eval"][0] == 1
    assert spent.commands["hset"][0] == LOOPS
    assert spent.cpu_s >= 0.02, spent.cpu_s  # the script ran on Redis's CPU

    phase = redisstats.summary(spent.commands, 4, spent.cpu_s)
    assert phase["redis_cpu_us_per_op"] == round(spent.cpu_s * 1e6 / 4, 1)
    # The script's time holds its HSETs' time, and Redis counts those again by name: the
    # commands' sum is more than the script took.
    eval_usec, hset_usec = spent.commands["eval"][1], spent.commands["hset"][1]
    assert phase["redis_usec_per_op"] * 4 >= eval_usec + hset_usec - 4
    assert hset_usec > 0 and eval_usec > hset_usec


def test_cluster_masters_are_summed_and_a_missing_node_reads_as_nothing() -> None:
    with RedisServer() as one, RedisServer() as two:
        redis.Redis.from_url(one.url).set("a", "1")
        readings = [redisstats.read(one.url), redisstats.read(two.url)]
        total = redisstats.read_all([one.url, two.url])
        gone = two.url
    assert readings[1].cpu_s > 0  # a started redis-server has spent some CPU already
    assert total.cpu_s >= readings[0].cpu_s + readings[1].cpu_s  # both, read again later
    assert total.commands["set"][0] == 1
    assert redisstats.read(gone) == redisstats.EMPTY  # stopped: no numbers, no exception
