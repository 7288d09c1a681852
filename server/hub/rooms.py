"""The hub: creates rooms, admits clients, applies answers and host commands, keeps deadlines."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import unicodedata
from collections.abc import Awaitable, Callable, Mapping, Set
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from server.activities import quiz as q
from server.hub import codes
from server.hub.attendance import LOST_GRACE_S, RECONNECT_GRACE_S, Attendance, attendance
from server.hub.backend import Backend, PutResult
from server.hub.bokaal import BokaalBook
from server.hub.clients import CLOSE_KICKED, Client, Outbox
from server.hub.fanout import Fanout
from server.hub.outage import Outage
from server.hub.room import (
    DEVICES,
    LEFT,
    META,
    NAMES,
    PLAYERS,
    ROUNDS,
    TOKENS,
    Room,
    answers_table,
    open_gate,
    pack,
    unpack,
)
from server.hub.room_cache import RoomCache

log = logging.getLogger("kenniskring.hub")
T = TypeVar("T")

NAME_MAX = 24
TRANSITION_RETRIES = 50
ROOM_CACHE = 4096  # rooms whose quiz, decoded answers and names and gate a worker keeps
DEADLINE_POLL_S = 0.05
DEADLINE_LEASE_S = 5.0


class HubError(Exception):
    """A refused request; `code` is the protocol error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class HubSettings:
    max_players: int = 2500
    coalesce_s: float = 0.1
    resync_s: float = 2.0
    queue_limit: int = 100
    worker_id: str = "w"
    reconnect_grace_s: float = RECONNECT_GRACE_S


EMOJI_JOINER = "\u200d"


def _hidden(ch: str) -> bool:
    """Control characters, bidi overrides and invisible format characters (zero-width space,
    word joiner, BOM, soft hyphen…) — except what emoji need: the joiner and flag tags."""
    category = unicodedata.category(ch)
    if category == "Cc":
        return True
    if category == "Cf":
        return ch != EMOJI_JOINER and not 0xE0020 <= ord(ch) <= 0xE007F
    return False


def _visible(name: str) -> bool:
    return any(not ch.isspace() and ch != EMOJI_JOINER for ch in name)


def clean_name(raw: object) -> str:
    """Trimmed, single-spaced, without control characters; HubError when empty or too long."""
    if not isinstance(raw, str):
        raise HubError("name_invalid")
    # Whitespace (tabs, newlines) separates words; control characters and bidi overrides go,
    # emoji joiners (ZWJ) and characters newer than our Unicode tables stay.
    # NFC first: "été" typed precomposed or with combining accents is one name (and length).
    raw = unicodedata.normalize("NFC", raw)
    words = ("".join(ch for ch in word if not _hidden(ch)) for word in raw.split())
    name = " ".join(w for w in words if w)
    if not 1 <= len(name) <= NAME_MAX or not _visible(name):
        raise HubError("name_invalid")
    return name


def _name_key(name: str) -> str:
    """The key that makes two names the same name (case and Unicode form do not count)."""
    return unicodedata.normalize("NFC", name.casefold())


def _device(raw: object) -> str:
    """The digest of the device id a browser keeps (localStorage), or "" when none was sent."""
    if isinstance(raw, str) and 8 <= len(raw) <= 128:
        return codes.digest(raw)
    return ""


def _of_players(
    answers: Mapping[str, q.Answer], players: Mapping[str, str]
) -> Mapping[str, q.Answer]:
    """The answers of current players (a removed player's answer is not scored)."""
    if answers.keys() <= players.keys():
        return answers
    return {p: a for p, a in answers.items() if p in players}


def _suffixed(name: str, n: int) -> str:
    if n == 1:
        return name
    tail = f" {n}"
    return name[: NAME_MAX - len(tail)].rstrip() + tail


Step = Callable[[Room, q.Quiz], Awaitable[None]]


def _keep(cache: dict[str, T], code: str, value: T) -> None:
    """Keep `value` for room `code` in one of a worker's caches; a full cache starts over (each
    only saves work, so losing it costs a read, never a result)."""
    if code not in cache and len(cache) >= ROOM_CACHE:
        cache.clear()
    cache[code] = value


class _DecodedAnswers(NamedTuple):
    """One room's answers table as last read (`raw`) and decoded."""

    table: str
    raw: dict[str, bytes]
    decoded: dict[str, tuple[bytes, q.Answer]]
    answers: dict[str, q.Answer]


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
        self._quizzes: dict[str, tuple[float, q.Quiz]] = {}
        self._answers: dict[str, _DecodedAnswers] = {}
        self._names: dict[str, tuple[dict[str, bytes], dict[str, str]]] = {}
        self._gates: dict[str, bytes] = {}  # meta.open as this worker last wrote or read it
        self._present: dict[str, tuple[str, frozenset[str]]] = {}  # meta.present per question
        self._tasks: list[asyncio.Task[None]] = []

    # ---- lifetime -----------------------------------------------------------------------------
    async def __aenter__(self) -> Hub:
        await self.backend.connect()
        self._tasks = [
            asyncio.create_task(self._deadline_loop(), name="deadlines"),
            *self.fanout.start(),
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.fanout.stop()
        await self.backend.disconnect()

    # ---- rooms ----------------------------------------------------------------------------------
    async def create_room(
        self, quiz_id: str, quiz: q.Quiz, team: str, lang: str, join_base: str
    ) -> tuple[str, str]:
        secret = codes.host_secret()
        for _ in range(50):
            code = codes.room_code()
            room = Room(
                code=code,
                secret=codes.digest(secret),
                quiz_id=quiz_id,
                join_url=f"{join_base.rstrip('/')}/join/{code}",
                team=team.strip()[:60],
                lang=lang if lang in ("nl", "en") else "nl",
                max_players=self.settings.max_players,
                created=self.clock(),
            )
            if await self.backend.create_room(code, room.encode()):
                meta = {"created": room.created, "quiz": dict(quiz)}
                await self.backend.hset(code, META, "quiz", pack(meta))
                self.forget_quiz(code)
                await self.backend.touch(code)
                return code, secret
        raise HubError("busy")

    async def load(self, code: str) -> tuple[int, Room] | None:
        """The room and its version. The room is shared (cached): read it, do not change it."""
        loaded = await self.backend.load_room(code)
        if loaded is None:
            return None
        version, doc = loaded
        return version, self.rooms.get(code, version, doc)

    async def quiz_of(self, code: str, created: float | None = None) -> q.Quiz:
        """The room's quiz, cached per worker; `created` (from the room document) guards against
        a cached quiz of an expired room whose code was handed out again."""
        cached = self._quizzes.get(code)
        if cached is not None and (created is None or cached[0] == created):
            return cached[1]
        raw = await self.backend.hget(code, META, "quiz")
        if raw is None:
            raise HubError("room_not_found")
        stored = unpack(raw)
        _keep(self._quizzes, code, (stored["created"], stored["quiz"]))
        return stored["quiz"]  # type: ignore[no-any-return]

    def forget_quiz(self, code: str) -> None:
        self._quizzes.pop(code, None)

    def forget_decoded(self, code: str) -> None:
        """Drop the decoded answers and names of a room this worker no longer shows."""
        self._answers.pop(code, None)
        self._names.pop(code, None)
        self._gates.pop(code, None)
        self._present.pop(code, None)

    async def names(self, code: str) -> Mapping[str, str]:
        """Player id → name in join order. The mapping is shared: read it, do not change it."""
        return self.decode_names(code, await self.backend.hgetall(code, PLAYERS))

    def decode_names(self, code: str, raw: dict[str, bytes]) -> Mapping[str, str]:
        """The players table `raw` as names; decoded again only when it changed (every render
        reads it)."""
        hit = self._names.get(code)
        if hit is not None and hit[0] == raw:
            return hit[1]
        names = {pid: raw[pid].decode() for pid in sorted(raw)}
        _keep(self._names, code, (raw, names))
        return names

    async def answers(self, code: str, state: q.QuizState) -> dict[str, q.Answer]:
        """Answers to the current question."""
        if state.index < 0:
            return {}
        table = answers_table(state.round, state.index)
        return self.decode_answers(code, table, await self.backend.hgetall(code, table))

    def decode_answers(self, code: str, table: str, raw: dict[str, bytes]) -> dict[str, q.Answer]:
        """The answers table `raw`; each stored record is decoded once per worker (every
        coalesced render and the close read the whole table). The mapping is shared: read it,
        do not change it."""
        hit = self._answers.get(code)
        if hit is not None and hit.table == table:
            if hit.raw == raw:  # unchanged (a scoreboard, a join): compared in C, not per answer
                return hit.answers
            cache = hit.decoded
        else:
            cache = {}
        decoded: dict[str, tuple[bytes, q.Answer]] = {}
        for pid, value in raw.items():
            pair = cache.get(pid)
            decoded[pid] = (
                pair
                if pair is not None and pair[0] == value
                else (value, q.Answer.from_dict(unpack(value)))
            )
        answers = {pid: answer for pid, (_, answer) in decoded.items()}
        _keep(self._answers, code, _DecodedAnswers(table, raw, decoded, answers))
        return answers

    async def changed(self, code: str, urgent: bool = False) -> None:
        """Tell every worker that the room changed (bumps the view version); `urgent` for phase
        transitions, which renderers show at once instead of after the coalescing pause."""
        seq = await self.backend.bump(code)
        message = {"seq": seq, "urgent": True} if urgent else {"seq": seq}
        await self.backend.publish(code, pack(message))

    # ---- joining --------------------------------------------------------------------------------
    async def hello(self, client: Client, msg: Mapping[str, Any]) -> dict[str, Any]:
        """Admit a client in its role; returns the `welcome` frame."""
        role, code = msg.get("role"), msg.get("room")
        if role not in ("phone", "screen", "host"):
            raise HubError("bad_frame")
        if not codes.is_room_code(code):
            raise HubError("room_not_found")
        assert isinstance(code, str)
        loaded = await self.load(code)
        if loaded is None:
            raise HubError("room_not_found")
        _, room = loaded
        welcome: dict[str, Any] = {"type": "welcome", "role": role, "room": code}
        player = ""
        if role == "host":
            secret = msg.get("secret")
            if not isinstance(secret, str) or not codes.matches(secret, room.secret):
                raise HubError("not_host")
        elif role == "phone":
            token = msg.get("token")
            device = _device(msg.get("device"))
            if isinstance(token, str) and token:
                player = await self._resume(code, room, token)
                welcome["token"] = token
            else:
                player, token = await self._join(code, room, msg.get("name"), device)
                welcome["token"] = token
            if device:
                await self.backend.hset(code, DEVICES, player, device.encode())
            welcome["player"] = player
            welcome["name"] = (await self.backend.hget(code, PLAYERS, player) or b"").decode()
        client.send(pack(welcome))  # before any view, so a phone stores its token first
        await self.fanout.attach(client, code, role, player)
        if player:
            await self.backend.set_online(code, player, client.id, True)
            await self.backend.hdel(code, LEFT, player)
            # Other workers count this phone again (`answered.of`, the host's list) with the
            # next coalesced render.
            self.fanout.answered(code)
        await self.backend.touch(code)
        return welcome

    async def _resume(self, code: str, room: Room, token: str) -> str:
        raw = await self.backend.hget(code, TOKENS, codes.digest(token))
        if raw is None:
            raise HubError("bad_token")
        player = raw.decode()
        if player in room.kicked:
            # Still removed: refused. Let back in by the host: the old player (and score) is
            # gone, so the phone starts over with its name.
            raise HubError("kicked" if player in room.removed else "bad_token")
        return player

    async def _join(
        self, code: str, room: Room, raw_name: object, device: str = ""
    ) -> tuple[str, str]:
        if device and any(r.get("device") == device for r in room.removed.values()):
            raise HubError("kicked")  # this browser was removed: not back under a new name
        name = clean_name(raw_name)
        if room.locked:
            raise HubError("room_locked")
        if await self.backend.hlen(code, PLAYERS) >= room.max_players:
            raise HubError("room_full")
        player = codes.player_id(await self.backend.bump(code))
        for n in range(1, room.max_players + 2):
            candidate = _suffixed(name, n)
            if await self.backend.hsetnx(code, NAMES, _name_key(candidate), player.encode()):
                name = candidate
                break
        token = codes.token()
        await self.backend.hset(code, TOKENS, codes.digest(token), player.encode())
        await self.backend.hset(code, PLAYERS, player, name.encode())
        await self.changed(code)
        return player, token

    async def leave(self, client: Client) -> None:
        code, player = client.code, client.player
        self.fanout.detach(client)
        if code and player:
            await self.backend.set_online(code, player, client.id, False)
            # When the player's last socket closed: an open question waits for them for a short
            # grace from here on (see attendance). Written for every socket the phone closed;
            # while another of the player's sockets is open, being online counts first. A socket
            # the server dropped (shutdown, a full send queue) is not the phone leaving: unrecorded,
            # it counts as vanished, with the longer grace for phones coming back to a new worker.
            if not client.dropped:
                await self.backend.hset(code, LEFT, player, pack(self.clock()))
            if self.fanout.has_room(code):
                self.fanout.answered(code)  # re-render here, tell the others (coalesced)
            else:
                await self.changed(code)

    # ---- answers --------------------------------------------------------------------------------
    async def answer(self, client: Client, msg: Mapping[str, Any]) -> dict[str, Any]:
        """Store one answer of a phone; returns the `ack` frame or raises HubError."""
        if client.role != "phone":
            raise HubError("not_allowed")
        code, player = client.code, client.player
        index = msg.get("question")
        if isinstance(index, bool) or not isinstance(index, int):
            raise HubError("bad_frame")
        now = self.clock()
        cached = self._gates.get(code)
        if cached is not None:
            try:
                return await self._store_answer(code, player, index, msg, cached, now)
            except HubError as exc:
                if exc.code not in ("not_open", "too_late"):
                    raise
                # Perhaps only this worker's copy of the gate is old (another worker opened or
                # closed a question): nothing was stored, so ask Redis and try once more.
        gate = await self.backend.hget(code, META, "open")
        self._remember_gate(code, gate)
        if gate is None:
            raise HubError("not_open")
        return await self._store_answer(code, player, index, msg, gate, now)

    def _remember_gate(self, code: str, gate: bytes | None) -> None:
        """This worker's copy of the room's gate (`meta.open`), saving a read per answer; the
        store compares it with the real one, so an old copy can only cause a retry."""
        if gate is None:
            self._gates.pop(code, None)
            return
        _keep(self._gates, code, gate)

    async def _store_answer(
        self, code: str, player: str, index: int, msg: Mapping[str, Any], gate: bytes, now: float
    ) -> dict[str, Any]:
        opened = unpack(gate)
        if "index" not in opened or opened["index"] != index:
            closed = opened.get("closed")
            raise HubError("too_late" if closed == index else "not_open")
        state = q.QuizState(
            phase=q.QUESTION,
            index=index,
            opened_at=opened["opened_at"],
            deadline=opened["deadline"],
            round=opened["round"],
        )
        quiz = await self.quiz_of(code)
        try:
            record = q.accept_answer(
                state, quiz, {}, player, index, msg.get("choice"), msg.get("value"), now
            )
        except q.QuizError as exc:
            raise HubError(exc.code) from exc
        table = answers_table(state.round, index)
        # The nonce makes this call's record unique: a repeat of the same call (a retry by the
        # Redis client) is recognised as already stored, a second tap is a duplicate.
        stored = pack({**record.to_dict(), "n": secrets.token_hex(4)})
        result = await self.backend.put_if_open(code, gate, table, player, stored)
        if result is PutResult.DUPLICATE:
            raise HubError("already_answered")
        if result is PutResult.CLOSED:
            raise HubError("too_late")
        self.fanout.answered(code)
        return {"type": "ack", "question": index, "choice": record.choice, "value": record.value}

    # ---- host commands --------------------------------------------------------------------------
    async def control(self, client: Client, msg: Mapping[str, Any]) -> None:
        if client.role != "host":
            raise HubError("not_host")
        action = msg.get("action")
        code = client.code
        steps: dict[str, Step] = {
            "start": self._start,
            "close": self._close,
            "scoreboard": self._scoreboard,
            "next": self._next,
            "finish": self._finish,
            "restart": self._restart,
            "lock": self._lock,
            "unlock": self._unlock,
        }
        if action == "kick":
            await self.kick(code, msg.get("player"))
        elif action == "unkick":
            await self.unkick(code, msg.get("player"))
        elif isinstance(action, str) and action in steps:
            await self.transition(code, steps[action])
        else:
            raise HubError("bad_frame")
        # The change is stored; its view follows (at a higher `v`).
        done: dict[str, Any] = {"type": "done", "action": action}
        if action in ("kick", "unkick"):
            done["player"] = msg.get("player")
        client.send(pack(done))

    async def transition(self, code: str, step: Step) -> Room:
        """Apply `step` to a fresh copy of the room and save it with compare-and-set."""
        for _ in range(TRANSITION_RETRIES):
            loaded = await self.load(code)
            if loaded is None:
                raise HubError("room_not_found")
            version, shared = loaded
            room = shared.copy()
            quiz = await self.quiz_of(code, room.created)
            was_open = room.state.phase == q.QUESTION
            opened_before = room.state.opened_at
            try:
                await step(room, quiz)
            except q.QuizError as exc:
                raise HubError(exc.code) from exc
            opening = room.state.phase == q.QUESTION and (
                not was_open or room.state.opened_at != opened_before
            )
            if opening:
                # Who is here as the question opens is expected to answer (see all_answered).
                present = list(await self.backend.online(code))  # order irrelevant: a set
                await self.backend.hset(code, META, "present", pack(present))
                # Open the gate before saving: answers that arrive once phones see the question
                # must find it open.
                gate = open_gate(room.state)
                await self.backend.hset(code, META, "open", gate)
                self._remember_gate(code, gate)
            doc = room.encode()
            if await self.backend.save_room(code, version, doc):
                self.rooms.put(code, version + 1, doc, room)  # from here on read-only
                await self._after(code, room)
                return room
        raise HubError("busy")

    async def _after(self, code: str, room: Room) -> None:
        if room.state.phase == q.QUESTION:
            await self.backend.schedule(code, room.state.deadline)
        else:
            await self.backend.unschedule(code)
        await self.backend.touch(code)
        await self.changed(code, urgent=True)

    async def _close_gate(self, code: str, state: q.QuizState) -> dict[str, q.Answer]:
        """Stop taking answers, then read them: nothing accepted can be missed."""
        gate = pack({"closed": state.index, "round": state.round})
        await self.backend.hset(code, META, "open", gate)
        self._remember_gate(code, gate)
        return await self.answers(code, state)

    async def _start(self, room: Room, quiz: q.Quiz) -> None:
        q.start(room.state, quiz, self.clock())

    async def _close(self, room: Room, quiz: q.Quiz) -> None:
        if room.state.phase != q.QUESTION:
            raise q.QuizError("not_allowed")
        players = await self.names(room.code)
        # A player removed while the question was open is not scored (their record stays).
        answers = _of_players(await self._close_gate(room.code, room.state), players)
        # The gate is closed: the answers are final, so a big room sees the reveal now, before
        # the scoring and the save.
        await self.fanout.preview_reveal(room, quiz, answers, players)
        ranks = self.fanout.known_ranks(room.code, room.state)
        q.close(room.state, quiz, answers, players.keys(), self.clock(), ranks)

    async def _scoreboard(self, room: Room, quiz: q.Quiz) -> None:
        q.show_scoreboard(room.state)

    async def _next(self, room: Room, quiz: q.Quiz) -> None:
        q.next_step(room.state, quiz, self.clock())
        if room.state.phase == q.PODIUM:
            await self._crown(room, quiz)

    async def _finish(self, room: Room, quiz: q.Quiz) -> None:
        answers: Mapping[str, q.Answer] = {}
        players = await self.names(room.code)
        if room.state.phase == q.QUESTION:
            answers = _of_players(await self._close_gate(room.code, room.state), players)
        ranks = self.fanout.known_ranks(room.code, room.state)
        q.finish(room.state, quiz, answers, players.keys(), self.clock(), ranks)
        await self._crown(room, quiz)

    async def _restart(self, room: Room, quiz: q.Quiz) -> None:
        # "Nog een keer": the finished round stays exportable (results.json `rounds`).
        finished = {"state": room.state.to_dict(), "names": dict(await self.names(room.code))}
        room.state = q.restart(room.state)
        await self.backend.hset(room.code, ROUNDS, str(room.state.round - 1), pack(finished))
        room.bokaal = None
        await self.backend.hdel(room.code, META, "open")
        self._remember_gate(room.code, None)

    async def _lock(self, room: Room, quiz: q.Quiz) -> None:
        room.locked = True

    async def _unlock(self, room: Room, quiz: q.Quiz) -> None:
        room.locked = False

    async def _crown(self, room: Room, quiz: q.Quiz) -> None:
        """At the podium: who wins, and from whom the doorgeefbokaal passes."""
        ranking = q.ranking(room.state)
        if not room.team or not ranking:
            room.bokaal = None
            return
        winner = (await self.backend.hget(room.code, PLAYERS, ranking[0][0]) or b"?").decode()
        previous = await self.bokaal.holder(room.team, room.code, room.state.round)
        room.bokaal = {"team": room.team, "winner": winner, "previous": previous}
        await self.bokaal.record(
            team=room.team,
            winner=winner,
            previous=previous,
            title=str(quiz.get("title", "")),
            theme=str(quiz.get("theme", "")),
            author=str(quiz.get("author", "")),
            room=room.code,
            round_no=room.state.round,
        )

    async def kick(self, code: str, player: object) -> None:
        if not isinstance(player, str):
            raise HubError("bad_frame")
        name = await self.backend.hget(code, PLAYERS, player)
        if name is None:
            raise HubError("not_allowed")

        device = (await self.backend.hget(code, DEVICES, player) or b"").decode()

        async def remove(room: Room, quiz: q.Quiz) -> None:
            if player not in room.kicked:
                room.kicked.append(player)
            room.removed[player] = {"name": name.decode(), "device": device}
            q.remove_player(room.state, player)

        await self.transition(code, remove)
        await self.backend.hdel(code, PLAYERS, player)
        await self.backend.hdel(code, NAMES, _name_key(name.decode()))
        await self.backend.publish(code, pack({"kick": player}))
        await self.changed(code)

    async def unkick(self, code: str, player: object) -> None:
        """Let a removed player's phone back in: it joins again with a name, as a new player
        (the old token stays refused: its score was removed with it)."""
        if not isinstance(player, str):
            raise HubError("bad_frame")

        async def allow(room: Room, quiz: q.Quiz) -> None:
            if player not in room.removed:
                raise q.QuizError("not_allowed")
            del room.removed[player]

        await self.transition(code, allow)

    async def rounds(
        self, code: str, room: Room
    ) -> list[tuple[int, q.QuizState, Mapping[str, str]]]:
        """Every round of the room, oldest first: the finished ones as restart stored them
        (with the names of then), and the current one."""
        stored = await self.backend.hgetall(code, ROUNDS)
        out: list[tuple[int, q.QuizState, Mapping[str, str]]] = []
        for number in sorted((int(k) for k in stored), key=int):
            if number >= room.state.round:
                continue  # left by a restart that did not save (the transition retried)
            finished = unpack(stored[str(number)])
            out.append((number, q.QuizState.from_dict(finished["state"]), finished["names"]))
        out.append((room.state.round, room.state, await self.names(code)))
        return out

    # ---- deadlines ------------------------------------------------------------------------------
    async def tick(self, code: str) -> None:
        """Close the open question of `code` if its deadline has passed."""

        async def close_if_due(room: Room, quiz: q.Quiz) -> None:
            if q.is_due(room.state, self.clock()):
                await self._close(room, quiz)
                return
            # Early: a reconnect grace lapsed. Close if nobody else is waited for any more.
            if room.state.phase == q.QUESTION:
                if (await self.attendance_now(code, room.state)).complete:
                    await self._close(room, quiz)
                    return
            raise q.QuizError("not_due")

        try:
            await self.transition(code, close_if_due)
        except HubError as exc:
            loaded = await self.load(code)
            if exc.code != "not_due" or loaded is None:
                await self.backend.unschedule(code)
            elif loaded[1].state.phase == q.QUESTION:
                state = loaded[1].state
                await self.backend.schedule(code, state.deadline)
                await self.wake_at(code, state, (await self.attendance_now(code, state)).wake)
                await self.changed(code)  # the counter changes as a grace lapses
            else:
                await self.backend.unschedule(code)

    async def _deadline_loop(self) -> None:
        while True:
            started = self.outage.clock()
            try:
                for code in await self.backend.claim_due(self.clock(), DEADLINE_LEASE_S):
                    await self.tick(code)
                self.outage.recovered()
            except asyncio.CancelledError:
                raise
            except self.backend.unavailable as exc:  # an outage: one line, not one per poll
                self.outage.failed("deadlines", exc, started)
            except Exception:  # a bug must not end the loop either
                log.exception("deadline loop")
            await asyncio.sleep(DEADLINE_POLL_S)

    async def present_at_open(self, code: str, state: q.QuizState) -> frozenset[str]:
        """Players online when the open question opened (meta.present, written before the
        question was saved, never changed while it is open: cached per question)."""
        key = answers_table(state.round, state.index)
        hit = self._present.get(code)
        if hit is not None and hit[0] == key:
            return hit[1]
        raw = await self.backend.hget(code, META, "present")
        present = frozenset(unpack(raw)) if raw is not None else frozenset()
        _keep(self._present, code, (key, present))
        return present

    async def attendance(
        self,
        code: str,
        state: q.QuizState,
        players: Mapping[str, str],
        online: Set[str],
        answers: Mapping[str, q.Answer],
        left_raw: Mapping[str, bytes],
    ) -> Attendance:
        """Who the open question waits for, at the hub's clock: the one rule behind both the
        `answered` counter and the close when everybody answered (see attendance.py). Players
        present at the opening who vanished unnoticed (their worker died) are recorded, so their
        longer grace (LOST_GRACE_S) runs from the first time any worker saw them gone."""
        now = self.clock()
        left = {player: float(unpack(raw)) for player, raw in left_raw.items()}
        present = await self.present_at_open(code, state)
        grace = self.settings.reconnect_grace_s
        result = attendance(
            players, online, answers.keys(), present, left, now, grace, max(grace, LOST_GRACE_S)
        )
        for player in result.unnoticed:
            await self.backend.hsetnx(code, LEFT, player, pack(result.unnoticed_since))
        return result

    async def attendance_now(self, code: str, state: q.QuizState) -> Attendance:
        """`attendance` from a fresh read of the room (the deadline tick)."""
        snap = await self.backend.snapshot(
            code, (PLAYERS, LEFT, answers_table(state.round, state.index))
        )
        answers = self.decode_answers(
            code,
            answers_table(state.round, state.index),
            snap.tables[answers_table(state.round, state.index)],
        )
        names = self.decode_names(code, snap.tables[PLAYERS])
        return await self.attendance(code, state, names, snap.online, answers, snap.tables[LEFT])

    async def wake_at(self, code: str, state: q.QuizState, wake: float | None) -> None:
        """Ask for a tick when a grace lapses (before the question's own deadline)."""
        if wake is not None and wake < state.deadline:
            await self.backend.schedule(code, wake)

    async def close_when_all_answered(self, code: str) -> None:
        async def close_if_open(room: Room, quiz: q.Quiz) -> None:
            await self._close(room, quiz)

        with contextlib.suppress(HubError):
            await self.transition(code, close_if_open)

    def drop_kicked(self, code: str, player: str) -> None:
        for client in self.fanout.players(code, player):
            self.fanout.send_error(client, "kicked")
            client.drop(CLOSE_KICKED)
