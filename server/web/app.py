"""The Starlette application: routes, static files, and the hub's lifetime in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from server.config import Settings
from server.hub.attendance import RECONNECT_GRACE_S
from server.hub.bokaal import BokaalBook
from server.hub.factory import make_backend
from server.hub.rooms import Hub, HubSettings
from server.quizzes.library import QuizLibrary
from server.web import api, pages
from server.web.assets import Assets, CachedStaticFiles
from server.web.collector import ClosedSockets
from server.web.handshakes import gate_for
from server.web.headers import SecurityHeaders
from server.web.limits import Limiter
from server.web.ws import websocket_endpoint

GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Fewer, cheaper collections: thousands of sockets make Python's default young-generation
    threshold (700) trigger full passes in the middle of a broadcast. Start-up objects are frozen
    out of every later collection."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class KenniskringApp(Starlette):
    """Starlette, with `/ws` handed straight to its endpoint: every frame a server sends then
    skips the middleware stack's per-message `send` wrappers (thousands per broadcast)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/ws":
            scope["app"] = self
            await websocket_endpoint(WebSocket(scope, receive, send))
            return
        await super().__call__(scope, receive, send)


def reconnect_grace_s() -> float:
    """KENNISKRING_RECONNECT_GRACE_MS: how long an open question still waits for a phone whose
    socket closed (default 3 s; see server/hub/attendance.py)."""
    raw = os.environ.get("KENNISKRING_RECONNECT_GRACE_MS", "").strip()
    return int(raw) / 1000 if raw else RECONNECT_GRACE_S


async def http_error(request: Request, exc: Exception) -> Response:
    """No route or no file (404), or a method the address does not take (405): under /api/ the
    API's JSON error; for any other address that is no page, a page in the reader's language
    that leads on (`pages.not_found`); else (a missing script or image, a page asked with
    POST) the plain error."""
    assert isinstance(exc, HTTPException)
    path = request.url.path
    if path.startswith("/api/"):
        return api.http_error(request, exc)
    if exc.status_code == 404 and not path.startswith("/static/"):
        return await pages.not_found(request, exc)
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    backend = make_backend(settings.redis_url, settings.data_dir, settings.room_ttl)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        hub_settings = HubSettings(
            max_players=settings.max_players,
            coalesce_s=settings.coalesce_s,
            resync_s=settings.resync_s,
            queue_limit=settings.send_queue,
            worker_id=f"w{os.getpid()}",
            reconnect_grace_s=reconnect_grace_s(),
            seat_grace_s=settings.seat_grace_s,
        )
        async with Hub(backend, BokaalBook(backend), hub_settings) as hub:
            app.state.hub = hub
            app.state.library = QuizLibrary(backend, settings.quizzes_dir)
            gate = gate_for(asyncio.get_running_loop())
            app.state.closed_sockets = ClosedSockets(handshakes=gate.last_active)
            tune_gc()
            try:
                yield
            finally:
                app.state.closed_sockets.stop()

    assets = Assets(settings.static_dir)
    app = KenniskringApp(
        routes=[
            *api.routes,
            *pages.routes,
            Mount(
                "/static",
                CachedStaticFiles(directory=settings.static_dir, assets=assets),
                name="static",
            ),
        ],
        # HTTP only: GZipMiddleware passes websocket scopes through untouched, and `/ws` does
        # not even reach the middleware stack (KenniskringApp.__call__).
        middleware=[Middleware(SecurityHeaders), Middleware(GZipMiddleware, minimum_size=500)],
        exception_handlers={
            404: http_error,
            405: http_error,
            **{cls: api.backend_unavailable for cls in backend.unavailable},
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.limiter = Limiter(settings.limits)
    app.state.assets = assets
    return app


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory server.web.app:app_from_env` (worker processes)."""
    return create_app(Settings.from_env())
