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
]


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
    for rank, (pid, score) in enumerate(ranking, start=1):
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


def results_csv(data: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for player in data["players"]:
        for a in player["answers"] or [{}]:
            correct = a.get("correct")
            writer.writerow(
                [
                    player["rank"],
                    safe_cell(player["name"]),
                    player["score"],
                    a.get("question", ""),
                    safe_cell(a.get("text", "")),
                    safe_cell(a.get("answer", "")),
                    "" if correct is None else ("ja" if correct else "nee"),
                    "" if a.get("time_ms") is None else a["time_ms"],
                    a.get("points", ""),
                    a.get("streak_bonus", ""),
                ]
            )
    return "\ufeff" + out.getvalue()
