"""Page language: choose nl/en per request and load the UI catalogue shared with the browser."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import HTTPConnection

LANGS = ("nl", "en")

# Texts only the facilitator's pages show (the host page, the quiz library, the bokaal table): the
# phone page leaves them out of its inline catalogue, so every werkvorm's host texts do not weigh
# on guest Wi-Fi. By name, for every werkvorm alike: the pages' own prefixes, and a werkvorm's key
# whose part after its prefix names a facilitator's part (`kring_host_…`, `dotvote_col_…`).
# tests/unit/test_i18n.py checks that no phone module asks for one.
HOST_PAGES = ("host_", "programme_", "quizzes_", "organiser_")
HOST_PARTS = (
    "host_",
    "action_",
    "col_",
    "domains_",
    "history_",
    "import_",
    "merge",
    "settings_",
    "owners_",
)
# Texts of the pages that run no script (templates/signpost.html: `/screen` without a code, a page
# that does not exist): the server writes them into the page, so no page's inline catalogue
# carries them.
SERVER_ONLY = ("signpost_",)


def host_only(key: str) -> bool:
    """Whether `key` is a text only the facilitator's pages use."""
    if key.startswith(HOST_PAGES):
        return True
    _, _, part = key.partition("_")
    return part.startswith(HOST_PARTS)


def accepted_lang(header: str) -> str | None:
    """The one of LANGS an Accept-Language header prefers (by q, then by order), or None when
    it names neither: `en-GB,en;q=0.9,nl;q=0.5` is en, `de,nl;q=0.4` is nl, `fr` None."""
    best: tuple[float, int, str] | None = None
    for order, part in enumerate(header.split(",")[:32]):
        tag, _, params = part.partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGS:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0 and (best is None or (-weight, order) < (-best[0], best[1])):
            best = (weight, order, lang)
    return best[2] if best else None


def request_lang(request: HTTPConnection) -> str:
    """?lang= wins, then the lang cookie (set by a page the user switched), then the browser's
    Accept-Language, then Dutch."""
    for chosen in (request.query_params.get("lang"), request.cookies.get("lang")):
        if chosen in LANGS:
            return str(chosen)
    return accepted_lang(request.headers.get("accept-language", "")) or "nl"


@cache
def catalogue(static_dir: Path, lang: str) -> dict[str, Any]:
    path = static_dir / "i18n" / f"{lang}.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}


@cache
def catalogue_json(static_dir: Path, lang: str, phone: bool = False) -> str:
    """The catalogue as JSON that is safe inside a <script> element, without the texts only the
    server writes (`SERVER_ONLY`); for the phone page also without the facilitator's
    (`host_only`)."""
    texts = {
        k: v
        for k, v in catalogue(static_dir, lang).items()
        if not (k.startswith(SERVER_ONLY) or (phone and host_only(k)))
    }
    text = json.dumps(texts, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
