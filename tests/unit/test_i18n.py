"""The UI texts (client_static/i18n): Dutch and English have the same keys, and every key the
pages ask for exists in both."""

from __future__ import annotations

import json
import re

from tests.support.servers import ROOT

I18N = ROOT / "client_static" / "i18n"
JS = ROOT / "client_static" / "js"


def catalogue(lang: str) -> dict[str, str]:
    return dict(json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8")))


def test_dutch_and_english_have_the_same_keys() -> None:
    nl, en = catalogue("nl"), catalogue("en")
    assert sorted(set(nl) - set(en)) == []
    assert sorted(set(en) - set(nl)) == []
    assert all(text.strip() for text in [*nl.values(), *en.values()])


def test_every_text_the_pages_use_exists() -> None:
    used = set()
    for script in JS.rglob("*.js"):  # the shells and werkvormen/*.js
        used |= set(re.findall(r'\bt\("([a-z0-9_]+)"', script.read_text(encoding="utf-8")))
    assert "phone_counting" in used  # the scan finds the calls
    nl = catalogue("nl")
    assert sorted(used - set(nl)) == []
