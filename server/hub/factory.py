"""Choose the backend once, from the URL's scheme."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

from server.hub.backend import Backend
from server.hub.memory import MemoryBackend


def make_backend(redis_url: str | None, data_dir: Path, room_ttl: float) -> Backend:
    if not redis_url:
        return MemoryBackend(data_dir, room_ttl=room_ttl)
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(
            f"REDIS_URL moet beginnen met redis://, rediss:// of unix:// ({redis_url})"
        )
    from server.hub.redis import RedisBackend

    # A restarted container may reuse hostname and pid: the suffix keeps a dead worker's
    # presence from counting as alive.
    worker = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    return RedisBackend(redis_url, room_ttl=room_ttl, worker_id=worker)
