"""Who comes into a room and who goes: the `hello` of a phone (joining with a name, or
resuming with its token), the host's screen and the projector; a socket leaving; seats freed
for newcomers; players the facilitator removes because they are offline.

Hellos of one room that arrive together are one read, and their arrivals one write
(`Batcher`; only where a call is a round trip: `Backend.batches`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from server.hub import codes
from server.hub.attendance import lost_since
from server.hub.backend import NO_ARRIVAL, Arriving, Enrolment
from server.hub.batch import Batcher
from server.hub.clients import CLOSE_KICKED, Client
from server.hub.errors import HubError
from server.hub.names import clean_name, device_digest, name_key, suffixed
from server.hub.room import DEVICES, LEFT, NAMES, PLAYERS, TOKENS, Room, pack, unpack

if TYPE_CHECKING:
    from server.hub.rooms import Hub

# What a join publishes on the room's channel: no counter, so every worker renders the room.
JOINED = pack({"joined": True})
NAMES_PER_TRY = 8  # names offered to Backend.enrol at once ("Anna" … "Anna 8")


class Resumed(NamedTuple):
    """What one resume read found: the room (version, decoded) and the token's player with
    their name, or None for an unknown token."""

    room: tuple[int, Room] | None
    player: tuple[str, bytes] | None


class Arrival(NamedTuple):
    """A phone's socket that joined its room: written with the others that arrived with it."""

    player: str
    conn: str
    device: str


class Entrance:
    """The hub's door (Hub.hello, Hub.leave and Hub.remove_offline come here)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        together = hub.backend.batches
        self.resumes: Batcher[str, Resumed] = Batcher(self._read_resumes, together=together)
        # Joins (and hosts, projectors) of one room that arrive together read the room once.
        self.loads: Batcher[None, tuple[int, Room] | None] = Batcher(
            self._read_room, together=together
        )
        self.arrivals: Batcher[Arrival, None] = Batcher(self._write_arrivals, together=together)

    async def hello(self, client: Client, msg: Mapping[str, Any]) -> dict[str, Any]:
        """Admit a client in its role; returns the `welcome` frame."""
        role, code = msg.get("role"), msg.get("room")
        if role not in ("phone", "screen", "host"):
            raise HubError("bad_frame")
        if not codes.is_room_code(code):
            raise HubError("room_not_found")
        assert isinstance(code, str)
        token = msg.get("token") if role == "phone" else None
        resumed: Resumed | None = None
        if isinstance(token, str) and token:
            resumed = await self.resumes.submit(code, codes.digest(token))
            loaded = resumed.room
        else:
            loaded = await self.loads.submit(code, None)
        if loaded is None:
            raise HubError("room_not_found")
        _, room = loaded
        welcome: dict[str, Any] = {"type": "welcome", "role": role, "room": code}
        player, name = "", b""
        device = ""
        joined = False
        if role == "host":
            secret = msg.get("secret")
            if not isinstance(secret, str) or not codes.matches(secret, room.secret):
                raise HubError("not_host")
        elif role == "phone":
            device = device_digest(msg.get("device"))
            if resumed is not None:
                assert isinstance(token, str)
                player, name = self._resumed(room, resumed)
            else:
                # A werkvorm that seats players announces the player with its transition.
                announce = b"" if room.activity.seats_players else JOINED
                arrival = Arriving(client.id, device, announce)
                player, name, token = await self._join(code, room, msg.get("name"), arrival)
                joined = True
            welcome["token"] = token
            welcome["player"] = player
            welcome["name"] = name.decode()
        client.send(pack(welcome))  # before any view, so a phone stores its token first
        await self.hub.fanout.attach(client, code, role, player)
        if not player:
            await self.hub.backend.touch(code)
        elif not joined:  # a new player's enrolment already did this (see _join)
            await self.arrivals.submit(code, Arrival(player, client.id, device))
            # Other workers count this phone again (`answered.of`, the host's list) with the
            # next coalesced render.
            self.hub.fanout.answered(code)
        return welcome

    async def _read_room(self, code: str, items: Sequence[None]) -> list[tuple[int, Room] | None]:
        """One read of room `code` for every hello without a token that arrived together."""
        loaded = await self.hub.load(code)
        return [loaded] * len(items)

    async def _read_resumes(self, code: str, digests: Sequence[str]) -> list[Resumed]:
        """One read for every resume of room `code` that arrived together."""
        loaded, found = await self.hub.backend.load_following(code, TOKENS, digests, PLAYERS)
        room = None
        if loaded is not None:
            version, doc = loaded
            room = (version, self.hub.rooms.get(code, version, doc))
        return [Resumed(room, hit) for hit in found]

    def _resumed(self, room: Room, resumed: Resumed) -> tuple[str, bytes]:
        """The player (and name) a resume's token belongs to, unless refused."""
        if resumed.player is None:
            raise HubError("bad_token")
        player, name = resumed.player
        if player in room.kicked:
            # Still removed: refused. Let back in by the host: the old player (and score) is
            # gone, so the phone starts over with its name.
            raise HubError("kicked" if player in room.removed else "bad_token")
        return player, name

    async def _write_arrivals(self, code: str, arrivals: Sequence[Arrival]) -> list[None]:
        """One write for every phone of room `code` that arrived together: its socket online,
        its device recorded, its `left` mark cleared, the room touched."""
        await self.hub.backend.arrive(
            code,
            [(a.player, a.conn) for a in arrivals],
            [(DEVICES, a.player, a.device.encode()) for a in arrivals if a.device],
            [(LEFT, a.player) for a in arrivals],
        )
        return [None] * len(arrivals)

    async def _join(
        self, code: str, room: Room, raw_name: object, arrival: Arriving = NO_ARRIVAL
    ) -> tuple[str, bytes, str]:
        """A new player in room `code`: (player id, name, token). With `arrival` the enrolment
        also marks the socket online, records the device and tells every worker (one write)."""
        if room.ended:
            raise HubError("session_ended")  # a new player: the session is over
        if arrival.device and any(r.get("device") == arrival.device for r in room.removed.values()):
            raise HubError("kicked")  # this browser was removed: not back under a new name
        name = clean_name(raw_name)
        if room.locked:
            raise HubError("room_locked")
        token = codes.token()
        digest = codes.digest(token)
        # Names offered in order: "Anna", "Anna 2", … (the first few at once; more only when
        # all of those are taken).
        enrolled = None
        for start in range(1, room.max_players + 2, NAMES_PER_TRY):
            stop = min(start + NAMES_PER_TRY, room.max_players + 2)
            offered = [(name_key(c), c) for c in (suffixed(name, n) for n in range(start, stop))]
            enrolled = await self.hub.backend.enrol(
                code, room.max_players, digest, offered, codes.player_tag(), arrival
            )
            if enrolled.outcome is Enrolment.FULL and await self._free_seats(code, room):
                # Full: seats of players who left a while ago and hold nothing (no score, no
                # seat in a circle) are freed first, so phones that were closed do not keep
                # others out.
                enrolled = await self.hub.backend.enrol(
                    code, room.max_players, digest, offered, codes.player_tag(), arrival
                )
            if enrolled.outcome is not Enrolment.NAMES_TAKEN:
                break
        assert enrolled is not None
        if enrolled.outcome is Enrolment.GONE:
            raise HubError("room_not_found")
        if enrolled.outcome is not Enrolment.OK:
            raise HubError("room_full")
        player = enrolled.player
        if room.activity.seats_players:
            await self.hub.transition(code, lambda r: self._seat(r, player))
        elif not arrival.announce:
            await self.hub.announce(code, enrolled.seq)
        return player, enrolled.name.encode(), token

    async def _free_seats(self, code: str, room: Room) -> int:
        """Remove players whose last socket closed more than `seat_grace_s` ago and who hold
        nothing in the running werkvorm; how many were removed."""
        left = await self.hub.backend.hgetall(code, LEFT)
        online = await self.hub.backend.online(code)
        cutoff = self.hub.clock() - self.hub.settings.seat_grace_s
        gone = [
            player
            for player, raw in left.items()
            if player not in online
            and float(unpack(raw)) <= cutoff
            and not room.activity.holds(room.state, player)
        ]
        if gone:
            await self._forget_players(code, gone)
            await self.hub.changed(code)
        return len(gone)

    async def _forget_players(self, code: str, players: list[str]) -> None:
        """Remove players' records (not a kick: the browser may join again as someone new).
        The tokens table is read once for all of them."""
        forget = set(players)
        for digest, owner in (await self.hub.backend.hgetall(code, TOKENS)).items():
            if owner.decode() in forget:
                await self.hub.backend.hdel(code, TOKENS, digest)
        for player in players:
            name = await self.hub.backend.hget(code, PLAYERS, player)
            await self.hub.backend.hdel(code, PLAYERS, player)
            await self.hub.backend.hdel(code, LEFT, player)
            await self.hub.backend.hdel(code, DEVICES, player)
            if name is not None:
                await self.hub.backend.hdel(code, NAMES, name_key(name.decode()))

    async def remove_offline(self, code: str) -> list[str]:
        """The facilitator removes every player who is not connected now, at once (their phone
        may join again with a name, as a new player)."""
        online = await self.hub.backend.online(code)
        gone = [p for p in await self.hub.names(code) if p not in online]

        async def remove(room: Room) -> None:
            if room.ended:
                raise HubError("session_ended")
            room.remove_players(gone)

        if gone:
            await self.hub.transition(code, remove)
            await self._forget_players(code, gone)
            await self.hub.changed(code)
        else:  # nothing to remove: refused all the same once the session ended
            loaded = await self.hub.load(code)
            if loaded is not None and loaded[1].ended:
                raise HubError("session_ended")
        return gone

    async def _seat(self, room: Room, player: str) -> None:
        room.activity.add_player(room.state, player)

    async def leave(self, client: Client) -> None:
        code, player = client.code, client.player
        self.hub.fanout.detach(client)
        if code and player:
            await self.hub.backend.set_online(code, player, client.id, False)
            # When the player's last socket closed: an open round of inputs waits for them for a
            # short grace from here on (see attendance). Written for every socket the phone
            # closed; while another of the player's sockets is open, being online counts first.
            # A socket the server dropped (a shutdown, a full send queue) is not the phone
            # leaving: it gets the longer grace of a phone whose server went away, to come
            # back to a new worker or a restarted server. A kicked player is no player any more.
            if client.close_code != CLOSE_KICKED:
                now, grace = self.hub.clock(), self.hub.settings.reconnect_grace_s
                since = lost_since(now, grace) if client.dropped else now
                await self.hub.backend.hset(code, LEFT, player, pack(since))
            if self.hub.fanout.has_room(code):
                self.hub.fanout.answered(code)  # re-render here, tell the others (coalesced)
            else:
                await self.hub.changed(code)
