"""bench/pair.py: two runs take turns block by block, and one that stops holds nobody up."""

from __future__ import annotations

import asyncio

import pytest

from bench.pair import Turns
from bench.servers import split_cpus


async def _side(turns: Turns, side: int, blocks: int, log: list[tuple[int, int]]) -> None:
    try:
        for block in range(blocks):
            async with turns.turn(side, block):
                log.append((side, block))
                await asyncio.sleep(0.001 * (2 - side))  # the first side is the slower one
                log.append((side, block))  # nobody else ran in between
    finally:
        await turns.finish(side)


async def test_two_runs_alternate_block_by_block() -> None:
    turns = Turns(2)
    log: list[tuple[int, int]] = []
    # The second side starts first: it must still wait for block 0 of the first.
    await asyncio.gather(_side(turns, 1, 3, log), _side(turns, 0, 3, log))
    entered = log[::2]
    assert log[1::2] == entered
    assert entered == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]


async def test_a_finished_or_failed_run_does_not_hold_up_the_other() -> None:
    turns = Turns(2)
    log: list[tuple[int, int]] = []

    async def fails() -> None:
        try:
            async with turns.turn(0, 0):
                raise RuntimeError("server died")
        finally:
            await turns.finish(0)

    results = await asyncio.wait_for(
        asyncio.gather(fails(), _side(turns, 1, 3, log), return_exceptions=True), 5
    )
    assert isinstance(results[0], RuntimeError)
    assert log[::2] == [(1, 0), (1, 1), (1, 2)]


async def test_one_run_alone_never_waits() -> None:
    log: list[tuple[int, int]] = []
    await asyncio.wait_for(_side(Turns(), 0, 4, log), 5)
    assert log[::2] == [(0, b) for b in range(4)]


def test_pin_gives_the_servers_the_last_cpus_and_the_generator_the_rest() -> None:
    assert split_cpus({0, 1}, 1) == ({1}, {0})
    assert split_cpus({0, 2, 5, 7}, 2) == ({5, 7}, {0, 2})
    for allowed, server in (({0}, 1), ({0, 1}, 2), ({0, 1, 2}, 0)):
        with pytest.raises(ValueError, match="--pin needs more CPUs"):
            split_cpus(allowed, server)
