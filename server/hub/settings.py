"""The hub's settings (worker-wide, from server/config.py)."""

from __future__ import annotations

from dataclasses import dataclass

from server.hub.attendance import RECONNECT_GRACE_S


@dataclass
class HubSettings:
    max_players: int = 2500
    coalesce_s: float = 0.1
    resync_s: float = 2.0
    queue_limit: int = 100
    worker_id: str = "w"
    reconnect_grace_s: float = RECONNECT_GRACE_S
    # A full room frees the seat of a player who left this long ago and holds nothing.
    seat_grace_s: float = 60.0
