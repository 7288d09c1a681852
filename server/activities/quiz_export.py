"""Results of a room as rows: per player per question, and the final ranking (pure)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from server.activities import quiz as q

CSV_COLUMNS = [
    "rank",
    "player",
    "total_score",
    "question",
    "question_text",
    "answer",
    "correct",
    "time_ms",
    "points",
    "streak_bonus",
    "outcome",
    "round",
]
# The header row: a Dutch room's spreadsheet says what its columns hold in Dutch, an English
# room's has the column names above.
CSV_HEADERS: dict[str, list[str]] = {
    "nl": [
        "plek",
        "naam",
        "totaal",
        "vraag",
        "vraagtekst",
        "antwoord",
        "goed",
        "tijd (ms)",
        "punten",
        "reeksbonus",
        "uitkomst",
        "ronde",
    ],
    "en": CSV_COLUMNS,
}

# What the `outcome` column (see quiz.outcome) and the `correct` column (True/False) say; JSON
# carries the codes and booleans themselves.
OUTCOME_WORDS: dict[str, dict[str | bool, str]] = {
    "nl": {
        "correct": "goed",
        "near": "bijna",
        "wrong": "fout",
        "none": "geen antwoord",
        "poll": "stem",
        True: "ja",
        False: "nee",
    },
    "en": {
        "correct": "right",
        "near": "close",
        "wrong": "wrong",
        "none": "no answer",
        "poll": "vote",
        True: "yes",
        False: "no",
    },
}

# CSV dialects: RFC 4180 (commas) for tools; "excel-nl" for a spreadsheet set to Dutch, which
# splits on semicolons and reads a decimal comma.
DIALECTS = ("rfc4180", "excel-nl")


def _answer_text(question: Mapping[str, Any], result: q.Result, lang: str) -> str:
    if not result.answered:
        return ""
    if question["type"] == "estimate":
        return f"{result.value:.15g}" if result.value is not None else ""
    if question["type"] == "true_false":
        labels = {"nl": ["Waar", "Niet waar"], "en": ["True", "False"]}.get(
            lang, ["Waar", "Niet waar"]
        )
        return labels[result.choice] if result.choice in (0, 1) else ""
    options = question.get("options", [])
    if result.choice is not None and 0 <= result.choice < len(options):
        return str(options[result.choice]["text"])
    return ""


def results(
    state: q.QuizState, quiz: q.Quiz, names: Mapping[str, str], lang: str = "nl"
) -> dict[str, Any]:
    ranking = q.ranking(state)
    players = []
    for rank, (pid, score) in zip(q.places(ranking), ranking, strict=True):
        answers = []
        for index, outcome in enumerate(state.results):
            result = outcome.get(pid)
            if result is None:
                continue
            question = quiz["questions"][index]
            answers.append(
                {
                    "question": index + 1,
                    "text": question["text"],
                    "answer": _answer_text(question, result, lang),
                    "correct": result.correct,
                    "time_ms": result.ms if result.answered else None,
                    "points": result.points,
                    "streak_bonus": result.bonus,
                    "outcome": q.outcome(question, result),
                    "value": result.value if question["type"] == "estimate" else None,
                }
            )
        players.append(
            {
                "rank": rank,
                "id": pid,
                "name": names.get(pid, "?"),
                "score": score.score,
                "correct": score.correct,
                "time_ms": score.time_ms,
                "answers": answers,
            }
        )
    return {
        "quiz": {
            "id": quiz.get("id"),
            "title": quiz["title"],
            "theme": quiz.get("theme", ""),
            "author": quiz.get("author", ""),
        },
        "round": state.round,
        "phase": state.phase,
        "questions_played": len(state.results),
        "ranking": [{"rank": p["rank"], "name": p["name"], "score": p["score"]} for p in players],
        "players": players,
    }


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def with_rounds(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The export of a room: the current (last) round's fields at the top, as before, and
    every round played in this room, oldest first, under `rounds`."""
    return {**rounds[-1], "rounds": rounds}


def results_csv(data: Mapping[str, Any], dialect: str = "rfc4180", lang: str = "nl") -> str:
    """One row per player per question (a player without answers: one row), for every round
    in `data["rounds"]` (or `data` itself when it has none), UTF-8 with a BOM."""
    out = io.StringIO()
    dutch_excel = dialect == "excel-nl"
    writer = csv.writer(out, delimiter=";" if dutch_excel else ",")
    words = OUTCOME_WORDS.get(lang, OUTCOME_WORDS["nl"])
    writer.writerow(CSV_HEADERS.get(lang, CSV_HEADERS["nl"]))
    for round_data in data.get("rounds") or [data]:
        for player in round_data["players"]:
            for a in player["answers"] or [{}]:
                correct = a.get("correct")
                answer = a.get("answer", "")
                if dutch_excel and a.get("value") is not None:
                    answer = answer.replace(".", ",")  # an estimate: Dutch decimal comma
                writer.writerow(
                    [
                        player["rank"],
                        safe_cell(player["name"]),
                        player["score"],
                        a.get("question", ""),
                        safe_cell(a.get("text", "")),
                        safe_cell(answer),
                        "" if correct is None else words[bool(correct)],
                        "" if a.get("time_ms") is None else a["time_ms"],
                        a.get("points", ""),
                        a.get("streak_bonus", ""),
                        words.get(a["outcome"], a["outcome"]) if "outcome" in a else "",
                        round_data.get("round", ""),
                    ]
                )
    return "\ufeff" + out.getvalue()
