"""Settings from flags and environment (PORT, REDIS_URL, KENNISKRING_DATA, …)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from server import resources
from server.web.limits import Limits


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


@dataclass
class Settings:
    host: str = "0.0.0.0"
    port: int = 8000
    redis_url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path("data"))
    room_ttl: float = 12 * 3600
    max_players: int = 2500
    public_url: str | None = None
    allowed_origins: tuple[str, ...] = ()
    workers: int = 1
    frame_limit: int = 4096
    upload_limit: int = 256 * 1024
    quizzes_dir: Path = field(default_factory=resources.examples_dir)
    static_dir: Path = field(default_factory=resources.static_dir)
    coalesce_s: float = 0.1
    resync_s: float = 2.0  # how often a worker compares its rooms' versions with the backend
    seat_grace_s: float = 60.0  # a full room frees the seat of a player who left this long ago
    send_queue: int = 100
    # A socket that sent nothing for this long gets a websocket ping, and is closed when the pong
    # does not come within the same time again (server/web/wsprotocol.py).
    keepalive_s: float = 20.0
    # When set, creating rooms and uploading quizzes needs it (X-Organiser-Key): for servers
    # reachable from the internet. Only from the environment, never a flag (process lists).
    organiser_key: str = ""
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_env(cls) -> Settings:
        origins = os.environ.get("KENNISKRING_ALLOWED_ORIGINS", "")
        return cls(
            host=os.environ.get("HOST", "0.0.0.0"),
            port=_env_int("PORT", 8000),
            redis_url=os.environ.get("REDIS_URL") or None,
            data_dir=Path(os.environ.get("KENNISKRING_DATA", "data")),
            room_ttl=float(os.environ.get("KENNISKRING_ROOM_TTL", 12 * 3600)),
            max_players=_env_int("KENNISKRING_MAX_PLAYERS", 2500),
            public_url=os.environ.get("KENNISKRING_PUBLIC_URL") or None,
            allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            coalesce_s=_env_int("KENNISKRING_COALESCE_MS", 100) / 1000,
            resync_s=_env_int("KENNISKRING_RESYNC_MS", 2000) / 1000,
            seat_grace_s=_env_int("KENNISKRING_SEAT_GRACE_MS", 60000) / 1000,
            send_queue=_env_int("KENNISKRING_SEND_QUEUE", 100),
            keepalive_s=_env_int("KENNISKRING_KEEPALIVE_MS", 20000) / 1000,
            organiser_key=os.environ.get("KENNISKRING_ORGANISER_KEY", "").strip(),
            limits=Limits.parse(os.environ.get("KENNISKRING_LIMITS", "")),
        )

    def to_env(self) -> dict[str, str]:
        """The same settings as environment, for worker processes."""
        env = {
            "PORT": str(self.port),
            "KENNISKRING_DATA": str(self.data_dir),
            "KENNISKRING_ROOM_TTL": str(self.room_ttl),
            "KENNISKRING_MAX_PLAYERS": str(self.max_players),
            "KENNISKRING_ALLOWED_ORIGINS": ",".join(self.allowed_origins),
            "KENNISKRING_COALESCE_MS": str(round(self.coalesce_s * 1000)),
            "KENNISKRING_RESYNC_MS": str(round(self.resync_s * 1000)),
            "KENNISKRING_SEAT_GRACE_MS": str(round(self.seat_grace_s * 1000)),
            "KENNISKRING_SEND_QUEUE": str(self.send_queue),
            "KENNISKRING_KEEPALIVE_MS": str(round(self.keepalive_s * 1000)),
        }
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        if self.public_url:
            env["KENNISKRING_PUBLIC_URL"] = self.public_url
        return env
