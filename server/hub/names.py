"""Player names: cleaned, normalised, unique per room (case and Unicode form do not count)."""

from __future__ import annotations

import unicodedata

from server.hub import codes
from server.hub.errors import HubError

NAME_MAX = 24

EMOJI_JOINER = "\u200d"


def _hidden(ch: str) -> bool:
    """Control characters, bidi overrides and invisible format characters (zero-width space,
    word joiner, BOM, soft hyphen…) — except what emoji need: the joiner and flag tags."""
    category = unicodedata.category(ch)
    if category == "Cc":
        return True
    if category == "Cf":
        return ch != EMOJI_JOINER and not 0xE0020 <= ord(ch) <= 0xE007F
    return False


def _visible(name: str) -> bool:
    return any(not ch.isspace() and ch != EMOJI_JOINER for ch in name)


def clean_name(raw: object) -> str:
    """Trimmed, single-spaced, without control characters; HubError when empty or too long."""
    if not isinstance(raw, str):
        raise HubError("name_invalid")
    # Whitespace (tabs, newlines) separates words; control characters and bidi overrides go,
    # emoji joiners (ZWJ) and characters newer than our Unicode tables stay.
    # NFC first: "été" typed precomposed or with combining accents is one name (and length).
    raw = unicodedata.normalize("NFC", raw)
    words = ("".join(ch for ch in word if not _hidden(ch)) for word in raw.split())
    name = " ".join(w for w in words if w)
    if not 1 <= len(name) <= NAME_MAX or not _visible(name):
        raise HubError("name_invalid")
    return name


def name_key(name: str) -> str:
    """The key that makes two names the same name (case and Unicode form do not count)."""
    return unicodedata.normalize("NFC", name.casefold())


def device_digest(raw: object) -> str:
    """The digest of the device id a browser keeps (localStorage), or "" when none was sent."""
    if isinstance(raw, str) and 8 <= len(raw) <= 128:
        return codes.digest(raw)
    return ""


def suffixed(name: str, n: int) -> str:
    """`name` with a number for the n-th player who chose it ("Anna 2"), within NAME_MAX."""
    if n == 1:
        return name
    tail = f" {n}"
    return name[: NAME_MAX - len(tail)].rstrip() + tail
