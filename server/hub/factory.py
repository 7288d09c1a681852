"""Choose the backend once, from the URL's scheme: none → memory, redis:// (rediss://, unix://)
→ one Redis, redis+cluster:// (rediss+cluster://) → a Redis Cluster."""

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
    cluster = redis_url.startswith(("redis+cluster://", "rediss+cluster://"))
    if not cluster and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(
            "REDIS_URL moet beginnen met redis://, rediss://, unix://, redis+cluster:// of "
            f"rediss+cluster:// ({redis_url})"
        )
    # A restarted container may reuse hostname and pid: the suffix keeps a dead worker's
    # presence from counting as alive.
    worker = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    if cluster:
        from server.hub.redis_cluster import RedisClusterBackend

        return RedisClusterBackend(redis_url, room_ttl=room_ttl, worker_id=worker)
    from server.hub.redis import RedisBackend

    return RedisBackend(redis_url, room_ttl=room_ttl, worker_id=worker)
