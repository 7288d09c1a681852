"""The websocket endpoint: check each frame, hand commands to the hub, queue what comes back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect

from server.hub.clients import Client
from server.hub.room import pack, unpack
from server.hub.rooms import Hub, HubError
from server.messages import error_frame
from server.web.limits import Limiter, SocketLimit
from server.web.wsprotocol import EXTENSION as FRAMES_EXTENSION

log = logging.getLogger("kenniskring.ws")

CLOSE_WAIT_S = 1.0
CLOSE_POLICY = 1008  # a socket that kept flooding after it was told to slow down
CLOSE_UNAVAILABLE = 1011  # the backend (Redis) cannot be reached: reconnect and resume
CLOSE_RESTART = 1012  # uvicorn closes every socket with it as the server shuts down (a deploy)

Handler = Callable[[Hub, Client, Mapping[str, Any]], Awaitable[dict[str, Any] | None]]


async def _hello(hub: Hub, client: Client, msg: Mapping[str, Any]) -> None:
    lang = msg.get("lang")
    client.lang = lang if lang in ("nl", "en") else "nl"
    if client.attached:
        await hub.leave(client)
    await hub.hello(client, msg)  # queues the welcome itself, ahead of the first view


async def _input(hub: Hub, client: Client, msg: Mapping[str, Any]) -> dict[str, Any]:
    return await hub.input(client, msg)


async def _control(hub: Hub, client: Client, msg: Mapping[str, Any]) -> None:
    await hub.control(client, msg)


async def _ping(hub: Hub, client: Client, msg: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "pong"}


HANDLERS: dict[str, Handler] = {
    "hello": _hello,
    "input": _input,
    "control": _control,
    "ping": _ping,
}


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """No Origin (scripts) or the page's own host; `null` and foreign origins are refused."""
    if origin is None:
        return True
    if origin in allowed:
        return True
    parts = urlsplit(origin)
    return bool(parts.scheme in ("http", "https") and host and parts.netloc == host)


def parse_frame(data: bytes | None, limit: int) -> dict[str, Any]:
    """Decode one client frame or raise HubError with the protocol error code."""
    if data is None:
        raise HubError("bad_frame")
    if len(data) > limit:
        raise HubError("frame_too_large")
    try:
        msg = unpack(data)
    except Exception as exc:
        raise HubError("bad_frame") from exc
    # `type` may be any msgpack value (a map or a list is unhashable): check it is a string first.
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise HubError("bad_frame")
    if msg["type"] not in HANDLERS:
        raise HubError("bad_frame")
    return msg


def frame_type(data: bytes | None) -> str | None:
    """The `type` a refused frame named, for the error's `ref`: None when it had no readable
    one (a text frame, not msgpack, not a map, no string `type`). Frames reach this only up to
    the socket's hard limit (16 KiB), so decoding a too-large one is cheap."""
    if data is None:
        return None
    try:
        msg = unpack(data)
    except Exception:
        return None
    kind = msg.get("type") if isinstance(msg, dict) else None
    return kind if isinstance(kind, str) and kind else None


async def websocket_endpoint(websocket: WebSocket) -> None:
    app_state = websocket.app.state
    hub: Hub = app_state.hub
    settings = app_state.settings
    if not origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host"), settings.allowed_origins
    ):
        await websocket.close(code=1008)
        return
    await websocket.accept()

    async def close(code: int) -> None:
        # Bounded: a socket that stopped draining would block a close frame forever.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(code=code), CLOSE_WAIT_S)

    frames = websocket.scope.get("extensions", {}).get(FRAMES_EXTENSION, {})
    client = Client(
        websocket.send_bytes,
        close,
        hub.settings.queue_limit,
        hub.settings.worker_id,
        outbox=hub.outbox,
        write=frames.get("write"),
    )
    # Frames are read in this task itself (no extra task per socket); a client whose queue
    # overflowed cancels it to cut the connection.
    task = asyncio.current_task()
    client.reader = task
    address = websocket.client.host if websocket.client else "?"
    guard = Guard(app_state.limiter, address)
    try:
        await _read_frames(websocket, hub, client, settings.frame_limit, guard)
    except asyncio.CancelledError:
        if not client.dropped or task is None:
            raise
        task.uncancel()
    finally:
        try:
            await hub.leave(client)
        except hub.backend.unavailable as exc:  # presence expires with the worker's liveness
            hub.outage.failed("leave", exc)
        except Exception:  # the writer below must still stop
            log.exception("leaving %s failed", client.id)
        stuck = client.stuck
        await client.stop()
        if stuck:
            await close(client.close_code)  # briefly; then uvicorn closes the transport
        closed_sockets = getattr(app_state, "closed_sockets", None)
        if closed_sockets is not None:
            closed_sockets.one_closed()


async def _close_now(client: Client, code: int) -> None:
    """Close after what is queued, and let the writer send the close frame (bounded) before the
    endpoint stops it: the client learns why (`code`), not just that (1006)."""
    client.drop(code)
    if client.writer is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(client.writer), CLOSE_WAIT_S)


class Guard:
    """The limits of one socket: its frame rate, and its address's joins and code probes."""

    def __init__(self, limiter: Limiter, address: str) -> None:
        self.limiter = limiter
        self.address = address
        self.frames = limiter.socket()

    def check_hello(self, msg: Mapping[str, Any]) -> None:
        if self.limiter.blocked("probe", self.address):
            raise HubError("rate_limited")  # guessing codes: every hello waits, found or not
        new_player = msg.get("role") == "phone" and not msg.get("token")
        if new_player and not self.limiter.allow("join", self.address):
            raise HubError("rate_limited")

    def wrong_code(self) -> None:
        self.limiter.allow("probe", self.address)


async def _read_frames(
    websocket: WebSocket, hub: Hub, client: Client, limit: int, guard: Guard
) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while not client.dropped:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                if message.get("code") == CLOSE_RESTART:
                    # The server is shutting down, the phone did not leave: an open question
                    # waits for it as for a phone whose worker vanished (Hub.leave), long
                    # enough for a restart, not just a reload's grace.
                    client.dropped = True
                return
            verdict = guard.frames.check()
            if verdict != SocketLimit.OK:
                # Told once when throttling starts, then dropped quietly; a socket that keeps
                # going is closed with a policy code.
                if verdict != SocketLimit.DROP:
                    client.send(pack(error_frame("rate_limited", client.lang)))
                if verdict == SocketLimit.CLOSE:
                    await _close_now(client, CLOSE_POLICY)
                    return
                continue
            msg_type = None
            started = hub.outage.clock()
            try:
                try:
                    msg = parse_frame(message.get("bytes"), limit)
                except HubError:
                    msg_type = frame_type(message.get("bytes"))
                    raise
                msg_type = msg["type"]
                if msg_type not in ("hello", "ping") and not client.attached:
                    raise HubError("hello_first")
                if msg_type == "hello":
                    guard.check_hello(msg)
                try:
                    reply = await HANDLERS[msg_type](hub, client, msg)
                except HubError as exc:
                    if exc.code == "room_not_found" and msg_type == "hello":
                        guard.wrong_code()
                    raise
            except HubError as exc:
                client.send_now(pack(error_frame(exc.code, client.lang, msg_type)))
                continue
            except hub.backend.unavailable as exc:
                # Redis unreachable for longer than its retries: nothing was acknowledged, so the
                # socket closes with 1011 and the client resumes once it is back. The outage is
                # logged once, not per request.
                hub.outage.failed(str(msg_type), exc, started)
                await _close_now(client, CLOSE_UNAVAILABLE)
                return
            except Exception:
                # E.g. Redis unreachable for longer than its retries: nothing was acknowledged, so
                # the socket closes (1011) and the client resumes. Log it: the endpoint only cleans
                # up after the reader, it does not report why it ended.
                log.exception("%s from %s failed; closing the socket", msg_type, client.id)
                client.close_code = 1011
                raise
            if reply is not None:
                client.send_now(pack(reply))
