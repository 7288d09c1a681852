"""Shutdown always ends: background tasks are stopped even when a cancel is lost.

On Python 3.11 `asyncio.wait_for` (inside redis-py) drops a cancel that arrives as its inner call
finishes; a worker then hung in its lifespan shutdown until killed (seen in CI: "still running
20 s after SIGTERM"). server/hub/tasks.py cancels again until the task has ended."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid

import pytest

from server.hub.redis import RedisBackend
from server.hub.tasks import stop_tasks
from tests.support.redis_server import RedisServer


async def test_a_task_that_missed_its_cancel_is_stopped() -> None:
    missed = asyncio.Event()

    async def deaf_once() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            missed.set()  # what asyncio.wait_for does on 3.11 when the call just finished
        while True:
            await asyncio.sleep(0.01)

    task = asyncio.create_task(deaf_once())
    await asyncio.sleep(0)
    async with asyncio.timeout(10):
        await stop_tasks([task])
    assert missed.is_set() and task.cancelled()


async def test_a_task_that_never_ends_is_left_behind_and_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn(), name="stubborn-loop")
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="kenniskring.hub"):
        async with asyncio.timeout(10):
            await stop_tasks([task], patience=0.3)
    assert not task.done()
    assert "stubborn-loop" in caplog.text and "did not end" in caplog.text
    release.set()
    await task


@pytest.mark.redis
async def test_a_loop_busy_with_redis_always_stops(redis_server: RedisServer) -> None:
    """The deadline loop's shape (claim_due, then a short sleep) against a real Redis, stopped
    at 300 random moments: every one ends. A single cancel lost about one in four here."""
    backend = RedisBackend(redis_server.url, namespace=f"kks{uuid.uuid4().hex[:8]}")
    await backend.connect()
    rng = random.Random(7)
    try:
        for _ in range(300):

            async def poll() -> None:
                while True:
                    await backend.claim_due(time.time(), 5)
                    await asyncio.sleep(0)

            task = asyncio.create_task(poll())
            await asyncio.sleep(rng.random() * 0.003)
            async with asyncio.timeout(10):
                await stop_tasks([task])
            assert task.done()
    finally:
        await backend.disconnect()
