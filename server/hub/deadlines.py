"""Deadlines, and who an open round waits for.

The deadline loop claims the rooms whose deadline is due (`Backend.claim_due`: one worker
each, a dead worker's claim lapses) and lets the room's activity act on time (a question
closes); a reconnect grace that lapses early wakes the room too, and the round completes when
nobody else is waited for. `attendance` is that one rule (server/hub/attendance.py) at the
hub's clock, for the counter the views show and for the completion.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Set
from typing import TYPE_CHECKING, Any

from server.activities import base
from server.hub.attendance import LOST_GRACE_S, Attendance, attendance
from server.hub.envelope import facts_of
from server.hub.errors import HubError
from server.hub.room import LEFT, META, PLAYERS, PRESENT, Room, pack, unpack

if TYPE_CHECKING:
    from server.hub.fanout import Seen
    from server.hub.rooms import Hub

log = logging.getLogger("kenniskring.hub")

POLL_S = 0.05
LEASE_S = 5.0


class Deadlines:
    """The hub's clock-driven part (Hub starts `loop`; the fan-out asks `attendance`)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def tick(self, code: str) -> None:
        """The deadline of `code` is due (or a reconnect grace lapsed): let the activity act."""

        async def on_time(room: Room) -> Seen:
            if room.ended:
                raise HubError("session_ended")  # nothing closes or opens any more
            activity = room.activity
            if activity.due(room.state, self.hub.clock()):
                return await self.hub.apply(room, activity.deadline_action, {})
            # Early: a reconnect grace lapsed. Complete if nobody else is waited for any more.
            if activity.complete_action and activity.collecting(room.state):
                facts = await self.facts_now(room)
                content = await self.hub.content_of(room.code, room.current, room.created)
                if activity.complete(room.state, content, facts):
                    return await self.hub.apply(room, activity.complete_action, {})
            raise HubError("not_due")

        try:
            await self.hub.transition(code, on_time, people=True)
        except HubError as exc:
            # The tick re-arms itself from a fresh read, as of that read's version: a transition
            # saved meanwhile (the host opens the next question) keeps the deadline it set.
            loaded = await self.hub.load(code)
            if loaded is None:
                await self.hub.backend.schedule(code, 0)  # the room is gone
                return
            version, room = loaded
            deadline = room.activity.deadline(room.state)
            if exc.code == "not_due" and deadline and room.activity.collecting(room.state):
                await self.hub.backend.schedule(code, deadline, version=version)
                table = self.hub.table_of(room)
                await self.wake_at(code, deadline, (await self.attendance_now(code, table)).wake)
                await self.hub.changed(code)  # the counter changes as a grace lapses
            else:  # nothing to wait for, or the action failed: no tick again for this state
                await self.hub.backend.schedule(code, 0, version=version)

    async def loop(self) -> None:
        while True:
            started = self.hub.outage.clock()
            try:
                # While the backend is thought down, only a poll that asked it proves it back.
                down = self.hub.outage.down
                due = await self.hub.backend.claim_due(self.hub.clock(), LEASE_S, ask_all=down)
                for code in due:
                    await self.tick(code)
                self.hub.outage.recovered()
            except asyncio.CancelledError:
                raise
            except self.hub.backend.unavailable as exc:  # an outage: one line, not one per poll
                self.hub.outage.failed("deadlines", exc, started)
            except Exception:  # a bug must not end the loop either
                log.exception("deadline loop")
            await asyncio.sleep(POLL_S)

    async def present_at_open(self, code: str, table: str) -> frozenset[str]:
        """Players online when the open round's gate opened (meta.present, written before the
        round was saved, never changed while it is open: cached per input table)."""
        present = self.hub.decoded.present(code, table)
        if present is None:
            raw = await self.hub.backend.hget(code, META, PRESENT)
            present = self.hub.decoded.keep_present(code, table, raw)
        return present

    async def attendance(
        self,
        code: str,
        table: str,
        players: Mapping[str, str],
        online: Set[str],
        inputs: Mapping[str, Any],
        left_raw: Mapping[str, bytes],
    ) -> Attendance:
        """Who the open round waits for, at the hub's clock: the one rule behind both the
        counter and the completion when everybody took part (see attendance.py). Players
        present at the opening who vanished unnoticed (their worker died) are recorded, so their
        longer grace (LOST_GRACE_S) runs from the first time any worker saw them gone."""
        now = self.hub.clock()
        left = {player: float(unpack(raw)) for player, raw in left_raw.items()}
        present = await self.present_at_open(code, table)
        grace = self.hub.settings.reconnect_grace_s
        result = attendance(
            players, online, inputs.keys(), present, left, now, grace, max(grace, LOST_GRACE_S)
        )
        for player in result.unnoticed:
            await self.hub.backend.hsetnx(code, LEFT, player, pack(result.unnoticed_since))
        return result

    async def attendance_now(self, code: str, table: str) -> Attendance:
        """`attendance` of input table `table` from a fresh read of the room (a deadline tick)."""
        snap = await self.hub.backend.snapshot(code, (PLAYERS, LEFT, table))
        loaded = snap.room
        if loaded is None:
            raise HubError("room_not_found")
        room = self.hub.rooms.get(code, *loaded)
        inputs = self.hub.decoded.inputs(code, table, snap.tables[table], room)
        names = self.hub.decoded.names(code, snap.tables[PLAYERS])
        return await self.attendance(code, table, names, snap.online, inputs, snap.tables[LEFT])

    async def facts_now(self, room: Room) -> base.Facts:
        """The facts of a fresh read, for a tick's completion check."""
        table = self.hub.table_of(room)
        snap = await self.hub.backend.snapshot(room.code, (PLAYERS, LEFT, table))
        inputs = self.hub.decoded.inputs(room.code, table, snap.tables[table], room)
        names = self.hub.decoded.names(room.code, snap.tables[PLAYERS])
        result = await self.attendance(
            room.code, table, names, snap.online, inputs, snap.tables[LEFT]
        )
        return facts_of(room, names, snap.online, inputs, result.expected)

    async def wake_at(self, code: str, deadline: float, wake: float | None) -> None:
        """Ask for a tick when a grace lapses (before the round's own deadline). Never later
        than a tick already asked for: the render that computed `wake` may be late, and the
        room may have moved on to a question whose deadline comes sooner."""
        if wake is not None and (not deadline or wake < deadline):
            await self.hub.backend.schedule(code, wake, earlier=True)

    async def complete_when_all_done(self, code: str, table: str) -> None:
        """Everybody expected took part in the round of input table `table`: apply the
        activity's completion (a question closes). Only to that round: a render decided this
        from what it read, and by now the room may have moved on (another worker closed that
        question and the host opened the next one; after a Redis outage that is seconds)."""

        async def complete(room: Room) -> Seen:
            activity = room.activity
            # Only in the round decided about: in a later one nobody took part yet.
            if (
                room.ended
                or not activity.complete_action
                or not activity.collecting(room.state)
                or self.hub.table_of(room) != table
            ):
                raise HubError("not_allowed")
            return await self.hub.apply(room, activity.complete_action, {})

        with contextlib.suppress(HubError):
            await self.hub.transition(code, complete, people=True)
