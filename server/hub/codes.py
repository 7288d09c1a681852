"""Room codes, player ids, tokens and host secrets."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def room_code() -> str:
    """Six digits, never starting with 0 so it reads well on a projector."""
    return str(secrets.randbelow(900_000) + 100_000)


def player_id(order: int, tag: str | None = None) -> str:
    """Sortable by join order (for the lobby), unguessable suffix (`player_tag`)."""
    return f"p{order:07d}{tag if tag is not None else player_tag()}"


def player_tag() -> str:
    """The unguessable end of a player id (Backend.enrol builds the id from it)."""
    return secrets.token_hex(3)


def token() -> str:
    return secrets.token_urlsafe(18)


def host_secret() -> str:
    return secrets.token_urlsafe(24)


def digest(value: str) -> str:
    """What we store instead of a token or secret."""
    return hashlib.sha256(value.encode()).hexdigest()


def matches(value: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(value), stored_digest)


def is_room_code(value: object) -> bool:
    return isinstance(value, str) and len(value) == 6 and value.isdigit()
