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
# on guest Wi-Fi. tests/unit/test_i18n.py checks that no phone module asks for one.
HOST_ONLY = (
    "host_",
    "programme_",
    "quizzes_",
    "organiser_",
    "bokaal_col_",
    "kring_host_",
    "kring_action_",
    "kring_col_",
    "kring_domains_",
    "dotvote_host_",
    "dotvote_action_",
    "dotvote_col_",
    "dotvote_history_",
    "dotvote_import_",
    "dotvote_merge",
    "dotvote_settings_",
    "dotvote_owners_",
)


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
def catalogue_json(static_dir: Path, lang: str, omit: tuple[str, ...] = ()) -> str:
    """The catalogue as JSON that is safe inside a <script> element, without the keys that start
    with one of `omit`."""
    texts = {k: v for k, v in catalogue(static_dir, lang).items() if not k.startswith(omit)}
    text = json.dumps(texts, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
