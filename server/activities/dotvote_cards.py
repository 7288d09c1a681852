"""The dotvote's dialogue cards: their fields and checks, proposals, and the import of a JSON or
CSV file of cards (pure)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.activities.base import ActivityError

KWARTALEN = ("Q1", "Q2", "Q3", "Q4")
DOELGROEPEN = ("team", "kennisgroep", "individueel")
LEERVORMEN = (
    "training",
    "college",
    "e-learning",
    "intervisie",
    "casuïstiekbespreking",
    "samen optrekken met een ervaren collega",
)
ORIGINS = ("content", "host", "phone", "import")
FIELDS = ("domain", "kwartaal", "doelgroep", "onderwerp", "leervorm")
MAX_CARDS = 60
MAX_ONDERWERP = 120
MAX_LEERVORM = 60
MAX_PROPOSALS = 3
MAX_UPLOAD = 64 * 1024
MAX_DOMAIN_SHOWN = 60  # of a wrong domain named in an import error

# Dutch (and English) column and field names of an import, to the card's fields.
ALIASES = {
    "domain": "domain",
    "domein": "domain",
    "kwartaal": "kwartaal",
    "quarter": "kwartaal",
    "doelgroep": "doelgroep",
    "target_group": "doelgroep",
    "onderwerp": "onderwerp",
    "subject": "onderwerp",
    "leervorm": "leervorm",
    "learning_form": "leervorm",
}


@dataclass(frozen=True)
class Card:
    id: str
    domain: str
    kwartaal: str = ""
    doelgroep: str = ""
    onderwerp: str = ""
    leervorm: str = ""
    origin: str = "host"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "domain": self.domain,
            "kwartaal": self.kwartaal,
            "doelgroep": self.doelgroep,
            "onderwerp": self.onderwerp,
            "leervorm": self.leervorm,
            "origin": self.origin,
        }

    def fields(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in FIELDS}

    def encode(self) -> list[str]:
        return [self.id, *(getattr(self, f) for f in FIELDS), self.origin]

    @classmethod
    def decode(cls, raw: Sequence[str]) -> Card:
        return cls(*(str(x) for x in raw))


def _bad(field: str, code: str = "invalid_card") -> ActivityError:
    return ActivityError(code, [{"field": field}])


def _text(value: Any, limit: int, required: bool, field: str) -> str:
    if value is None:
        value = ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # a spreadsheet cell that looks like a number
    if not isinstance(value, str):
        raise _bad(field)
    text = " ".join(value.split())
    if (required and not text) or len(text) > limit:
        raise _bad(field)
    return text


def _shown(value: Any) -> str:
    """A wrong value as an import's error names it (cut short)."""
    return " ".join(value.split())[:MAX_DOMAIN_SHOWN] if isinstance(value, str) else ""


def _wrong(field: str, value: Any) -> dict[str, str]:
    """A wrong field's detail, naming the value given (if any)."""
    shown = _shown(value)
    return {"field": field, "code": f"invalid_{field}", **({"value": shown} if shown else {})}


def check_fields(raw: Any, domains: Sequence[str]) -> dict[str, str]:
    """A card as a client sends it (`domain`, `kwartaal`, `doelgroep`, `onderwerp`,
    `leervorm`), checked and normalised; otherwise ActivityError("invalid_domain" when the
    domain is wrong, else "invalid_card") with one detail per wrong field: its `field`, its own
    `code` (`invalid_domain`, `invalid_kwartaal`, …) and, where one was given, its `value`."""
    if not isinstance(raw, Mapping):
        raise _bad("")
    problems: list[dict[str, str]] = []
    domain = raw.get("domain")
    wanted = " ".join(domain.split()).casefold() if isinstance(domain, str) else None
    # Import files and phones may differ in case or spacing from the list.
    match = next((d for d in domains if d.casefold() == wanted), None)
    if match is None:  # the wrong value goes along: an import names it beside the allowed ones
        problems.append({"field": "domain", "code": "invalid_domain", "value": _shown(domain)})
    fields: dict[str, str] = {"domain": match or ""}
    for field, limit, required, allowed in (
        ("kwartaal", 2, False, KWARTALEN),
        ("doelgroep", 20, False, DOELGROEPEN),
        ("onderwerp", MAX_ONDERWERP, True, ()),
        ("leervorm", MAX_LEERVORM, False, ()),
    ):
        value = raw.get(field)
        try:
            text = _text(value, limit, required, field)
        except ActivityError:
            problems.append(_wrong(field, value))
            continue
        text = text.upper() if field == "kwartaal" else text.lower() if allowed else text
        if allowed and text and text not in allowed:
            problems.append(_wrong(field, value))
        fields[field] = text
    if problems:
        code = "invalid_domain" if problems[0]["code"] == "invalid_domain" else "invalid_card"
        raise ActivityError(code, problems)
    return {name: fields[name] for name in FIELDS}


def proposal_key(player: str, fields: Mapping[str, str]) -> str:
    """A proposal's key: the player and its content (a changed proposal is a new one)."""
    digest = hashlib.sha256("\x1f".join(fields.get(f, "") for f in FIELDS).encode()).hexdigest()[
        :10
    ]
    return f"{player}.{digest}"


def check_proposals(raw: Any, domains: Sequence[str]) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        raise ActivityError("bad_frame")
    if len(raw) > MAX_PROPOSALS:
        raise ActivityError("too_many_proposals")
    out: list[dict[str, str]] = []
    for item in raw:
        fields = check_fields(item, domains)
        if fields not in out:  # the same card twice is one proposal
            out.append(fields)
    return out


# ---- import --------------------------------------------------------------------------------------


def _row_error(row: int, field: str, code: str) -> dict[str, Any]:
    return {"row": row, "field": field, "code": code}


def _normalise_keys(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = ALIASES.get(str(key).strip().casefold().replace(" ", "_"))
        if name is not None:
            out[name] = value
    return out


def _check_rows(rows: Sequence[Mapping[str, Any]], domains: Sequence[str]) -> list[dict[str, str]]:
    cards: list[dict[str, str]] = []
    errors: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=1):
        try:
            cards.append(check_fields(_normalise_keys(row), domains))
        except ActivityError as exc:  # every wrong field of the row, each with its own code
            for detail in exc.details or [{}]:
                error = _row_error(
                    number, str(detail.get("field", "")), str(detail.get("code", exc.code))
                )
                if "value" in detail:
                    error["value"] = detail["value"]
                errors.append(error)
    if errors:
        raise ActivityError("invalid_import", errors)
    if not cards:
        raise ActivityError("invalid_import", [_row_error(0, "", "empty")])
    return cards


def parse_cards_file(raw: bytes, media: str, domains: Sequence[str]) -> list[dict[str, str]]:
    """The cards of an uploaded JSON or CSV file; ActivityError("invalid_import", errors) with
    every wrong row otherwise. JSON when the media type says so or the text starts with `[`
    or `{`; CSV otherwise."""
    if len(raw) > MAX_UPLOAD:
        raise ActivityError("too_large")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ActivityError("invalid_import", [_row_error(0, "", "not_utf8")]) from None
    stripped = text.lstrip()
    if "json" in media or stripped.startswith(("[", "{")):
        return _check_rows(_json_rows(stripped), domains)
    return _check_rows(_csv_rows(text), domains)


def _json_rows(text: str) -> list[Mapping[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError:
        raise ActivityError("invalid_import", [_row_error(0, "", "not_json")]) from None
    if isinstance(data, dict):
        data = data.get("cards")
    if not isinstance(data, list):
        raise ActivityError("invalid_import", [_row_error(0, "cards", "not_a_list")])
    rows: list[Mapping[str, Any]] = []
    errors = []
    for number, item in enumerate(data, start=1):
        if isinstance(item, dict):
            rows.append(item)
        else:
            errors.append(_row_error(number, "", "invalid_card"))
    if errors:
        raise ActivityError("invalid_import", errors)
    return rows


def _csv_rows(text: str) -> list[Mapping[str, Any]]:
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = [r for r in reader if any(cell.strip() for cell in r)]
    if not rows:
        raise ActivityError("invalid_import", [_row_error(0, "", "empty")])
    columns = [ALIASES.get(c.strip().casefold().replace(" ", "_"), "") for c in rows[0]]
    missing = [f for f in ("domain", "onderwerp") if f not in columns]
    if missing:
        raise ActivityError("invalid_import", [_row_error(0, f, "missing_column") for f in missing])
    out: list[Mapping[str, Any]] = []
    for row in rows[1:]:
        out.append({col: cell for col, cell in zip(columns, row, strict=False) if col})
    return out
