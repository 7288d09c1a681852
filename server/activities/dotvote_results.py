"""The dotvote's outcome: totals, the ranking with ties, the cut line, the minority; the export as
JSON, CSV and Markdown (the scholingsplan); the team's history record (pure)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from server.activities.base import ActivityError
from server.activities.dotvote_cards import Card
from server.activities.quiz_export import safe_cell

DIALECTS = ("rfc4180", "excel-nl")
Votes = Mapping[str, Mapping[str, int]]  # player → card id → stickers
MAX_NOTE = 200


@dataclass(frozen=True)
class Cut:
    mode: str = "top"  # "top": ranked K or better; "min": at least N stickers
    value: int = 3

    def as_dict(self) -> dict[str, int]:
        return {self.mode: self.value}


@dataclass(frozen=True)
class Outcome:
    """Everything the result shows, derived from the cards, the placements and the cut."""

    totals: dict[str, int]
    voters: dict[str, int]  # card id → people with a sticker on it
    ranking: list[dict[str, Any]]  # {card_id, rank, stickers, voters, prioritised}
    prioritised: frozenset[str]
    tie: bool
    minority: dict[str, list[str]]  # player → their cards below the cut (card order)


def tally(cards: Sequence[Card], votes: Votes) -> tuple[dict[str, int], dict[str, int]]:
    """Stickers and people per card (every card, 0 included; stickers on unknown cards are
    ignored)."""
    totals = {c.id: 0 for c in cards}
    voters = {c.id: 0 for c in cards}
    for placement in votes.values():
        for card, count in placement.items():
            if card in totals and count > 0:
                totals[card] += count
                voters[card] += 1
    return totals, voters


def outcome(cards: Sequence[Card], votes: Votes, cut: Cut) -> Outcome:
    totals, voters = tally(cards, votes)
    order = sorted(range(len(cards)), key=lambda i: (-totals[cards[i].id], i))
    ranking: list[dict[str, Any]] = []
    rank, previous = 0, None
    for place, i in enumerate(order, start=1):
        card = cards[i]
        if totals[card.id] != previous:
            rank, previous = place, totals[card.id]
        ranking.append({"card_id": card.id, "rank": rank, "stickers": totals[card.id]})
    if cut.mode == "top":
        chosen = {r["card_id"] for r in ranking if r["rank"] <= cut.value and r["stickers"] > 0}
        tie = len(chosen) > cut.value
    else:
        chosen = {r["card_id"] for r in ranking if r["stickers"] >= max(1, cut.value)}
        tie = False
    for row in ranking:
        row["voters"] = voters[row["card_id"]]
        row["prioritised"] = row["card_id"] in chosen
    index = {c.id: i for i, c in enumerate(cards)}
    minority: dict[str, list[str]] = {}
    for player, placement in votes.items():
        below = [
            card
            for card, count in placement.items()
            if count > 0 and card in index and card not in chosen
        ]
        if below:
            minority[player] = sorted(below, key=index.__getitem__)
    return Outcome(totals, voters, ranking, frozenset(chosen), tie, minority)


# ---- export --------------------------------------------------------------------------------------


def export_data(
    *,
    title: str,
    lang: str,
    phase: str,
    stickers: int,
    cap: int,
    domains: Sequence[str],
    cards: Sequence[Card],
    votes: Votes,
    cut: Cut | None,
    owners: Mapping[str, str],
    answers: Mapping[str, str],
    names: Mapping[str, str],
    show_names: bool,
    team: str = "",
    date: float | None = None,
) -> dict[str, Any]:
    """The facilitator's download. `cut` None (voting still open): nothing prioritised yet.
    `answers`: the minority answers (player → text), only those of players in the minority.
    `team` and `date` (Unix time of the summary) when known."""
    result = outcome(cards, votes, cut or Cut("min", 10**9))
    by_id = {c.id: c for c in cards}
    per_card: dict[str, list[dict[str, Any]]] = {c.id: [] for c in cards}
    minority = []
    for player, text in answers.items():
        below = result.minority.get(player)
        if not below:
            continue
        row: dict[str, Any] = {"cards": below, "answer": text}
        if show_names:
            row["name"] = names.get(player, "?")
        minority.append(row)
        for card in below:
            shown = {"text": text, **({"name": row["name"]} if show_names else {})}
            per_card[card].append(shown)
    ranking = []
    for row in result.ranking:
        shown_card = by_id[row["card_id"]]
        ranking.append(
            {
                "rank": row["rank"],
                "card_id": shown_card.id,
                **shown_card.fields(),
                "origin": shown_card.origin,
                "stickers": row["stickers"],
                "voters": row["voters"],
                "prioritised": row["prioritised"] and cut is not None,
                "owner": owners.get(shown_card.id, ""),
                "answers": per_card[shown_card.id],
            }
        )
    return {
        "title": title,
        "lang": lang,
        "phase": phase,
        "stickers": stickers,
        "cap": cap,
        "domains": list(domains),
        "cards": [c.as_dict() for c in cards],
        "cut": cut.as_dict() if cut is not None else None,
        "voters": sum(1 for p in votes.values() if any(n > 0 for n in p.values())),
        "tie": result.tie and cut is not None,
        "team": team,
        "date": date,
        "ranking": ranking,
        "minority": minority,
        "names_shown": show_names,
    }


WORDS: dict[str, dict[str, Any]] = {
    "nl": {
        "cards": [
            "rang",
            "domein",
            "onderwerp",
            "doelgroep",
            "kwartaal",
            "leervorm",
            "stickers",
            "stemmers",
            "geprioriteerd",
            "wie pakt het op",
            "herkomst",
        ],
        "answers": ["kaarten", "antwoord", "naam"],
        "yes": "ja",
        "no": "nee",
        "doelgroep": {"team": "Team", "kennisgroep": "Kennisgroep", "individueel": "Individueel"},
        "origin": {
            "content": "vooraf",
            "host": "begeleider",
            "phone": "deelnemer",
            "import": "import",
        },
        "md_themes": "Geprioriteerde thema's",
        "md_others": "Overige kaarten",
        "md_minority": "Wat de minderheid nodig heeft",
        "md_minority_note": "{n} in totaal, hieronder per kaart onder de grens: een antwoord "
        "staat bij elke kaart waarop de schrijver een sticker plakte.",
        "md_answers": "{n} antwoorden",
        "md_answer": "1 antwoord",
        "md_head": [
            "Domein",
            "Onderwerp",
            "Doelgroep",
            "Kwartaal",
            "Leervorm",
            "Stickers",
            "Wie pakt het op",
        ],
        "md_none": "Nog geen thema's geprioriteerd.",
        "md_voters": "{voters} deelnemers plakten stickers ({stickers} per persoon).",
        "md_stickers": "{n} stickers",
        "md_sticker": "1 sticker",
        "md_open": "Het stemmen loopt nog: dit is de stand tot nu toe.",
        "md_team": "Team: {team}",
        "md_date": "Datum: {date}",
        "md_tie": "Gelijke stand op de grens: bij een top {k} zijn {n} thema's gekozen.",
    },
    "en": {
        "cards": [
            "rank",
            "domain",
            "subject",
            "target_group",
            "quarter",
            "learning_form",
            "stickers",
            "voters",
            "prioritised",
            "taken_up_by",
            "origin",
        ],
        "answers": ["cards", "answer", "name"],
        "yes": "yes",
        "no": "no",
        "doelgroep": {
            "team": "Team",
            "kennisgroep": "Knowledge group",
            "individueel": "Individual",
        },
        "origin": {
            "content": "prepared",
            "host": "facilitator",
            "phone": "participant",
            "import": "import",
        },
        "md_themes": "Prioritised themes",
        "md_others": "Other cards",
        "md_minority": "What the minority needs",
        "md_minority_note": "{n} in all, below per card under the cut: an answer stands under "
        "every card its writer put a sticker on.",
        "md_answers": "{n} answers",
        "md_answer": "1 answer",
        "md_head": [
            "Domain",
            "Subject",
            "Target group",
            "Quarter",
            "Learning form",
            "Stickers",
            "Taken up by",
        ],
        "md_none": "No themes prioritised yet.",
        "md_voters": "{voters} participants placed stickers ({stickers} each).",
        "md_stickers": "{n} stickers",
        "md_sticker": "1 sticker",
        "md_open": "Voting is still open: these are the figures so far.",
        "md_team": "Team: {team}",
        "md_date": "Date: {date}",
        "md_tie": "A tie at the cut: {n} themes were chosen for a top {k}.",
    },
}


def _words(data: Mapping[str, Any]) -> dict[str, Any]:
    return WORDS.get(str(data.get("lang", "nl")), WORDS["nl"])


def results_csv(data: Mapping[str, Any], dialect: str = "rfc4180") -> str:
    """One row per card (best first), a blank row, then the minority answers. "rfc4180": commas;
    "excel-nl": semicolons. UTF-8 with BOM either way (Excel reads the accents right)."""
    if dialect not in DIALECTS:
        raise ActivityError("invalid_dialect")
    words = _words(data)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if dialect == "excel-nl" else ",", lineterminator="\r\n")
    writer.writerow(words["cards"])
    subject = {}
    for row in data["ranking"]:
        subject[row["card_id"]] = row["onderwerp"]
        writer.writerow(
            [
                row["rank"],
                safe_cell(row["domain"]),
                safe_cell(row["onderwerp"]),
                words["doelgroep"].get(row["doelgroep"], row["doelgroep"]),
                row["kwartaal"],
                safe_cell(row["leervorm"]),
                row["stickers"],
                row["voters"],
                words["yes"] if row["prioritised"] else words["no"],
                safe_cell(row["owner"]),
                words["origin"].get(row["origin"], row["origin"]),
            ]
        )
    writer.writerow([])
    writer.writerow(words["answers"])
    for answer in data["minority"]:
        writer.writerow(
            [
                safe_cell(" | ".join(subject.get(c, c) for c in answer["cards"])),
                safe_cell(answer["answer"]),
                safe_cell(answer.get("name", "")),
            ]
        )
    return "\ufeff" + out.getvalue()


_MD_INLINE = re.compile(r"([\\`*_#\[\]<>|])")
_MD_LIST_START = re.compile(r"^([-+])(?=\s|$)")
_MD_NUMBER_START = re.compile(r"^(\d+)([.)])(?=\s|$)")


def _md(text: object) -> str:
    """A participant's (or facilitator's) text as plain text in Markdown: one line, and every
    character Markdown reads as markup escaped — inline (`*`, `_`, `#`, backticks, brackets,
    `<`, `>`, the table's `|`) and a list marker at the start — so "# Kop" or "*vet*" in an
    answer shows as typed."""
    line = _MD_INLINE.sub(r"\\\1", " ".join(str(text).split()))
    line = _MD_LIST_START.sub(r"\\\1", line)
    return _MD_NUMBER_START.sub(r"\1\\\2", line)


try:
    from zoneinfo import ZoneInfo

    _ZONE: tzinfo = ZoneInfo("Europe/Amsterdam")
except Exception:  # no time zone data installed: the date in UTC
    _ZONE = UTC


def _md_date(date: float, lang: str) -> str:
    day = datetime.fromtimestamp(date, _ZONE).date()
    return day.isoformat() if lang == "en" else f"{day.day}-{day.month}-{day.year}"


def results_markdown(data: Mapping[str, Any]) -> str:
    """The elements for the scholingsplan: prioritised themes, the other cards, and what the
    minority needs, per card."""
    words = _words(data)
    lines = [f"# {_md(data['title'])}", ""]
    header = []
    if data.get("team"):
        header.append(words["md_team"].format(team=_md(data["team"])))
    if data.get("date"):
        header.append(words["md_date"].format(date=_md_date(float(data["date"]), data["lang"])))
    if header:
        lines += [" · ".join(header), ""]
    if data.get("phase") == "voting":
        lines += [f"_{words['md_open']}_", ""]
    lines += [words["md_voters"].format(voters=data["voters"], stickers=data["stickers"]), ""]
    themes = [r for r in data["ranking"] if r["prioritised"]]
    others = [r for r in data["ranking"] if not r["prioritised"]]
    lines += [f"## {words['md_themes']}", ""]
    if themes:
        head = words["md_head"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for r in themes:
            cells = [
                r["domain"],
                r["onderwerp"],
                words["doelgroep"].get(r["doelgroep"], r["doelgroep"]),
                r["kwartaal"],
                r["leervorm"],
                r["stickers"],
                r["owner"],
            ]
            lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
        top = (data.get("cut") or {}).get("top")
        if data.get("tie") and top:
            lines += ["", f"_{words['md_tie'].format(k=top, n=len(themes))}_"]
    else:
        lines.append(words["md_none"])
    lines.append("")
    if others:
        lines += [f"## {words['md_others']}", ""]
        for r in others:
            count = words["md_sticker" if r["stickers"] == 1 else "md_stickers"].format(
                n=r["stickers"]
            )
            lines.append(f"- {_md(r['onderwerp'])} ({_md(r['domain'])}): {count}")
        lines.append("")
    with_answers = [r for r in data["ranking"] if r["answers"]]
    if with_answers:
        lines += [f"## {words['md_minority']}", ""]
        # Each answer once in the count: under the cards it stands under more than once.
        count = len(data["minority"])
        given = words["md_answer"] if count == 1 else words["md_answers"].format(n=count)
        lines += [f"_{words['md_minority_note'].format(n=given)}_", ""]
        for r in with_answers:
            lines.append(f"### {_md(r['onderwerp'])} ({_md(r['domain'])})")
            lines.append("")
            for a in r["answers"]:
                who = f" — {_md(a['name'])}" if a.get("name") else ""
                lines.append(f"- {_md(a['text'])}{who}")
            lines.append("")
    return "\n".join(lines)


# ---- team history --------------------------------------------------------------------------------


def history_record(data: Mapping[str, Any], date: float, team: str, title: str) -> dict[str, Any]:
    """What the team keeps of a summary: the prioritised themes (with owner and whether they
    were taken up) and the other cards. `title`: the item's own ("" = none: each page shows the
    werkvorm's name in its own language)."""
    return {
        "date": date,
        "title": title,
        "team": team,
        "voters": data["voters"],
        "stickers": data["stickers"],
        "cut": data["cut"],
        "themes": [
            {
                "card_id": r["card_id"],
                "domain": r["domain"],
                "kwartaal": r["kwartaal"],
                "doelgroep": r["doelgroep"],
                "onderwerp": r["onderwerp"],
                "leervorm": r["leervorm"],
                "stickers": r["stickers"],
                "owner": r["owner"],
                "taken_up": False,
                "taken_up_note": "",
            }
            for r in data["ranking"]
            if r["prioritised"]
        ],
        "others": [
            {
                "card_id": r["card_id"],
                "domain": r["domain"],
                "onderwerp": r["onderwerp"],
                "stickers": r["stickers"],
            }
            for r in data["ranking"]
            if not r["prioritised"]
        ],
    }


def mark_taken_up(record: Mapping[str, Any], change: Mapping[str, Any]) -> dict[str, Any]:
    """`change` = {card_id, taken_up: bool, note?}: the record with that theme marked;
    ActivityError("invalid_history") for a wrong change, "not_found" for an unknown theme."""
    card, taken, note = change.get("card_id"), change.get("taken_up"), change.get("note", "")
    if note is None:
        note = ""
    if (
        not isinstance(card, str)
        or not isinstance(taken, bool)
        or not isinstance(note, str)
        or len(note) > MAX_NOTE
    ):
        raise ActivityError("invalid_history")
    themes = [dict(t) for t in record.get("themes", [])]
    for theme in themes:
        if theme.get("card_id") == card:
            theme["taken_up"] = taken
            theme["taken_up_note"] = " ".join(note.split())
            return {**record, "themes": themes}
    raise ActivityError("not_found")
