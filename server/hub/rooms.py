"""The hub: rooms, players, the programme of werkvormen, inputs and commands.

It knows rooms, not games. Everything a werkvorm decides (what a command does, whether an input
is valid, when a round is complete, what each role sees) it asks the room's activity through the
interface in server/activities/base.py; it never imports a werkvorm.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import itertools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence, Set
from typing import Any, NamedTuple

from server.activities import base
from server.hub import codes
from server.hub.backend import (
    Backend,
    Put,
    PutResult,
    Write,
    change_message,
)
from server.hub.batch import Batcher
from server.hub.bokaal import BokaalBook
from server.hub.clients import CLOSE_KICKED, Client, Outbox
from server.hub.deadlines import Deadlines
from server.hub.decoded import Decoded
from server.hub.entrance import Entrance
from server.hub.errors import HubError
from server.hub.fanout import Fanout, Seen
from server.hub.names import name_key
from server.hub.outage import Outage
from server.hub.room import (
    DEVICES,
    META,
    NAMES,
    PLAYERS,
    PRESENT,
    Item,
    Room,
    content_key,
    input_table,
    pack,
    unpack,
)
from server.hub.room_cache import RoomCache
from server.hub.settings import HubSettings
from server.hub.single_flight import SingleFlight
from server.hub.tasks import stop_tasks

__all__ = ["Hub", "HubError", "HubSettings"]

log = logging.getLogger("kenniskring.hub")

TRANSITION_RETRIES = 50
ROOM_ACTIONS = ("lock", "unlock", "kick", "unkick", "begin", "remove_offline", "end_session")
PROGRAMME_MAX = 20


# A transition's step changes a copy of the room; it may return what it read of the room's
# people, so that the new views can be shown before the renders read the room (Fanout.show_saved).
Step = Callable[[Room], Awaitable[Seen | None]]


class People(NamedTuple):
    """The players and who is online, read with the document by a transition that asked for
    them (one round trip instead of three), for the step it runs."""

    code: str
    names: Mapping[str, str]
    online: Set[str]


# Per task: what the running transition read along with the document (see Hub.transition).
_PEOPLE: contextvars.ContextVar[People | None] = contextvars.ContextVar("people", default=None)


@dataclasses.dataclass
class SaveWith:
    """What the running transition's step asks to store with the document, in the save's own
    round trip: the gate that opens inputs and who is present then (META), so that a step that
    opens inputs writes nothing before its save; and the input table to read alongside."""

    version: int  # the document version the save makes (a preview of the step shows it)
    writes: list[Write] = dataclasses.field(default_factory=list)
    gate: bytes | None = None  # the gate record among `writes`, remembered once saved
    table: str = ""  # the opened round's input table, read along with the save


# Per task: the running transition's SaveWith (see Hub.transition, Hub._effects).
_SAVE_WITH: contextvars.ContextVar[SaveWith | None] = contextvars.ContextVar(
    "save_with", default=None
)


class Gate(NamedTuple):
    """The gate inputs are checked against (`meta.open`): which programme item and werkvorm
    it belongs to, and the activity's own part; `ended`: the session ended (Hub.end_session)."""

    item: int
    kind: str
    gate: Mapping[str, Any]
    ended: bool = False


@functools.lru_cache(maxsize=1024)
def _gate(raw: bytes) -> Gate:
    """The gate in `raw` (decoded once per distinct gate: 2,000 inputs check the same one;
    callers only read it)."""
    d = unpack(raw)
    return Gate(int(d["item"]), str(d["kind"]), d["gate"], bool(d.get("ended", False)))


def not_ended(room: Room) -> None:
    """A step that changes a session: refused once the facilitator ended it."""
    if room.ended:
        raise HubError("session_ended")


class Hub:
    """Nothing here knows which backend runs; everything shared goes through `Backend`."""

    def __init__(
        self,
        backend: Backend,
        bokaal: BokaalBook,
        settings: HubSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.clock = clock  # the server's clock (seconds since the epoch); tests drive it
        self.bokaal = bokaal
        self.settings = settings
        self.fanout = Fanout(self, settings)
        self.outage = Outage(backend.name)
        self.rooms = RoomCache()  # decoded documents, shared and read-only
        self.outbox = Outbox()  # one flush per event-loop turn for all of this worker's sockets
        self.decoded = Decoded()  # content, names, inputs and the gate, decoded once
        self._gate_reads: SingleFlight[bytes | None] = SingleFlight()  # one per room at a time
        self._tasks: list[asyncio.Task[None]] = []
        # Hellos and leaves; a reconnect storm's resumes of one room are one read, and their
        # arrivals (presence, device, `left` cleared, the room touched) one write.
        self.entrance = Entrance(self)
        self.deadlines = Deadlines(self)  # the deadline loop; who an open round waits for
        # Inputs: the records of one room that arrive together go through its gate in one call.
        self.puts: Batcher[tuple[bytes, Put], PutResult] = Batcher(
            self._write_puts, together=backend.batches
        )

    # ---- lifetime -----------------------------------------------------------------------------
    async def __aenter__(self) -> Hub:
        await self.backend.connect()
        self._tasks = [
            asyncio.create_task(self.deadlines.loop(), name="deadlines"),
            *self.fanout.start(),
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await stop_tasks(self._tasks)
        await self.fanout.stop()
        await self.backend.disconnect()

    # ---- rooms ----------------------------------------------------------------------------------
    async def create_room(
        self,
        programme: Sequence[tuple[str, Mapping[str, Any]]],
        team: str,
        lang: str,
        join_base: str,
    ) -> tuple[str, str]:
        """A room with a programme of (kind, content); its first item runs at once."""
        if not 1 <= len(programme) <= PROGRAMME_MAX:
            raise HubError("not_allowed")
        activities = [base.get(kind) for kind, _ in programme]
        secret = codes.host_secret()
        for _ in range(50):
            code = codes.room_code()
            first, content = activities[0], programme[0][1]
            room = Room(
                code=code,
                secret=codes.digest(secret),
                join_url=f"{join_base.rstrip('/')}/join/{code}",
                team=team.strip()[:60],
                lang=lang if lang in ("nl", "en") else "nl",
                max_players=self.settings.max_players,
                created=self.clock(),
                programme=[
                    Item(kind, a.title(c))
                    for a, (kind, c) in zip(activities, programme, strict=True)
                ],
                state=first.new_state(content),
            )
            if await self.backend.create_room(code, room.encode()):
                for item, (_, item_content) in enumerate(programme):
                    await self._store_content(code, room.created, item, item_content)
                await self.backend.touch(code)
                await self.transition(code, self._begin_current, people=True)
                return code, secret
        raise HubError("busy")

    async def _store_content(
        self, code: str, created: float, item: int, content: Mapping[str, Any]
    ) -> None:
        stored = {"created": created, "content": dict(content)}
        await self.backend.hset(code, META, content_key(item), pack(stored))
        self.decoded.forget_content(code)

    async def add_item(self, code: str, kind: str, content: Mapping[str, Any]) -> int:
        """Append a werkvorm to the room's programme (it runs when the host begins it)."""
        activity = base.get(kind)
        loaded = await self.load(code)
        if loaded is None:
            raise HubError("room_not_found")
        created = loaded[1].created
        added: list[int] = []

        async def append(room: Room) -> None:
            not_ended(room)
            if len(room.programme) >= PROGRAMME_MAX:
                raise HubError("not_allowed")
            room.programme.append(Item(kind, activity.title(content)))
            added.append(len(room.programme) - 1)
            await self._store_content(code, created, added[-1], content)

        await self.transition(code, append)
        return added[-1]

    async def load(self, code: str) -> tuple[int, Room] | None:
        """The room and its version. The room is shared (cached): read it, do not change it."""
        loaded = await self.backend.load_room(code)
        if loaded is None:
            return None
        version, doc = loaded
        return version, self.rooms.get(code, version, doc)

    async def content_of(self, code: str, item: int, created: float | None = None) -> Any:
        """Programme item `item`'s content, cached per worker; `created` (from the room
        document) guards against the content of an expired room whose code was handed out
        again."""
        cached = self.decoded.content(code, item, created)
        if cached is not None:
            return cached
        raw = await self.backend.hget(code, META, content_key(item))
        if raw is None:
            raise HubError("room_not_found")
        stored = unpack(raw)
        self.decoded.keep_content(code, item, stored["created"], stored["content"])
        return stored["content"]

    async def names(self, code: str) -> Mapping[str, str]:
        """Player id → name in join order. The mapping is shared: read it, do not change it."""
        return self.decoded.names(code, await self.backend.hgetall(code, PLAYERS))

    def table_of(self, room: Room) -> str:
        """The input table the running item's views read now ("" = none)."""
        own = room.activity.input_table(room.state)
        return input_table(room.current, own) if own else ""

    async def changed(self, code: str, urgent: bool = False, table: str | None = None) -> None:
        """Tell every worker that the room changed (bumps the view version); `urgent` for phase
        transitions, which renderers show at once instead of after the coalescing pause;
        `table`: the input table the room's views read from now on (see Fanout.render)."""
        await self.backend.changed(code, urgent, table)

    async def announce(self, code: str, seq: int) -> None:
        """Tell every worker that the room is at change counter `seq` (already bumped)."""
        await self.backend.publish(code, change_message(seq))

    # ---- joining and leaving (server/hub/entrance.py) ------------------------------------------
    async def hello(self, client: Client, msg: Mapping[str, Any]) -> dict[str, Any]:
        """Admit a client in its role; returns the `welcome` frame."""
        return await self.entrance.hello(client, msg)

    async def leave(self, client: Client) -> None:
        await self.entrance.leave(client)

    async def remove_offline(self, code: str) -> list[str]:
        """Remove every player of room `code` who is not connected now (see Entrance)."""
        return await self.entrance.remove_offline(code)

    # ---- inputs ---------------------------------------------------------------------------------
    async def _write_puts(self, code: str, puts: Sequence[tuple[bytes, Put]]) -> list[PutResult]:
        """One call through the gate for the inputs of room `code` that arrived together (per
        gate, in order: a batch that spans a close has two)."""
        results: list[PutResult] = []
        for gate, group in itertools.groupby(puts, key=lambda item: item[0]):
            results += await self.backend.put_many_if_open(code, gate, [put for _, put in group])
        return results

    async def input(self, client: Client, msg: Mapping[str, Any]) -> dict[str, Any]:
        """Store one input of a phone for the programme item it shows (`item`); returns the
        `ack` frame or raises HubError. Only the gate is read, not the room: 2,000 inputs at
        once never contend on the room document."""
        if client.role != "phone":
            raise HubError("not_allowed")
        item, data = msg.get("item"), msg.get("data")
        if isinstance(item, bool) or not isinstance(item, int) or not isinstance(data, dict):
            raise HubError("bad_frame")
        code, player = client.code, client.player
        now = self.clock()
        # This worker's copy of the gate may be old (another worker opened or closed a round):
        # on an error that only means that, nothing was stored, so ask the backend and try
        # once more. The answers that arrive while the gate is being read share that read; one
        # that joined a read begun before it arrived may get the gate it replaced, so it reads
        # once more on its own.
        cached = self.decoded.gate(code)
        if cached is not None:
            stored = await self._store_if_current(code, player, item, data, cached, now)
            if stored is not None:
                return stored
        joined = self._gate_reads.flying(code)
        gate = await self._gate_reads.ask(code, lambda: self._read_gate(code))
        if joined:
            stored = await self._store_if_current(code, player, item, data, gate, now)
            if stored is not None:
                return stored
            gate = await self._read_gate(code)
        return await self._store_input(code, player, item, data, gate, now)

    async def _store_if_current(
        self,
        code: str,
        player: str,
        item: int,
        data: Mapping[str, Any],
        gate: bytes | None,
        now: float,
    ) -> dict[str, Any] | None:
        """`_store_input`, or None (nothing stored) when its refusal may only mean that `gate`
        is an old copy."""
        try:
            return await self._store_input(code, player, item, data, gate, now)
        except HubError as exc:
            if gate is None or exc.code in self._gate_errors(gate):
                return None
            raise

    async def _read_gate(self, code: str) -> bytes | None:
        gate = await self.backend.hget(code, META, "open")
        self.decoded.keep_gate(code, gate)
        return gate

    @staticmethod
    def _gate_errors(raw: bytes) -> frozenset[str]:
        """The codes that may only mean an old copy of gate `raw` (see Activity.gate_errors)."""
        if _gate(raw).ended:
            return frozenset()  # final: no newer gate to read
        try:
            return base.get(_gate(raw).kind).gate_errors
        except base.ActivityError:
            return base.Activity.gate_errors

    async def _store_input(
        self,
        code: str,
        player: str,
        item: int,
        data: Mapping[str, Any],
        raw_gate: bytes | None,
        now: float,
    ) -> dict[str, Any]:
        if raw_gate is None:
            raise HubError("not_open")  # no round is open
        gate = _gate(raw_gate)
        if gate.ended:
            raise HubError("session_ended")  # the facilitator ended the session
        if gate.item != item:
            raise HubError("not_open")  # the phone shows another werkvorm than the one open
        activity = base.get(gate.kind)
        content = await self.content_of(code, item)
        try:
            record = activity.accept(gate.gate, content, player, data, now)
        except base.ActivityError as exc:
            raise HubError(exc.code) from exc
        table = input_table(item, record.table)
        # The nonce makes this call's record unique: a repeat of the same call (a retry by the
        # Redis client) is recognised as already stored, a second tap is a duplicate.
        stored = pack({**record.value, "n": secrets.token_hex(4)})
        result = await self.puts.submit(
            code, (raw_gate, Put(table, player, stored, record.overwrite))
        )
        if result is PutResult.DUPLICATE:
            raise HubError(record.duplicate_error)
        if result is PutResult.CLOSED:
            raise HubError(activity.closed_error(gate.gate, data))
        self.fanout.answered(code)
        return {"type": "ack", "item": item, **record.reply}

    # ---- host commands --------------------------------------------------------------------------
    async def control(self, client: Client, msg: Mapping[str, Any]) -> None:
        if client.role != "host":
            raise HubError("not_host")
        action = msg.get("action")
        code = client.code
        if not isinstance(action, str) or not action:
            raise HubError("bad_frame")
        if action == "kick":
            await self.kick(code, msg.get("player"))
        elif action == "unkick":
            await self.unkick(code, msg.get("player"))
        elif action in ("lock", "unlock"):
            await self.transition(code, self._lock if action == "lock" else self._unlock)
        elif action == "begin":
            await self.begin(code, msg.get("item"))
        elif action == "remove_offline":
            removed = await self.remove_offline(code)
        elif action == "end_session":
            await self.end_session(code)
        else:
            args = {k: v for k, v in msg.items() if k not in ("type", "action")}
            await self.command(code, action, args)
        # The change is stored; its view follows (at a higher `v`).
        done: dict[str, Any] = {"type": "done", "action": action}
        if action in ("kick", "unkick"):
            done["player"] = msg.get("player")
        if action == "remove_offline":
            done["removed"] = len(removed)
        client.send(pack(done))

    async def command(self, code: str, action: str, args: Mapping[str, Any]) -> Room:
        """Apply a werkvorm's command to the running programme item."""

        async def step(room: Room) -> Seen:
            not_ended(room)
            activity = room.activity
            if action not in activity.actions(room.state, await self._content(room)):
                # A command of this werkvorm at the wrong moment, or no command at all.
                raise HubError("not_allowed" if action in activity.commands else "bad_frame")
            return await self.apply(room, action, args)

        return await self.transition(code, step, people=True)

    async def _content(self, room: Room) -> Any:
        return await self.content_of(room.code, room.current, room.created)

    async def apply(self, room: Room, action: str, args: Mapping[str, Any]) -> Seen:
        """Run `action` of the room's activity on `room` (a copy a transition will save);
        returns what it read of the room's people."""
        activity, content = room.activity, await self._content(room)
        seen = await self._seen_now(room.code)
        names = seen.names
        if seen.online is None and activity.needs_inputs(room.state, action):
            seen.online = await self.backend.online(room.code)  # a close counts who is here
        cache = self.fanout.cache_of(room.code, room.current)
        ctx = base.Context(
            now=self.clock(),
            players=list(names),
            names=names,
            online=seen.online if seen.online is not None else frozenset(),
            args=args,
            cache=cache,
            team=room.team,
        )
        reopen: bytes | None = None
        if activity.needs_inputs(room.state, action):
            # Stop taking inputs, then read them: nothing accepted can be missed (one step).
            closed = self._gate_record(room, activity.closed_gate(room.state))
            table = self.table_of(room)
            reopen, raw = await self.backend.replace_and_read(
                room.code, META, "open", closed, table
            )
            self.decoded.keep_gate(room.code, closed)
            ctx.inputs = self.decoded.inputs(room.code, table, raw, room) if table else {}
            seen.table, seen.inputs = table, ctx.inputs
            preview = activity.preview(room.state)
            if preview is not None:
                # The gate is closed: the inputs are final, so a big room sees the outcome now,
                # before the activity's own work (scoring 2,000 players) and the save.
                saving = _SAVE_WITH.get()
                seen.previewed = await self.fanout.preview(
                    room, preview, ctx.inputs, names, seen.online, saving.version if saving else 0
                )
        try:
            effects = activity.command(room.state, content, action, ctx)
        except base.ActivityError as exc:
            if reopen is not None:  # refused: the gate closed for it opens as it was
                await self.backend.hset(room.code, META, "open", reopen)
                self.decoded.keep_gate(room.code, reopen)
            raise HubError(exc.code) from exc
        await self._effects(room, effects, seen)
        return seen

    async def _seen_now(self, code: str) -> Seen:
        """The players and who is online as the running transition read them with the
        document; else the players, read now."""
        people = _PEOPLE.get()
        if people is not None and people.code == code:
            return Seen(people.names, people.online)
        return Seen(await self.names(code))

    async def _effects(self, room: Room, effects: base.Effects, seen: Seen) -> None:
        """Carry out what an activity's step asked for (within a transition). Inputs that open:
        the gate and who is online then are saved with the document, and the round's input
        table is read alongside the save (Hub._save; all of it into `seen`, for
        Fanout.show_saved)."""
        if effects.gate is not None and effects.opens:
            saving = _SAVE_WITH.get()
            if saving is None:
                raise RuntimeError("inputs open only in a transition's step")
            # The gate opens with the save, in its script: inputs that arrive once phones see
            # the new state find it open, and a save that loses its race opens nothing. Who is
            # here as inputs open is expected to take part (see attendance).
            if seen.online is None:
                seen.online = await self.backend.online(room.code)
            saving.gate = self._gate_record(room, effects.gate)
            saving.writes += [
                (META, "open", saving.gate),
                (META, PRESENT, pack(list(seen.online))),  # a set: order irrelevant
            ]
            saving.table = self.table_of(room)
        elif effects.gate is not None:
            await self._write_gate(room, effects.gate)  # closed before the save
        if effects.archive is not None and room.team:
            room.item.archived = await self._archive(
                room, effects.collection, effects.archive, effects.replace
            )

    def _gate_record(self, room: Room, gate: Mapping[str, Any]) -> bytes:
        return pack({"item": room.current, "kind": room.kind, "gate": dict(gate)})

    async def _write_gate(self, room: Room, gate: Mapping[str, Any]) -> None:
        raw = self._gate_record(room, gate)
        await self.backend.hset(room.code, META, "open", raw)
        self.decoded.keep_gate(room.code, raw)

    async def _archive(
        self, room: Room, collection: str, record: Mapping[str, Any], replace: bool = False
    ) -> dict[str, Any]:
        """Keep an activity's record for the room's team; what the views may show of it."""
        round_no = int(record.get("round", 0))
        if collection == "bokaal":
            winner = str(record.get("winner", "?"))
            previous = await self.bokaal.holder(room.team, room.code, round_no)
            await self.bokaal.record(
                team=room.team,
                winner=winner,
                previous=previous,
                title=str(record.get("title", "")),
                theme=str(record.get("theme", "")),
                author=str(record.get("author", "")),
                room=room.code,
                round_no=round_no,
            )
            return {"team": room.team, "winner": winner, "previous": previous, "round": round_no}
        await self.bokaal.keep(
            collection,
            room.team,
            room.code,
            room.current,
            dict(record),
            replace=replace,
            carry=room.activity.carry_history,
        )
        return {"team": room.team, "collection": collection}

    async def transition(self, code: str, step: Step, people: bool = False) -> Room:
        """Apply `step` to a fresh copy of the room and save it with compare-and-set. `people`:
        read the players and who is online with the document (one round trip), for a step
        that needs them (a werkvorm's command)."""
        for _ in range(TRANSITION_RETRIES):
            if people:
                snap = await self.backend.snapshot(code, (PLAYERS,))
                loaded = None
                if snap.room is not None:
                    loaded = (snap.room[0], self.rooms.get(code, *snap.room))
                    names = self.decoded.names(code, snap.tables[PLAYERS])
                    _PEOPLE.set(People(code, names, snap.online))
            else:
                loaded = await self.load(code)
            if loaded is None:
                raise HubError("room_not_found")
            version, shared = loaded
            room = shared.copy()
            saving = SaveWith(version + 1)
            _SAVE_WITH.set(saving)
            try:
                seen = await step(room)
            finally:
                _PEOPLE.set(None)
                _SAVE_WITH.set(None)
            doc = room.encode()
            if await self._save(room, version, doc, saving, seen):
                self.rooms.put(code, version + 1, doc, room)  # from here on read-only
                await self._after(code, room, seen, version + 1)
                return room
        raise HubError("busy")

    async def _save(
        self, room: Room, version: int, doc: bytes, saving: SaveWith, seen: Seen | None
    ) -> bool:
        """Save the document with what the step asked to store along (one round trip); the
        table of inputs it opened is read meanwhile, for the views that go out first. A step
        that opens a round with what it read of the people: the new views are made first and
        the save publishes them to the other workers, when that round has no inputs yet (see
        Backend.save_and_publish), a round trip before the save's reply could."""
        code = room.code
        if saving.table and seen is not None and seen.online is not None and not seen.previewed:
            save = self._save_and_publish(room, version, doc, saving, seen)
        else:
            save = self.backend.save_room(code, version, doc, saving.writes)
        if saving.table and seen is not None:
            saved, raw = await asyncio.gather(save, self.backend.hgetall(code, saving.table))
            if saved:
                seen.table = saving.table
                seen.inputs = self.decoded.inputs(code, saving.table, raw, room)
        else:
            saved = await save
        if saved and saving.gate is not None:
            self.decoded.keep_gate(code, saving.gate)
        return saved

    async def _save_and_publish(
        self, room: Room, version: int, doc: bytes, saving: SaveWith, seen: Seen
    ) -> bool:
        assert seen.online is not None
        preview = await self.fanout.preview_of(
            room, room.state, seen.names, seen.online, {}, saving.version
        )
        saved, published = await self.backend.save_and_publish(
            room.code, version, doc, saving.writes, saving.table, preview.message
        )
        if published:
            seen.published = preview
        return saved

    async def _after(self, code: str, room: Room, seen: Seen | None, version: int) -> None:
        """After a saved transition (the save kept the room and its tables alive). With what
        the step read of the room's people (`seen`), the new shared views go out first, while
        the deadline is set; they only save time, so a failure there is logged and the renders
        show the change as before."""
        deadline = 0.0 if room.ended else room.activity.deadline(room.state)
        schedule = self.backend.schedule(code, deadline, version=version)
        if seen is not None and not seen.previewed:  # (a big room's close showed them already)
            await asyncio.gather(self._show_saved(room, seen, version), schedule)
        else:
            await schedule
        await self.changed(code, urgent=True, table=self.table_of(room))

    async def _show_saved(self, room: Room, seen: Seen, version: int) -> None:
        try:
            await self.fanout.show_saved(room, seen, version)
        except Exception:  # the render after the change message shows the views all the same
            log.exception("room %s: showing the new views before the renders failed", room.code)

    async def _lock(self, room: Room) -> None:
        not_ended(room)
        room.locked = True

    async def _unlock(self, room: Room) -> None:
        not_ended(room)
        room.locked = False

    async def end_session(self, code: str) -> None:
        """The facilitator ends the session: from now on every input, new player and command
        is refused (`session_ended`) and every view says so (`room.ended`); the room keeps its
        data, so the results stay downloadable until it expires. A round still taking inputs
        is completed first, as when everybody took part (the activity's `complete_action`: a
        quiz's open question is closed and scored), so nothing given is lost. Ending it again
        changes nothing."""

        async def end(room: Room) -> Seen | None:
            if room.ended:
                return None
            room.ended = True  # the views the completion makes already say so
            seen = None
            activity = room.activity
            if activity.complete_action and activity.collecting(room.state):
                seen = await self.apply(room, activity.complete_action, {})
            # Inputs stop with the save, in its script: the gate says why (Hub._store_input),
            # and no deadline or completion opens or closes anything after this (Deadlines,
            # Hub._after). A save that loses every race (`busy`) leaves the gate as it was, so
            # a session is never half ended: refusing as ended what does not say it ended.
            saving = _SAVE_WITH.get()
            if saving is None:
                raise RuntimeError("a session ends only in a transition's step")
            saving.gate = pack(
                {
                    "item": room.current,
                    "kind": room.kind,
                    "gate": dict(base.CLOSE_GATE),
                    "ended": True,
                }
            )
            saving.writes.append((META, "open", saving.gate))
            room.item.state = room.activity.encode(room.state)
            room.item.finished = room.activity.finished(room.state)
            return seen

        await self.transition(code, end, people=True)

    async def begin(self, code: str, item: object) -> None:
        """Run programme item `item` (the host's choice): the running one is kept as it is (its
        results stay exportable), phones follow without joining again."""
        if isinstance(item, bool) or not isinstance(item, int):
            raise HubError("bad_frame")

        async def switch(room: Room) -> Seen:
            not_ended(room)
            if not 0 <= item < len(room.programme) or item == room.current:
                raise HubError("not_allowed")
            room.item.state = room.activity.encode(room.state)
            room.item.finished = room.activity.finished(room.state)
            room.current = item
            stored = room.item.state
            room.state = (
                room.activity.decode(stored)
                if stored is not None
                else room.activity.new_state(await self._content(room))
            )
            await self._write_gate(room, base.CLOSE_GATE)  # nothing of the item before counts
            return await self._begin_current(room)

        await self.transition(code, switch, people=True)

    async def _begin_current(self, room: Room) -> Seen:
        activity = room.activity
        seen = await self._seen_now(room.code)
        names = seen.names
        ctx = base.Context(now=self.clock(), players=list(names), names=names, team=room.team)
        for player in names:
            activity.add_player(room.state, player)
        effects = activity.begin(room.state, await self._content(room), ctx)
        await self._effects(room, effects, seen)
        return seen

    async def kick(self, code: str, player: object) -> None:
        if not isinstance(player, str):
            raise HubError("bad_frame")
        name = await self.backend.hget(code, PLAYERS, player)
        if name is None:
            raise HubError("not_allowed")

        device = (await self.backend.hget(code, DEVICES, player) or b"").decode()

        async def remove(room: Room) -> None:
            not_ended(room)
            if player not in room.kicked:
                room.kicked.append(player)
            room.removed[player] = {"name": name.decode(), "device": device}
            room.remove_players([player])

        await self.transition(code, remove)
        await self.backend.hdel(code, PLAYERS, player)
        await self.backend.hdel(code, NAMES, name_key(name.decode()))
        await self.backend.publish(code, pack({"kick": player}))
        await self.changed(code)

    async def unkick(self, code: str, player: object) -> None:
        """Let a removed player's phone back in: it joins again with a name, as a new player
        (the old token stays refused: its score was removed with it)."""
        if not isinstance(player, str):
            raise HubError("bad_frame")

        async def allow(room: Room) -> None:
            not_ended(room)
            if player not in room.removed:
                raise HubError("not_allowed")
            del room.removed[player]

        await self.transition(code, allow)

    async def upload(self, code: str, item: int, raw: bytes, media: str) -> dict[str, Any]:
        """A host's file for the running programme item `item`: the activity reads it
        (`parse_upload`) and applies it as its `upload_action`, like a host command.
        HubError("not_found") when the werkvorm takes no files, "not_allowed" when `item` is not
        running or the command does not apply now; base.ActivityError (with the wrong rows in
        `details`) for a file it cannot use. Returns the activity's `upload_reply`."""
        loaded = await self.load(code)
        if loaded is None:
            raise HubError("room_not_found")
        room = loaded[1]
        activity = room.activity
        if not activity.upload_action:
            raise HubError("not_found")
        if item != room.current:
            raise HubError("not_allowed")
        if activity.upload_action not in activity.actions(room.state, await self._content(room)):
            raise HubError("not_allowed")
        args = activity.parse_upload(room.state, raw, media)
        done = await self.command(code, activity.upload_action, args)
        return done.activity.upload_reply(done.state, args)

    async def update_history(
        self, team: str, collection: str, change: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A host changes a record the team keeps (`change` names its `room` and `item`): the
        activity that keeps `collection` applies it (`update_history`)."""
        keeper = base.keeper(collection)
        ref_room, ref_item = change.get("room"), change.get("item")
        if keeper is None or not team:
            raise HubError("not_found")
        if (
            not isinstance(ref_room, str)
            or isinstance(ref_item, bool)
            or not isinstance(ref_item, int)
        ):
            raise HubError("invalid_history")

        def apply(record: dict[str, Any]) -> dict[str, Any]:
            return keeper.update_history(record, change)

        try:
            updated = await self.bokaal.update(collection, team, ref_room, ref_item, apply)
        except base.ActivityError as exc:
            raise HubError(exc.code) from exc
        if updated is None:
            raise HubError("not_found")
        return keeper.kept_record(updated)

    # ---- results --------------------------------------------------------------------------------
    async def export(self, code: str, room: Room, item: int) -> dict[str, Any]:
        """Everything the facilitator downloads of programme item `item`."""
        if not 0 <= item < len(room.programme):
            raise HubError("not_found")
        state = room.state_of(item)
        if state is None:
            raise HubError("not_found")  # an item that has not run yet
        activity = base.get(room.programme[item].kind)
        names = {
            **{p: r.get("name", "") for p, r in room.removed.items()},
            **await self.names(code),
        }
        tables = {
            table: {
                pid: activity.decode_input(unpack(raw))
                for pid, raw in (await self.backend.hgetall(code, input_table(item, table))).items()
            }
            for table in activity.export_tables(state)
        }
        content = await self.content_of(code, item, room.created)
        return activity.export(state, content, names, tables, room.lang)

    def drop_kicked(self, code: str, player: str) -> None:
        for client in self.fanout.players(code, player):
            self.fanout.send_error(client, "kicked")
            client.drop(CLOSE_KICKED)
