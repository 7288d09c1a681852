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


def host_only(key: str) -> bool:
    """Whether `key` is a text only the facilitator's pages use."""
    if key.startswith(HOST_PAGES):
        return True
    _, _, part = key.partition("_")
    return part.startswith(HOST_PARTS)


def request_lang(request: HTTPConnection) -> str:
    """?lang= wins, then the lang cookie, then Dutch."""
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "nl"
    return lang if lang in LANGS else "nl"


@cache
def catalogue(static_dir: Path, lang: str) -> dict[str, Any]:
    path = static_dir / "i18n" / f"{lang}.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}


@cache
def catalogue_json(static_dir: Path, lang: str, phone: bool = False) -> str:
    """The catalogue as JSON that is safe inside a <script> element; for the phone page without
    the facilitator's texts (`host_only`)."""
    texts = {k: v for k, v in catalogue(static_dir, lang).items() if not (phone and host_only(k))}
    text = json.dumps(texts, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
