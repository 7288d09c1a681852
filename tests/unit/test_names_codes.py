"""Player names (server/hub/rooms.py clean_name/_suffixed) and codes (server/hub/codes.py)."""

from __future__ import annotations

import string
import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.hub import codes
from server.hub.errors import HubError
from server.hub.names import NAME_MAX, clean_name
from server.hub.names import suffixed as _suffixed

# ---- clean_name -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Anna", "Anna"),
        ("  Anna  ", "Anna"),
        ("Anna   de    Vries", "Anna de Vries"),
        ("\u00a0Anna\u2003de\u00a0Vries\u3000", "Anna de Vries"),  # unicode spaces collapse too
        ("Ann\x00a", "Anna"),
        ("\x1b[31mRood", "[31mRood"),  # the escape character itself is gone
        ("Bram\x7f", "Bram"),
        ("\u202eAnna", "Anna"),  # right-to-left override cannot flip the projector
        ("Zoë", "Zoë"),
        ("José Müller-Łukasz", "José Müller-Łukasz"),
    ],
)
def test_clean_name_trims_collapses_and_strips(raw: str, expected: str) -> None:
    assert clean_name(raw) == expected


@pytest.mark.parametrize("raw", ["Anna\tde Vries", "Anna\nde Vries", "Anna\r\nde\tVries"])
def test_clean_name_tabs_and_newlines_separate_words(raw: str) -> None:
    """Whitespace is collapsed to one space: a tab or a pasted line break separates words."""
    assert clean_name(raw) == "Anna de Vries"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "\t\n",
        "\x00\x01",
        "\u202e",
        "A" * 25,
        "é" * 25,
        " " + "B" * 25 + " ",
        None,
        42,
        4.2,
        b"Anna",
        ["Anna"],
        {"name": "Anna"},
        True,
    ],
)
def test_clean_name_refuses(raw: Any) -> None:
    with pytest.raises(HubError) as err:
        clean_name(raw)
    assert err.value.code == "name_invalid"


def test_clean_name_length_limit_is_24_after_trimming() -> None:
    assert NAME_MAX == 24
    assert clean_name("A" * 24) == "A" * 24
    assert clean_name("   " + "A" * 24 + "   ") == "A" * 24
    assert clean_name("A" * 12 + "    " + "B" * 11) == "A" * 12 + " " + "B" * 11  # 24 after
    with pytest.raises(HubError):
        clean_name("A" * 12 + " " + "B" * 12)  # 25


@pytest.mark.parametrize("raw", ["🦊", "Anna 🎉", "🇳🇱 Kees", "1️⃣ Eén", "👍🏽 Sam"])
def test_clean_name_accepts_emoji(raw: str) -> None:
    assert clean_name(raw) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "👩‍💻 Eva",
        "Familie 👨‍👩‍👧",
        "🏳️‍🌈",
        "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f Ewan",
    ],  # Scotland
)
def test_clean_name_keeps_emoji_zwj_sequences(raw: str) -> None:
    """U+200D (zero-width joiner) glues emoji into one; removing it splits them apart."""
    assert clean_name(raw) == raw


def test_clean_name_keeps_emoji_newer_than_pythons_unicode_tables() -> None:
    """Phones send emoji the server's unicodedata does not know yet (category Cn)."""
    face = "\U0001fae9"  # FACE WITH BAGS UNDER EYES, Unicode 16.0
    assert clean_name(f"Anna {face}") == f"Anna {face}"


@pytest.mark.parametrize(
    "raw", ["\u200b", "\u2060", "\ufeff", "\u00ad", "\u200d", "\u200b \u200b", " \u2060\u200b "]
)
def test_clean_name_refuses_names_without_a_visible_character(raw: str) -> None:
    """Zero-width and soft-hyphen characters alone show as an empty name on the projector."""
    with pytest.raises(HubError) as err:
        clean_name(raw)
    assert err.value.code == "name_invalid"


@pytest.mark.parametrize("raw", ["An\u200bna", "Anna\u2060", "\ufeffAnna", "An\u00adna"])
def test_clean_name_drops_invisible_characters_inside_a_name(raw: str) -> None:
    """Otherwise a second "Anna" would look identical to the first and escape the "Anna 2" rule."""
    assert clean_name(raw) == "Anna"


@given(st.text(max_size=60))
def test_clean_name_output_is_always_clean(raw: str) -> None:
    try:
        name = clean_name(raw)
    except HubError as err:
        assert err.code == "name_invalid"
        return
    assert 1 <= len(name) <= NAME_MAX
    assert name == name.strip()
    assert "  " not in name
    assert not any(unicodedata.category(ch) == "Cc" for ch in name)
    assert not set(name) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert all(not ch.isspace() or ch == " " for ch in name)
    assert clean_name(name) == name  # idempotent


@given(st.text(alphabet=string.ascii_letters + string.digits + " ", max_size=40))
def test_clean_name_plain_ascii(raw: str) -> None:
    words = raw.split()
    expected = " ".join(words)
    if 1 <= len(expected) <= 24:
        assert clean_name(raw) == expected
    else:
        with pytest.raises(HubError):
            clean_name(raw)


# ---- _suffixed ------------------------------------------------------------------------------


def test_suffixed_examples() -> None:
    assert _suffixed("Anna", 1) == "Anna"
    assert _suffixed("Anna", 2) == "Anna 2"
    assert _suffixed("Anna", 13) == "Anna 13"
    long = "Alexandra van Oranje-Nas"  # 24
    assert len(long) == 24
    assert _suffixed(long, 2) == "Alexandra van Oranje-N 2"
    assert _suffixed(long, 100) == "Alexandra van Oranje 100"
    # a cut right after a space does not leave a double space
    assert _suffixed("Anna Maria de Vriess Bak", 10) == "Anna Maria de Vriess 10"


@given(
    raw=st.text(min_size=1, max_size=30).filter(lambda s: s.split()),
    n=st.integers(min_value=2, max_value=99_999),
)
def test_suffixed_stays_within_the_limit(raw: str, n: int) -> None:
    try:
        name = clean_name(raw)
    except HubError:
        return
    out = _suffixed(name, n)
    assert len(out) <= NAME_MAX
    assert out.endswith(f" {n}")
    stem = out[: -len(f" {n}")]
    assert stem and name.startswith(stem)
    assert stem == stem.rstrip()
    assert clean_name(out) == out  # still a valid, clean name


# ---- codes ----------------------------------------------------------------------------------


def test_room_code_six_digits_never_leading_zero() -> None:
    seen = set()
    for _ in range(3000):
        code = codes.room_code()
        assert len(code) == 6 and code.isdigit() and code.isascii()
        assert code[0] != "0"
        assert codes.is_room_code(code)
        seen.add(code)
    assert len(seen) > 2900  # random, not a counter or a constant


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("123456", True),
        ("100000", True),
        ("12345", False),
        ("1234567", False),
        ("12a456", False),
        (123456, False),
        (None, False),
        ("", False),
    ],
)
def test_is_room_code(value: object, ok: bool) -> None:
    assert codes.is_room_code(value) is ok


def test_digest_and_matches() -> None:
    secret = codes.host_secret()
    stored = codes.digest(secret)
    assert stored != secret and secret not in stored
    assert len(stored) == 64 and all(c in "0123456789abcdef" for c in stored)
    assert codes.digest(secret) == stored  # deterministic
    assert codes.matches(secret, stored)
    assert not codes.matches(secret + "x", stored)
    assert not codes.matches("", stored)
    assert not codes.matches(secret, codes.digest(codes.host_secret()))
    # a known vector: sha256("abc")
    assert codes.digest("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_tokens_and_secrets_are_random_and_url_safe() -> None:
    tokens = {codes.token() for _ in range(200)}
    secrets_ = {codes.host_secret() for _ in range(200)}
    assert len(tokens) == 200 and len(secrets_) == 200
    safe = set(string.ascii_letters + string.digits + "-_")
    for value in tokens | secrets_:
        assert set(value) <= safe and len(value) >= 20


@given(
    st.lists(st.integers(min_value=0, max_value=9_999_999), min_size=2, max_size=30, unique=True)
)
def test_player_id_sorts_by_join_order(orders: list[int]) -> None:
    ids = {order: codes.player_id(order) for order in orders}
    assert sorted(ids.values()) == [ids[o] for o in sorted(orders)]
    assert len(set(ids.values())) == len(ids)


def test_player_ids_for_the_same_order_differ() -> None:
    assert len({codes.player_id(7) for _ in range(100)}) > 90


def test_clean_name_is_nfc_so_one_name_has_one_form() -> None:
    decomposed = unicodedata.normalize("NFD", "Renée Çelik")
    assert clean_name(decomposed) == unicodedata.normalize("NFC", "Renée Çelik")
    # 24 letters with combining accents are 24 characters, not 48.
    assert len(clean_name(unicodedata.normalize("NFD", "é" * 24))) == 24
