"""The UI texts (client_static/i18n): Dutch and English have the same keys, and every key the
pages ask for exists in both."""

from __future__ import annotations

import json
import re

import pytest

from server.web.i18n import accepted_lang
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
        used |= set(re.findall(r'\btn?\("([a-z0-9_]+)"', script.read_text(encoding="utf-8")))
    assert "phone_counting" in used  # the scan finds the calls
    nl = catalogue("nl")
    assert sorted(used - set(nl)) == []


def test_the_texts_only_the_server_writes_stay_out_of_the_pages_catalogues() -> None:
    """The pages without a script (`/screen` without a code, a page that does not exist) are
    written by the server: no page carries their texts in its inline catalogue."""
    from server.web.i18n import catalogue_json

    for lang in ("nl", "en"):
        assert catalogue(lang)["signpost_not_found_title"]
        for phone in (False, True):
            assert "signpost_" not in catalogue_json(I18N.parent, lang, phone), (lang, phone)


def test_a_werkvorm_has_the_name_the_pages_give_it() -> None:
    """What the server calls an item without a title of its own in an export (`names`) is what
    the pages call it (`kind_<kind>`), in both languages."""
    from server.activities import base

    named = [kind for kind in base.kinds() if base.get(kind).names]
    assert {"circle", "dotvote"} <= set(named)
    for kind in named:
        for lang in ("nl", "en"):
            assert base.get(kind).names[lang] == catalogue(lang)[f"kind_{kind}"], (kind, lang)


def test_the_phone_page_has_every_text_its_modules_ask_for() -> None:
    """The phone page's catalogue leaves out the facilitator's texts (guest Wi-Fi): no module the
    phone loads — statically or when a werkvorm starts — asks for one, literally or by prefix."""
    from server.web.assets import Assets
    from server.web.i18n import host_only

    assets = Assets(ROOT / "client_static")
    modules = [*assets.module_graph("js/phone.js"), *assets.lazy_modules("js/phone.js")]
    assert "js/werkvormen/dotvote-phone.js" in modules
    asked: set[str] = set()
    for module in modules:
        text = (ROOT / "client_static" / module).read_text(encoding="utf-8")
        asked |= set(re.findall(r'\btn?\("([a-z0-9_]+)"', text))
        asked |= set(re.findall(r"\bt\(`([a-z0-9_]+)\$\{", text))
    assert "dotvote_left_n" in asked and "dotvote_proposal_" in asked
    assert sorted(key for key in asked if host_only(key)) == []


def test_every_dotvote_refusal_has_a_message_in_both_languages() -> None:
    """A refused sticker, card or command shows the page's own sentence (`err_<code>`), in Dutch
    and English, for every code docs/PROTOCOL.md lists for the dotvote."""
    protocol = (ROOT / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
    section = protocol.split("### Error codes of the dotvote", 1)[1].split("\n\n", 2)[1]
    codes = set(re.findall(r"`([a-z_]+)`", section))
    assert {"over_budget", "over_cap", "voting_closed", "not_minority"} <= codes
    for lang in ("nl", "en"):
        texts = catalogue(lang)
        assert sorted(code for code in codes if f"err_{code}" not in texts) == [], lang


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-GB,en;q=0.9,nl;q=0.5", "en"),
        ("nl-NL,nl;q=0.9,en;q=0.8", "nl"),
        ("en;q=0.5, nl", "nl"),  # by weight, not by order
        ("de-DE,de;q=0.9,en;q=0.7,nl;q=0.3", "en"),
        ("de,nl;q=0.4", "nl"),
        ("EN-us", "en"),
        ("en;q=0, nl;q=0.1", "nl"),  # q=0 means "not this one"
        ("en;q=abc", None),
        ("fr-FR,fr", None),
        ("", None),
    ],
)
def test_the_browser_language_picks_dutch_or_english(header: str, expected: str | None) -> None:
    assert accepted_lang(header) == expected
