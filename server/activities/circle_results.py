"""The kring's figures and export: per domain count, average and distribution; the CSV (pure)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from server.activities.base import ActivityError
from server.activities.quiz_export import safe_cell

GRADES = range(1, 11)
NAMED_GRADES = (9, 8, 7)  # "wie gaf een 7, een 8 of zelfs een 9?"
DIALECTS = ("rfc4180", "excel-nl")


@dataclass(frozen=True)
class Entry:
    domain: str
    grade: int
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "grade": self.grade, "reason": self.reason}


def display_average(total: int, count: int) -> float | None:
    """The mean rounded half up to one decimal, for the screen (7.25 → 7.3)."""
    if count == 0:
        return None
    exact = Decimal(total) / Decimal(count)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def domain_figures(
    domains: Sequence[str], entries: Mapping[str, Entry], names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Per domain (in the list's order): count, sum, exact and shown average, distribution over
    1–10, and the names per grade 9, 8, 7 (sorted). Stale entries count nowhere."""
    index = {d: i for i, d in enumerate(domains)}
    dist = [[0] * len(GRADES) for _ in domains]
    named: list[dict[int, list[str]]] = [{g: [] for g in NAMED_GRADES} for _ in domains]
    for player, entry in entries.items():
        i = index.get(entry.domain)
        if i is None:
            continue
        dist[i][entry.grade - 1] += 1
        if entry.grade in NAMED_GRADES:
            named[i][entry.grade].append(names.get(player, "?"))
    out = []
    for i, domain in enumerate(domains):
        count = sum(dist[i])
        total = sum(g * n for g, n in zip(GRADES, dist[i], strict=True))
        out.append(
            {
                "domain": domain,
                "count": count,
                "sum": total,
                "average": total / count if count else None,
                "shown": display_average(total, count),
                "distribution": dist[i],
                "named": [{"grade": g, "names": sorted(named[i][g])} for g in NAMED_GRADES],
            }
        )
    return out


def export_data(
    title: str,
    lang: str,
    phase: str,
    domains: Sequence[str],
    entries: Mapping[str, Entry],
    names: Mapping[str, str],
) -> dict[str, Any]:
    """Everyone's entry (with `valid`: its domain is still listed) and the figures per domain,
    with exact averages (and the sum, so nothing is lost to rounding)."""
    listed = set(domains)
    people = [
        {
            "name": names.get(p, "?"),
            "domain": e.domain,
            "grade": e.grade,
            "reason": e.reason,
            "valid": e.domain in listed,
        }
        for p, e in entries.items()
    ]
    return {
        "title": title,
        "lang": lang,
        "phase": phase,
        "domains": list(domains),
        "people": people,
        "per_domain": [
            {k: f[k] for k in ("domain", "count", "sum", "average", "distribution")}
            for f in domain_figures(domains, entries, names)
        ],
    }


def results_csv(data: Mapping[str, Any], dialect: str = "rfc4180") -> str:
    """Two tables, a blank line between: per person, then per domain. "rfc4180": commas,
    CRLF; "excel-nl": semicolons, decimal comma. UTF-8 with a BOM either way, as the other
    werkvormen' exports (a double-clicked file shows its accents right in Excel)."""
    if dialect not in DIALECTS:
        raise ActivityError("invalid_dialect")
    dutch = dialect == "excel-nl"
    words = CSV_WORDS.get(str(data.get("lang", "nl")), CSV_WORDS["nl"])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if dutch else ",", lineterminator="\r\n")

    def number(figure: Mapping[str, Any]) -> str:
        """The average to one decimal, rounded half up as on the projector (6.7, not
        6.666666666666667); the JSON export keeps the exact one and the sum."""
        shown = display_average(int(figure["sum"]), int(figure["count"]))
        if shown is None:
            return ""
        text = f"{shown:.1f}"
        return text.replace(".", ",") if dutch else text

    writer.writerow(words["people"])
    for p in data["people"]:
        writer.writerow(
            [
                safe_cell(p["name"]),
                safe_cell(p["domain"]),
                p["grade"],
                safe_cell(p["reason"]),
                words["yes"] if p["valid"] else words["no"],
            ]
        )
    writer.writerow([])
    writer.writerow([*words["domains"], *(str(g) for g in GRADES)])
    for d in data["per_domain"]:
        writer.writerow([safe_cell(d["domain"]), d["count"], number(d), *d["distribution"]])
    return "\ufeff" + out.getvalue()


CSV_WORDS: dict[str, dict[str, Any]] = {
    "nl": {
        "people": ["naam", "domein", "cijfer", "toelichting", "geldig"],
        "domains": ["domein", "aantal", "gemiddelde"],
        "yes": "ja",
        "no": "nee",
    },
    "en": {
        "people": ["name", "domain", "grade", "reason", "valid"],
        "domains": ["domain", "count", "average"],
        "yes": "yes",
        "no": "no",
    },
}
