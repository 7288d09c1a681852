"""The physical limit: a bare `websockets` server that does the least a quiz server must do.

It speaks just enough of docs/PROTOCOL.md for the load generator (hello, input → ack, control
start/next/close/scoreboard/finish, ping) and sends, per phase, frames of the same byte sizes the
real server sent in the same run (`--sizes`, measured by the generator), encoded once and written
to every socket with `websockets.broadcast`. Nothing is validated, stored or scored beyond an
answer count per option, so whatever Kenniskring costs above this is the price of its features.

    python -m bench.baseline --port 8765 [--sizes '{"view_question": 600, ...}']
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from http import HTTPStatus
from typing import Any

import msgpack
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

# Byte sizes of Kenniskring frames in a 2,000-phone room (measured with this bench at d6fde6f);
# used when the generator passes none, e.g. when only the baseline runs.
DEFAULT_SIZES: dict[str, int] = {
    "welcome": 107,
    "view_lobby": 230,
    "me_lobby": 80,
    "view_question": 666,
    "ack": 35,
    "me_answer": 113,
    "view_reveal": 1159,
    "me_reveal": 178,
    "view_scoreboard": 775,
    "me_scoreboard": 145,
}

OPTIONS = 4


def pack(frame: dict[str, Any]) -> bytes:
    return msgpack.packb(frame, use_bin_type=True)


def padded(frame: dict[str, Any], size: int) -> bytes:
    """`frame` with a `pad` field so that it encodes to exactly `size` bytes when it can."""
    data = pack(frame)
    need = size - len(pack({**frame, "pad": b""}))
    if need <= 0:
        return data
    for n in (need, need - 1, need - 2):
        data = pack({**frame, "pad": b"\0" * max(0, n)})
        if len(data) <= size:
            return data
    return data


class Room:
    __slots__ = ("answers", "code", "counts", "hosts", "index", "phase", "phones", "seq")

    def __init__(self, code: str) -> None:
        self.code = code
        self.phones: set[ServerConnection] = set()
        self.hosts: set[ServerConnection] = set()
        self.phase = "lobby"
        self.index = -1
        self.seq = 0
        self.answers: set[str] = set()
        self.counts = [0] * OPTIONS


class Baseline:
    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = {**DEFAULT_SIZES, **sizes}
        self.rooms: dict[str, Room] = {}
        self.players = 0

    def frame(self, kind: str, **fields: Any) -> bytes:
        return padded(fields, self.sizes.get(kind, 0))

    def phone_view(self, room: Room) -> bytes:
        base: dict[str, Any] = {"type": "view", "v": room.seq, "role": "phone", "phase": room.phase}
        if room.phase in ("question", "reveal"):
            base["question"] = {"index": room.index}
        kind = "view_scoreboard" if room.phase == "podium" else f"view_{room.phase}"
        return self.frame(kind, **base)

    def phone_me(self, room: Room) -> bytes:
        kind = {"question": "me_lobby", "podium": "me_scoreboard"}.get(room.phase, "")
        return self.frame(kind or f"me_{room.phase}", type="me", v=room.seq)

    def host_view(self, room: Room) -> bytes:
        view: dict[str, Any] = {"type": "view", "v": room.seq, "role": "host", "phase": room.phase}
        if room.phase in ("question", "reveal"):
            view["question"] = {"index": room.index}
            view["answered"] = {"count": len(room.answers), "of": len(room.phones)}
        if room.phase == "reveal":
            view["reveal"] = {"distribution": list(room.counts)}
        return pack(view)

    def publish(self, room: Room, with_me: bool = True) -> None:
        """Encode once, write the same bytes to every phone; the host gets its own view."""
        room.seq += 1
        broadcast(room.phones, self.phone_view(room))
        if with_me:
            broadcast(room.phones, self.phone_me(room))
        broadcast(room.hosts, self.host_view(room))

    # ---- protocol ---------------------------------------------------------------------------
    def control(self, room: Room, action: str) -> dict[str, Any] | None:
        if action in ("start", "next") and room.phase in ("lobby", "reveal", "scoreboard"):
            room.phase, room.index = "question", room.index + 1
            room.answers, room.counts = set(), [0] * OPTIONS
            self.publish(room, with_me=False)
        elif action == "close" and room.phase == "question":
            self.close(room)
        elif action == "scoreboard" and room.phase == "reveal":
            room.phase = "scoreboard"
            self.publish(room)
        elif action == "finish":
            room.phase = "podium"
            self.publish(room)
        elif action in ("lock", "unlock", "sizes"):
            pass
        else:
            return {"type": "error", "code": "not_allowed", "message": "not allowed"}
        return None

    def close(self, room: Room) -> None:
        room.phase = "reveal"
        self.publish(room)

    async def handler(self, ws: ServerConnection) -> None:
        room: Room | None = None
        player = ""
        role = ""
        try:
            async for raw in ws:
                msg = msgpack.unpackb(raw, raw=False) if isinstance(raw, bytes) else {}
                kind = msg.get("type") if isinstance(msg, dict) else None
                if kind == "hello":
                    code = str(msg.get("room", ""))
                    room = self.rooms.get(code)
                    if room is None:
                        room = self.rooms[code] = Room(code)
                    role = msg.get("role", "phone")
                    if role == "host":
                        room.hosts.add(ws)
                        await ws.send(pack({"type": "welcome", "role": "host", "room": code}))
                        await ws.send(self.host_view(room))
                        continue
                    self.players += 1
                    player = f"b{self.players}"
                    room.phones.add(ws)
                    await ws.send(
                        self.frame(
                            "welcome",
                            type="welcome",
                            role="phone",
                            room=code,
                            player=player,
                            token=player,
                            name=msg.get("name", ""),
                        )
                    )
                    await ws.send(self.phone_view(room))
                    await ws.send(self.phone_me(room))
                elif room is None:
                    await ws.send(pack({"type": "error", "code": "hello_first"}))
                elif kind == "input" and isinstance(msg.get("data"), dict):
                    await self.answer(ws, room, player, msg["data"])
                elif kind == "control" and role == "host":
                    sizes = msg.get("sizes")  # from the bench run played in turn (bench/pair.py)
                    if isinstance(sizes, dict):
                        self.sizes.update({str(k): int(v) for k, v in sizes.items()})
                    error = self.control(room, str(msg.get("action")))
                    if error:
                        await ws.send(pack(error))
                elif kind == "ping":
                    await ws.send(pack({"type": "pong"}))
                else:
                    await ws.send(pack({"type": "error", "code": "bad_frame"}))
        except ConnectionClosed:
            pass
        finally:
            if room is not None:
                room.phones.discard(ws)
                room.hosts.discard(ws)

    async def answer(
        self, ws: ServerConnection, room: Room, player: str, msg: dict[str, Any]
    ) -> None:
        if room.phase != "question" or msg.get("question") != room.index:
            await ws.send(pack({"type": "error", "code": "not_open", "ref": "input"}))
            return
        if player in room.answers:
            await ws.send(pack({"type": "error", "code": "already_answered", "ref": "input"}))
            return
        choice = msg.get("choice")
        if not isinstance(choice, int) or not 0 <= choice < OPTIONS:
            await ws.send(pack({"type": "error", "code": "invalid_choice", "ref": "input"}))
            return
        room.answers.add(player)
        room.counts[choice] += 1
        await ws.send(self.frame("ack", type="ack", item=0, question=room.index, choice=choice))
        await ws.send(self.frame("me_answer", type="me", v=room.seq))
        if len(room.answers) >= len(room.phones):  # everyone answered: close, like the real one
            self.close(room)


def healthz(connection: ServerConnection, request: Request) -> Response | None:
    if request.path.startswith("/healthz"):
        body = b'{"status":"ok","backend":"baseline"}'
        headers = Headers(
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return Response(HTTPStatus.OK.value, "OK", headers, body)
    return None


async def run(host: str, port: int, sizes: dict[str, int]) -> None:
    server = Baseline(sizes)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        server.handler,
        host,
        port,
        compression=None,
        max_size=16 * 1024,
        process_request=healthz,
        ping_interval=20,
        ping_timeout=20,
        backlog=2048,  # uvicorn's default; asyncio's 100 resets connections in a join storm
    ):
        await stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--sizes", default="{}", help="JSON: frame kind → bytes")
    args = parser.parse_args(argv)
    try:
        import uvloop  # the real server runs on uvloop via uvicorn; so does the baseline
    except ImportError:
        uvloop = None  # type: ignore[assignment]
    sizes = {k: int(v) for k, v in json.loads(args.sizes).items()}
    with contextlib.suppress(KeyboardInterrupt):
        if uvloop is not None:
            uvloop.run(run(args.host, args.port, sizes))
        else:
            asyncio.run(run(args.host, args.port, sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
