"""Per-worker fan-out: local sockets per room, coalesced renders, one encoding per view."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Any, Protocol

from server.activities import base
from server.hub.backend import Backend
from server.hub.clients import Client, Outbox
from server.hub.deadlines import Deadlines
from server.hub.decoded import Decoded
from server.hub.envelope import envelope, facts_of, personal_envelope
from server.hub.outage import Outage
from server.hub.pacing import Pacer
from server.hub.room import LEFT, META, PLAYERS, PRESENT, Room, pack, unpack
from server.hub.room_cache import RoomCache
from server.hub.settings import HubSettings
from server.hub.tasks import stop_tasks
from server.messages import error_frame


class RoomHub(Protocol):
    """What the fan-out needs of the hub (server/hub/rooms.py implements it); a protocol, so
    the two modules do not import each other."""

    backend: Backend
    outbox: Outbox
    outage: Outage
    clock: Callable[[], float]
    rooms: RoomCache
    decoded: Decoded
    deadlines: Deadlines

    async def content_of(self, code: str, item: int, created: float | None = None) -> Any: ...
    async def changed(self, code: str, urgent: bool = False, table: str | None = None) -> None: ...
    def table_of(self, room: Room) -> str: ...
    def drop_kicked(self, code: str, player: str) -> None: ...


@dataclass
class Preview:
    """The projector's and the phones' views of a room's document `version`, made once:
    `frames` ([role, key, frame] each) for this worker's sockets, `message` (the same frames)
    for the other workers."""

    frames: list[list[Any]]
    message: bytes
    version: int
    collecting: bool = False  # the round takes inputs: the phones need no render for it


@dataclass
class Seen:
    """What a transition's step read of a room's people: the players, who was online (when it
    opened inputs) and the records of input table `table` (when it closed them)."""

    names: Mapping[str, str]
    online: Set[str] | None = None
    table: str = ""
    inputs: Mapping[str, Any] | None = None
    previewed: bool = False  # the outcome's views went out already (Fanout.preview)
    # The views the save published to the other workers (Backend.save_and_publish): only this
    # worker's sockets are left to show them to.
    published: Preview | None = None


log = logging.getLogger("kenniskring.fanout")

# Also the order views are sent in: the projector first (one socket), then the phones, then the
# host's view, the costliest to make.
ROLES = ("screen", "phone", "host")

SPLIT_PERSONAL_AT = 300  # phones of a room in this worker from which views are written at once
PREVIEW_AT = 300  # phones of a room in this worker from which a closing command previews
# A render that read a room's document from before a previewed change stays silent for at most
# this long after the preview (the change's own message brings the render that shows it).
PREVIEW_HOLD_S = 10.0
# The listener gives the event loop's other tasks a turn after this long of showing what came
# in on the subscription (see _listen).
LISTEN_SLICE = 0.002


class _Shown:
    """The last view of one role in one room, to send unchanged views only to newcomers, and
    its frame as written (`data`, made on `at` of the hub's clock; `timed`: it may carry a
    countdown), which a socket that attaches gets at once instead of after the next render."""

    __slots__ = ("at", "data", "key", "timed", "token")

    def __init__(self) -> None:
        self.key: bytes = b""
        self.token: object = object()
        self.data: bytes | None = None
        self.timed = False
        self.at = 0.0


HOLD_S = 0.15  # see Fanout._hold
HOLD_BURST = 8  # rooms whose input-taking rounds' views were written within HOLD_S


class Fanout:
    def __init__(self, hub: RoomHub, settings: HubSettings) -> None:
        self.hub = hub
        self.settings = settings
        self._rooms: dict[str, set[Client]] = defaultdict(set)
        self._dirty: set[str] = set()
        self._publish: set[str] = set()
        self._renderers: dict[str, asyncio.Task[None]] = {}
        self._rendered: dict[str, int] = {}
        self._shown: dict[tuple[str, str], _Shown] = defaultdict(_Shown)
        self._wake: dict[str, asyncio.Event] = {}
        self._tables: dict[str, str] = {}  # the input table a room's last render read
        # Per room: the document version of the last previewed views, and when they came.
        self._previewed: dict[str, tuple[int, float]] = {}
        # When each room's previewed views were last written here (monotonic), for the hold.
        self._preview_at: dict[str, float] = {}
        # Per room: the programme item and the activity's memo (Facts.cache) for it.
        self._caches: dict[str, tuple[int, dict[str, Any]]] = {}
        # Per room: the personal key, input table and inputs the last `me` frames were built on.
        self._me_basis: dict[str, tuple[object, str, Mapping[str, Any]]] = {}
        self._pauses: dict[str, float] = {}  # room → its activity's render_pause_s
        self._bad_logged: dict[str, float] = {}  # room → when junk on its channel was logged
        self.pacer = Pacer()  # longer pauses while many rooms keep the worker busy

    # ---- lifetime ---------------------------------------------------------------------------
    def start(self) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(supervised("listen", self._listen), name="listen"),
            asyncio.create_task(supervised("resync", self._resync), name="resync"),
        ]

    async def stop(self) -> None:
        await stop_tasks(self._renderers.values())
        for clients in self._rooms.values():
            for client in clients:
                client.drop(1001)

    # ---- membership -------------------------------------------------------------------------
    async def attach(self, client: Client, code: str, role: str, player: str) -> None:
        if client.attached:
            self.detach(client)
        client.code, client.role, client.player = code, role, player
        client.last_view, client.last_me = None, None
        first = not self._rooms.get(code)
        self._rooms[code].add(client)
        self._show_last(client)
        if first:
            await self.hub.backend.subscribe(code)
        self.mark(code)

    def _show_last(self, client: Client) -> None:
        """The view this worker last wrote to the client's role in its room, at once: a phone
        that joins a busy room (whose renders are paced, up to a second apart) shows the room
        now; the next render sends it only what changed since. A countdown in that view is
        aged by the time since it was made."""
        shown = self._shown.get((client.code, client.role))
        if shown is None or shown.data is None:
            return
        data = shown.data
        if shown.timed:
            data = _aged(data, self.hub.clock() - shown.at)
        client.last_view = shown.token
        client.send(data)

    def detach(self, client: Client) -> None:
        clients = self._rooms.get(client.code)
        if clients is not None:
            clients.discard(client)
            if not clients:
                self._forget(client.code)
        client.role = ""

    def _forget(self, code: str) -> None:
        self._rooms.pop(code, None)
        self._rendered.pop(code, None)
        self.hub.rooms.forget(code)
        self.hub.decoded.forget(code)
        self._me_basis.pop(code, None)
        self._pauses.pop(code, None)
        self._caches.pop(code, None)
        self._tables.pop(code, None)
        self._previewed.pop(code, None)
        self._preview_at.pop(code, None)
        for role in ROLES:
            self._shown.pop((code, role), None)
        task = asyncio.create_task(self._unsubscribe_if_unused(code))
        task.add_done_callback(_log_failure)

    async def _unsubscribe_if_unused(self, code: str) -> None:
        # A socket may have attached again (and found the subscription still there) meanwhile.
        if not self._rooms.get(code):
            await self.hub.backend.unsubscribe(code)

    def has_room(self, code: str) -> bool:
        """Whether this worker shows room `code` (has a socket in it)."""
        return bool(self._rooms.get(code))

    def players(self, code: str, player: str) -> list[Client]:
        return [c for c in self._rooms.get(code, ()) if c.player == player]

    def connection_count(self) -> int:
        """Sockets attached to rooms in this worker."""
        return sum(len(clients) for clients in self._rooms.values())

    def local_rooms(self) -> list[str]:
        return list(self._rooms)

    def send_error(self, client: Client, code: str, ref: str | None = None) -> None:
        client.send(pack(error_frame(code, client.lang, ref)))

    # ---- coalescing ---------------------------------------------------------------------------
    def mark(self, code: str, urgent: bool = False) -> None:
        """Render `code` soon: at once if idle, else at most once per coalesce interval; an
        urgent change (a phase transition) cuts the pause short."""
        self._dirty.add(code)
        if code not in self._renderers and code in self._rooms:
            task = asyncio.create_task(self._render_loop(code), name=f"render-{code}")
            self._renderers[code] = task
        elif urgent and code in self._wake:
            self._wake[code].set()

    def answered(self, code: str) -> None:
        """An answer arrived: other workers learn it with the next coalesced render."""
        self._publish.add(code)
        self.mark(code)

    async def _render_loop(self, code: str) -> None:
        wake = self._wake.setdefault(code, asyncio.Event())
        try:
            while code in self._dirty and code in self._rooms:
                self._dirty.discard(code)
                wake.clear()
                try:
                    if code in self._publish:
                        self._publish.discard(code)
                        await self.hub.changed(code)
                    hold = self._hold(code)
                    if hold > 0:
                        await asyncio.sleep(hold)
                    await self.render(code)
                except self.hub.backend.unavailable as exc:
                    self.hub.outage.failed(f"render {code}", exc)
                except Exception:
                    log.exception("render %s", code)
                base = max(self.settings.coalesce_s, self._pauses.get(code, 0.0))
                pause = self.pacer.pause(base, len(self._renderers))
                if wake.is_set():
                    # A phase change arrived while this render read the room (or wrote): it is
                    # rendered after the unpaced pause, not the paced one of up to a second (the
                    # host's next screen waited for it), and not at once either, so that the
                    # changes of one transition, in many rooms at once, still go together.
                    wake.clear()
                    pause = min(pause, base)
                began = time.monotonic()
                try:
                    await asyncio.wait_for(wake.wait(), pause)
                except TimeoutError:  # ran out: how late is a measure of the loop's turns
                    self.pacer.ended(pause, time.monotonic() - began)
        finally:
            self._renderers.pop(code, None)
            self._wake.pop(code, None)
        if code in self._dirty and code in self._rooms:
            self.mark(code)

    def _hold(self, code: str) -> float:
        """How long the render of `code` waits before it reads the room. A round that takes
        inputs (a new question) reaches the phones whole in its previewed views: the render
        after it only brings the host's view and counts. So while the views of many such rounds
        are being written here at once (HOLD_BURST rooms within HOLD_S: a staff day's question
        opening), that render waits until HOLD_S after its room's views, and the other rooms'
        questions are written first (docs/PERFORMANCE.md, "What the code does for this"). A
        round that takes no inputs (a reveal: its render brings each phone its own result) and
        a burst of fewer rooms are rendered at once."""
        at = self._preview_at.get(code)
        if at is None:
            return 0.0
        now = time.monotonic()
        wait = at + HOLD_S - now
        if wait <= 0:
            return 0.0
        burst = sum(1 for t in self._preview_at.values() if now - t < HOLD_S)
        return wait if burst >= HOLD_BURST else 0.0

    async def _listen(self) -> None:
        backend = self.hub.backend
        slice_began = time.monotonic()
        while True:
            if time.monotonic() - slice_began >= LISTEN_SLICE:
                # The inbox hands out what is queued without a pause: after a slice of
                # showing other workers' views, what else is ready runs first (this worker's
                # own transitions, whose saves the other workers wait for; answers' acks).
                await asyncio.sleep(0)
                slice_began = time.monotonic()
            try:
                code, raw = await backend.next_published()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("listener")
                await asyncio.sleep(0.5)
                continue
            if not code:  # the subscription was rebuilt: anything may have been missed
                for room in list(self._rooms):
                    self.mark(room)
                continue
            message = _decode(raw)
            if message is None:
                self._skipped(code, len(raw))
                continue
            previewed = message.get("preview")
            if isinstance(previewed, list):
                collecting = message.get("collecting") is True
                self._show_previewed(code, previewed, message.get("version", 0), collecting)
                continue
            kick = message.get("kick")
            if isinstance(kick, str):
                self.hub.drop_kicked(code, kick)
            table = message.get("table")
            if isinstance(table, str) and code in self._rooms:
                self._tables[code] = table  # what the next render reads along (see render)
            seq = message.get("seq", 1 << 62)
            if not isinstance(seq, int) or seq > self._rendered.get(code, -1):
                self.mark(code, urgent=bool(message.get("urgent")))

    def _skipped(self, code: str, size: int) -> None:
        """Log something on a room's channel that is not ours, at most once a minute per room
        (on the hub's clock); the listener goes on."""
        now = self.hub.clock()
        if now - self._bad_logged.get(code, now - 60.0) < 60.0:
            return
        if len(self._bad_logged) > 1000:
            self._bad_logged.clear()
        self._bad_logged[code] = now
        log.warning(
            "room %s: skipped a message on its channel that is not ours (%d bytes)", code, size
        )

    async def _resync(self) -> None:
        """Repair what pub/sub lost: re-render rooms whose version moved without a message."""
        while True:
            await asyncio.sleep(self.settings.resync_s)
            for code in list(self._rooms):
                try:
                    if await self.hub.backend.seq(code) > self._rendered.get(code, -1):
                        self.mark(code)
                except asyncio.CancelledError:
                    raise
                except self.hub.backend.unavailable as exc:
                    self.hub.outage.failed(f"resync {code}", exc)
                except Exception:
                    log.exception("resync %s", code)

    # ---- rendering ----------------------------------------------------------------------------
    def cache_of(self, code: str, item: int) -> dict[str, Any]:
        """The activity's memo for room `code`'s programme item `item` (Facts.cache)."""
        hit = self._caches.get(code)
        if hit is None or hit[0] != item:
            hit = (item, {})
            self._caches[code] = hit
        return hit[1]

    async def render(self, code: str) -> None:
        hub = self.hub
        # One read for everything (one Redis round trip): with 100 rooms rendering in a worker,
        # every further read of a render waits for all the others' turns. The input table
        # follows from the document; the one a transition announced (or the last one read) is
        # read along and, when the document moved on, read again; so are the players present
        # when that table's round opened, unless already known.
        guess = self._tables.get(code, "")
        present = [(META, PRESENT)] if guess and hub.decoded.present(code, guess) is None else []
        snap = await hub.backend.snapshot(
            code, (PLAYERS, LEFT, guess) if guess else (PLAYERS, LEFT), present
        )
        seq, loaded = snap.seq, snap.room
        if code not in self._rooms:
            # The last socket here closed while the room was read: nobody to show it to, and
            # nothing of it is kept decoded (see _forget).
            return
        clients = list(self._rooms.get(code, ()))
        if loaded is None:
            for client in clients:
                self.send_error(client, "room_not_found")
                client.drop(1000)
            return
        version, doc = loaded
        if self._older_than_shown(code, version):
            # Read before a change whose views were shown already (a preview): its views
            # would take the phones back a step. The change's message renders it.
            return
        room = hub.rooms.get(code, version, doc)  # decoded once per version; read-only
        activity = room.activity
        self._pauses[code] = activity.render_pause_s
        content = await hub.content_of(code, room.current, room.created)
        state = room.state
        inputs: dict[str, Any] = {}
        table = hub.table_of(room)
        if present and table == guess:
            hub.decoded.keep_present(code, table, snap.fields[(META, PRESENT)])
        if table:
            self._tables[code] = table
            raw = snap.tables[table] if table == guess else await hub.backend.hgetall(code, table)
            inputs = hub.decoded.inputs(code, table, raw, room)
        names = hub.decoded.names(code, snap.tables[PLAYERS])
        expected = None
        collecting = activity.collecting(state)
        if collecting:
            attendance = await hub.deadlines.attendance(
                code, table, names, snap.online, inputs, snap.tables[LEFT]
            )
            await hub.deadlines.wake_at(code, activity.deadline(state), attendance.wake)
            expected = attendance.expected
        if code not in self._rooms:
            self._forget(code)  # the last socket closed meanwhile: drop what was read again
            return
        facts = facts_of(
            room, names, snap.online, inputs, expected, self.cache_of(code, room.current)
        )
        self._rendered[code] = max(seq, self._rendered.get(code, -1))
        by_role = _by_role(clients)
        phones = by_role.get("phone", [])
        # A big room: the shared views are written as they are made, so the projector and
        # every phone show the new phase without waiting for the host's view or for thousands
        # of personal frames (a reveal); the `me` frames follow at the end of the turn. In a
        # small room that wait is short, and a second write per phone costs more than it saves.
        at_once = len(phones) >= SPLIT_PERSONAL_AT
        with hub.outbox.gc_held():  # from here to the written frames (see Outbox)
            self._send_shared(code, by_role, ROLES, room, state, content, facts, seq, at_once)
            if phones:
                self._send_personal(code, room, state, content, facts, seq, phones)
        if collecting and activity.complete_action and activity.complete(state, content, facts):
            await hub.deadlines.complete_when_all_done(code, table)

    async def preview(
        self,
        room: Room,
        state: Any,
        inputs: Mapping[str, Any],
        names: Mapping[str, str],
        online: Set[str] | None = None,
        version: int = 0,
    ) -> bool:
        """Show a big room the outcome of a closing command before the activity's own work:
        called between closing the gate and the command, it makes the projector's and the
        phones' views of `state` (the activity's `preview`), which depend on the inputs but not
        on, e.g., the scores, writes them to this worker's sockets at once and publishes them,
        so every other worker writes them to its sockets too without reading the room. The
        render after the save finds those views unchanged and sends them to nobody again; the
        host's view and every phone's own frame follow from that render. `online`: who is
        online as the command read it with the document (else read here); `version`: the
        document version the command's save makes. Whether it did."""
        if len(names) < PREVIEW_AT:
            return False
        if online is None:
            online = await self.hub.backend.online(room.code)
        await self._send_views(
            room.code, await self.preview_of(room, state, names, online, inputs, version)
        )
        return True

    async def show_saved(self, room: Room, seen: Seen, version: int = 0) -> None:
        """Show every worker's projectors and phones the views of a transition just saved,
        before any worker reads the room again: the step read the players (and who is online,
        or the closed round's records), so at most one more read is left here. Each worker's
        render that follows (the transition's `changed`) finds these views shown and sends only
        the host's view and the phones' own frames. Without it a new question reached the
        phones of a busy worker only after that worker's render had read the room, waiting
        behind every other room's render. A round that takes no inputs any more may come from
        this worker's last read of its table: the render after corrects what moved since.
        Views the save published already (`seen.published`) are only written here, where the
        worker's own subscription may have written them first."""
        code = room.code
        if seen.published is not None:
            published = seen.published
            self._show_previewed(code, published.frames, published.version, published.collecting)
            return
        table = self.hub.table_of(room)
        online, inputs = seen.online, seen.inputs if table == seen.table else None
        if inputs is None and table and not room.activity.collecting(room.state):
            inputs = self.hub.decoded.known_inputs(code, table)
        backend = self.hub.backend
        if table and inputs is None:  # both reads at once where both are needed
            if online is None:
                online, raw = await asyncio.gather(
                    backend.online(code), backend.hgetall(code, table)
                )
            else:
                raw = await backend.hgetall(code, table)
            inputs = self.hub.decoded.inputs(code, table, raw, room)
        if online is None:
            online = await backend.online(code)
        views = await self.preview_of(room, room.state, seen.names, online, inputs or {}, version)
        await self._send_views(code, views)

    async def _send_views(self, code: str, preview: Preview) -> None:
        """Views of room `code` (`preview_of`), written to this worker's sockets at once and
        published for the other workers (see _show_previewed)."""
        frames, message, version = preview.frames, preview.message, preview.version
        collecting = preview.collecting
        if len(self._rooms.get(code, ())) < SPLIT_PERSONAL_AT:
            self._show_previewed(code, frames, version, collecting)
            await self.hub.backend.publish(code, message)
            return
        # Many sockets here: the other workers get the views first and write them to theirs
        # (on their own cores) while this worker writes its own. One loop turn lets the publish
        # reach Redis; in a small room that turn would cost more than the head start is worth.
        sending = asyncio.ensure_future(self.hub.backend.publish(code, message))
        await asyncio.sleep(0)
        self._show_previewed(code, frames, version, collecting)
        await sending

    async def preview_of(
        self,
        room: Room,
        state: Any,
        names: Mapping[str, str],
        online: Set[str],
        inputs: Mapping[str, Any],
        version: int = 0,
    ) -> Preview:
        """The projector's and the phones' views of `state` (the room's document `version`)."""
        code = room.code
        content = await self.hub.content_of(code, room.current, room.created)
        facts = facts_of(room, names, online, inputs, None, self.cache_of(code, room.current))
        seq = self._rendered.get(code, 0)  # phones take a view of the version they show
        now = self.hub.clock()
        frames: list[list[Any]] = []
        for role in ("screen", "phone"):
            view = envelope(role, room, state, content, facts)
            view.update(room.activity.shared_view(role, state, content, facts, now))
            key, data = _encode(view, seq)
            frames.append([role, key, data])
        message: dict[str, Any] = {"preview": frames, "version": version}
        collecting = room.activity.collecting(state)
        if collecting:
            message["collecting"] = True
        return Preview(frames, pack(message), version, collecting)

    def _older_than_shown(self, code: str, version: int) -> bool:
        return _older(self._previewed.get(code), version, self.hub.clock())

    def _show_previewed(
        self, code: str, frames: list[Any], version: object = 0, collecting: bool = False
    ) -> None:
        """Write previewed views ([role, key, frame], from this worker or another) of the room's
        document `version` to this worker's sockets of each role that do not show that view
        yet, at no lower a version than this worker last wrote to them (a phone ignores a view
        older than the one it shows, and the render after it would not send that view again).
        A render that read an older document is not shown after it (see render)."""
        if isinstance(version, int) and version > 0:
            self._previewed[code] = (version, self.hub.clock())
        if collecting:
            self._preview_at[code] = time.monotonic()
        else:
            self._preview_at.pop(code, None)
        by_role = _by_role(self._rooms.get(code, ()))
        shown = self._rendered.get(code, 0)
        with self.hub.outbox.gc_held():
            for entry in frames:
                if not isinstance(entry, list) or len(entry) != 3:
                    continue
                role, key, data = entry
                members = by_role.get(role) if isinstance(role, str) else None
                if members and isinstance(key, bytes) and isinstance(data, bytes):
                    data = _at_least(data, shown)
                    self._show(code, role, key, data, members, True, timed=True)

    def _send_shared(
        self,
        code: str,
        by_role: Mapping[str, list[Client]],
        roles: tuple[str, ...],
        room: Room,
        state: Any,
        content: Any,
        facts: base.Facts,
        seq: int,
        at_once: bool,
    ) -> None:
        """The shared view of each of `roles`, in that order, to that role's clients."""
        now = self.hub.clock()
        activity = room.activity
        for role in roles:
            members = by_role.get(role)
            if members:
                view = envelope(role, room, state, content, facts)
                view.update(activity.shared_view(role, state, content, facts, now))
                self._send_view(code, role, view, seq, members, at_once)

    def _send_personal(
        self,
        code: str,
        room: Room,
        state: Any,
        content: Any,
        facts: base.Facts,
        seq: int,
        phones: list[Client],
    ) -> None:
        """`me` frames, only where they changed. For an activity whose `me` follows from the
        shared state and the player's own input: while `personal_key` is unchanged only a new
        input or a new socket can change a phone's `me`, so the other phones are skipped."""
        activity = room.activity
        table = self._tables.get(code, "")
        if activity.personal_from_own_input:
            key = (room.current, activity.personal_key(state))
            inputs = facts.inputs
            previous = self._me_basis.get(code)
            self._me_basis[code] = (key, table, inputs)
            if previous is not None and previous[0] == key:
                if previous[1] == table:
                    # New or changed records (an overwrite record is a new decoded object: the
                    # hub decodes each stored record once), and removed ones.
                    before = previous[2]
                    fresh = {p for p, r in inputs.items() if before.get(p) is not r}
                    fresh.update(p for p in before if p not in inputs)
                else:
                    fresh = set(inputs)
                phones = [c for c in phones if c.last_me is None or c.player in fresh]
                if not phones:
                    return
        kind, item = room.kind, room.current
        mes = activity.personal_views(state, content, facts, [c.player for c in phones])
        for client, me in zip(phones, mes, strict=True):
            if me is None:
                continue
            personal_envelope(me, kind, item)
            if me != client.last_me:
                client.last_me = me
                me["v"] = seq  # packed with the version, remembered without it
                client.send(pack(me))
                del me["v"]

    def _send_view(
        self,
        code: str,
        role: str,
        view: dict[str, Any],
        seq: int,
        members: list[Client],
        at_once: bool = False,
    ) -> None:
        """Encode once; an unchanged view goes only to clients that have not had it. `at_once`:
        written now (`Outbox.broadcast`) instead of at the end of the turn. A countdown
        (`remaining_ms` in a part of the view) does not make a view new."""
        timed = _timed_part(view) is not None
        self._show(
            code, role, _view_key(view), lambda: pack({**view, "v": seq}), members, at_once, timed
        )

    def _show(
        self,
        code: str,
        role: str,
        key: bytes,
        frame: bytes | Callable[[], bytes],
        members: list[Client],
        at_once: bool,
        timed: bool = False,
    ) -> None:
        """The view whose identity is `key` to those of `members` that do not show it yet;
        `frame` is its bytes, or makes them (only when someone gets them). `timed`: the view
        may carry a countdown (see _show_last)."""
        shown = self._shown[(code, role)]
        if key != shown.key:
            shown.key, shown.token, shown.data = key, object(), None
            targets = members
        else:
            targets = [c for c in members if c.last_view is not shown.token]
        if not targets:
            return
        data = frame() if callable(frame) else frame
        shown.data, shown.timed, shown.at = data, timed, self.hub.clock()
        token = shown.token
        for client in targets:
            client.last_view = token
        if at_once:
            self.hub.outbox.broadcast(targets, data)
        else:
            for client in targets:
                client.send(data)


def _older(shown: tuple[int, float] | None, version: int, now: float) -> bool:
    """Whether document `version` is older than the previewed one `shown` (version, when),
    within PREVIEW_HOLD_S of the preview."""
    return shown is not None and version < shown[0] and now - shown[1] < PREVIEW_HOLD_S


def _timed_part(view: Mapping[str, Any]) -> dict[str, Any] | None:
    """The part of a view that carries its countdown (`remaining_ms`), if any."""
    return next(
        (part for part in view.values() if isinstance(part, dict) and "remaining_ms" in part),
        None,
    )


def _aged(data: bytes, elapsed: float) -> bytes:
    """A view frame made `elapsed` seconds ago, with its countdown moved on by that much."""
    view = unpack(data)
    timed = _timed_part(view) if isinstance(view, dict) else None
    if timed is None or elapsed <= 0:
        return data
    remaining = timed["remaining_ms"]
    if isinstance(remaining, int):
        timed["remaining_ms"] = max(0, remaining - round(elapsed * 1000))
    return pack(view)


def _at_least(data: bytes, seq: int) -> bytes:
    """A view frame at version `seq` if it was made at a lower one."""
    view = unpack(data)
    if not isinstance(view, dict) or not isinstance(view.get("v"), int) or view["v"] >= seq:
        return data
    view["v"] = seq
    return pack(view)


def _view_key(view: dict[str, Any]) -> bytes:
    """A shared view's identity: its encoding without its countdown (`remaining_ms` in a part
    of the view), so that a clock ticking down does not make a view new."""
    timed = _timed_part(view)
    if timed is None:
        return pack(view)
    remaining = timed.pop("remaining_ms")
    key = pack(view)
    timed["remaining_ms"] = remaining
    return key


def _encode(view: dict[str, Any], seq: int) -> tuple[bytes, bytes]:
    """A shared view's identity and its frame at version `seq`."""
    return _view_key(view), pack({**view, "v": seq})


def _by_role(clients: Iterable[Client]) -> dict[str, list[Client]]:
    by_role: dict[str, list[Client]] = defaultdict(list)
    for client in clients:
        by_role[client.role].append(client)
    return by_role


MAX_MESSAGE = 65536  # what the hub publishes: a few dozen bytes, a preview a few KiB


def _decode(raw: bytes) -> dict[str, Any] | None:
    """A message the hub published on a room channel, or None for anything else."""
    message: object = None
    if len(raw) <= MAX_MESSAGE:
        with contextlib.suppress(Exception):
            message = unpack(raw)
    return message if isinstance(message, dict) else None


async def supervised(name: str, loop: Callable[[], Awaitable[None]]) -> None:
    """Run a loop that should never end; if it does (a bug), log it and start it again. A fan-out
    without its listener is the silently deaf worker the design warns about."""
    while True:
        try:
            await loop()
            log.error("fan-out task %s ended; restarting it", name)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("fan-out task %s failed; restarting it", name)
        await asyncio.sleep(0.1)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("unsubscribe failed: %s", task.exception())
