"""The `kenniskring` command: serve, check-quiz (and bench)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any

import segno
import uvicorn

from server import __version__
from server.config import Settings
from server.web.httpprotocol import PROTOCOL_PATH as HTTP_PROTOCOL
from server.web.netinfo import lan_address
from server.web.wsprotocol import PROTOCOL_PATH

# uvloop that accepts every waiting connection at once (server/web/eventloop.py); where uvloop
# is missing (Windows), uvicorn's default loop, asyncio's, which accepts that way by itself.
EVENT_LOOP = "server.web.eventloop:new_event_loop"

WS_MAX_SIZE = 16 * 1024


def access_log_wanted(flag: bool) -> bool:
    """Per-request access lines push the join address off the terminal: off unless asked for
    (``--access-log`` or ``KENNISKRING_ACCESS_LOG=1``)."""
    env = os.environ.get("KENNISKRING_ACCESS_LOG", "").strip().lower()
    return flag or env in ("1", "true", "yes", "on")


def uvicorn_options(
    settings: Settings, access_log: bool = False, forwarded_allow_ips: str | None = None
) -> dict[str, Any]:
    """Our own limits instead of uvicorn's loose websocket defaults."""
    return {
        "access_log": access_log,
        # Whose X-Forwarded-For/-Proto to believe: the client address the limits count. None:
        # FORWARDED_ALLOW_IPS from the environment, else 127.0.0.1 and ::1 (a local proxy).
        "forwarded_allow_ips": forwarded_allow_ips,
        "host": settings.host,
        "port": settings.port,
        "loop": EVENT_LOOP if importlib.util.find_spec("uvloop") else "asyncio",
        "http": HTTP_PROTOCOL,  # uvicorn's httptools, leaving no garbage behind an upgrade
        "ws": PROTOCOL_PATH,  # uvicorn's websockets-sansio plus direct frame writes
        "ws_max_size": WS_MAX_SIZE,
        "ws_per_message_deflate": False,
        "ws_ping_interval": settings.keepalive_s,
        "ws_ping_timeout": settings.keepalive_s,
        "proxy_headers": True,
        "log_level": os.environ.get("KENNISKRING_LOG_LEVEL", "info"),
        "timeout_graceful_shutdown": 5,
    }


def announce(settings: Settings) -> None:
    host = settings.public_url or f"http://{lan_address()}:{settings.port}"
    url = host.rstrip("/")
    print(
        f"Kenniskring draait / is running — backend: {'redis' if settings.redis_url else 'memory'}"
    )
    print(f"  Deelnemers / players:   {url}/")
    print(f"  Begeleider / host:      {url}/host")
    print(f"  Quizzen / quizzes:      {url}/quizzes")
    print(f"  Gegevens / data:        {settings.data_dir.resolve()}")
    if not settings.redis_url:
        print(
            "  Live sessies staan in het geheugen: na een herstart zijn ze weg; geüploade quizzen\n"
            "  en wat teams bewaren (bokaal, kenniskaart, gekozen scholingsthema's) blijven in\n"
            "  de gegevensmap.\n"
            "  Live rooms are kept in memory and lost on restart; uploaded quizzes and what teams\n"
            "  keep (bokaal, knowledge map, chosen training themes) stay in the data directory."
        )
    try:
        segno.make(f"{url}/", error="m").terminal(compact=True)
    except Exception:  # a terminal without the box characters must not stop the server
        pass
    sys.stdout.flush()


def _stopped(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def stop_quietly() -> None:
    """Ctrl+C and SIGTERM end the server with exit code 0 and no traceback. uvicorn shuts down
    gracefully first (open sockets get a close frame, the hub stops; rooms in Redis stay), then
    hands the signal back to the handler it found: this one."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stopped)


def serve(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    settings = replace(
        settings,
        host=args.host or settings.host,
        port=args.port or settings.port,
        redis_url=args.redis_url or settings.redis_url,
        data_dir=Path(args.data) if args.data else settings.data_dir,
        room_ttl=args.room_ttl or settings.room_ttl,
        max_players=args.max_players or settings.max_players,
        public_url=args.public_url or settings.public_url,
        workers=args.workers,
    )
    if settings.workers > 1 and not settings.redis_url:
        print(
            "Meerdere workers hebben Redis nodig: geef --redis-url of REDIS_URL op.\n"
            "Several workers need Redis: pass --redis-url or set REDIS_URL.",
            file=sys.stderr,
        )
        return 2
    stop_quietly()
    announce(settings)
    options = uvicorn_options(
        settings, access_log_wanted(args.access_log), args.forwarded_allow_ips
    )
    if settings.workers > 1:
        os.environ.update(settings.to_env())
        uvicorn.run(
            "server.web.app:app_from_env", factory=True, workers=settings.workers, **options
        )
    else:
        from server.web.app import create_app

        uvicorn.run(create_app(settings), **options)
    return 0


def check_quiz(args: argparse.Namespace) -> int:
    from server.quizzes.check import check_files

    return check_files(args.files, sys.stderr, lang=args.lang)


def bench(argv: list[str]) -> int:
    try:
        # Imported by name: the bench is its own package (bench/ in a checkout).
        bench_main = importlib.import_module("kenniskring_bench.__main__").main
    except ModuleNotFoundError as exc:
        print(
            f"kenniskring bench mist een onderdeel ({exc.name}): installeer het met\n"
            "  pip install 'kenniskring[bench]'\n"
            f"kenniskring bench lacks a dependency ({exc.name}): install it with\n"
            "  pip install 'kenniskring[bench]'",
            file=sys.stderr,
        )
        return 2
    return int(bench_main(argv))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kenniskring", description="Kenniskring live quiz server")
    parser.add_argument("--version", action="version", version=f"kenniskring {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="start de server / start the server")
    s.add_argument("--host", default=None, help="default 0.0.0.0 (env HOST)")
    s.add_argument("--port", type=int, default=None, help="default 8000 (env PORT)")
    s.add_argument("--redis-url", default=None, help="env REDIS_URL; without it: in-memory")
    s.add_argument("--workers", type=int, default=1, help="worker processes (>1 needs Redis)")
    s.add_argument("--data", default=None, help="data directory (env KENNISKRING_DATA)")
    s.add_argument("--room-ttl", type=float, default=None, help="idle room lifetime in s (12 h)")
    s.add_argument("--max-players", type=int, default=None, help="players per room (2500)")
    s.add_argument(
        "--public-url", default=None, help="base URL phones use (env KENNISKRING_PUBLIC_URL)"
    )
    s.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="proxies whose X-Forwarded-For is trusted, comma-separated (env "
        "FORWARDED_ALLOW_IPS; default 127.0.0.1,::1)",
    )
    s.add_argument(
        "--access-log",
        action="store_true",
        help="log every HTTP request (env KENNISKRING_ACCESS_LOG=1); off by default",
    )
    s.set_defaults(func=serve)
    c = sub.add_parser("check-quiz", help="controleer quizbestanden / validate quiz files")
    c.add_argument("files", nargs="+")
    c.add_argument(
        "--lang",
        choices=("nl", "en"),
        default="nl",
        help="taal van de meldingen / language of the messages (nl)",
    )
    c.set_defaults(func=check_quiz)
    b = sub.add_parser("bench", help="meet de capaciteit / measure capacity (see bench/)")
    b.add_argument("rest", nargs=argparse.REMAINDER)
    b.set_defaults(func=lambda a: bench(a.rest))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        # argparse's REMAINDER refuses options like --phones; bench parses its own arguments.
        return bench(argv[1:])
    args = build_parser().parse_args(argv)
    return int(args.func(args))
