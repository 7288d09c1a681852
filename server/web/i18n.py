"""Page language: choose nl/en per request and load the UI catalogue shared with the browser."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import HTTPConnection

LANGS = ("nl", "en")


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


def catalogue_json(static_dir: Path, lang: str) -> str:
    """The catalogue as JSON that is safe inside a <script> element."""
    text = json.dumps(catalogue(static_dir, lang), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
