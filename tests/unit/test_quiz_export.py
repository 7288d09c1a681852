"""Results export (server/activities/quiz_export.py): the ranking, per-answer rows and the CSV."""

from __future__ import annotations

import copy
import csv
import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.activities import quiz as q
from server.activities.quiz_export import (
    CSV_COLUMNS,
    CSV_HEADERS,
    results,
    results_csv,
    safe_cell,
    with_rounds,
)

T0 = 1_700_000_000.0


def make_quiz(*questions: dict) -> dict:
    qs = []
    for i, question in enumerate(questions):
        question = copy.deepcopy(question)
        question["id"] = f"q{i}"
        qs.append(question)
    return {
        "format": 1,
        "id": "export-test",
        "title": "Exporttest",
        "theme": "Thema",
        "author": "Auteur",
        "language": "nl",
        "questions": qs,
    }


MC = {
    "id": "",
    "type": "multiple_choice",
    "text": "Meerkeuze",
    "time_limit": 20,
    "points": 1000,
    "options": [{"text": f"optie {i}", "correct": i == 0} for i in range(4)],
}
TF = {
    "id": "",
    "type": "true_false",
    "text": "Waar of niet",
    "time_limit": 20,
    "points": 1000,
    "answer": True,
}
POLL = {
    "id": "",
    "type": "poll",
    "text": "Peiling",
    "time_limit": 20,
    "points": 0,
    "options": [{"text": f"keuze {i}"} for i in range(3)],
}
EST = {
    "id": "",
    "type": "estimate",
    "text": "Schatting",
    "time_limit": 20,
    "points": 1000,
    "estimate": {"answer": 50, "min": 0, "max": 100, "unit": "%", "tolerance": 5},
}

NAMES = {"pa": "Anna", "pb": "Bram", "pc": 'Cas, "de" Vries'}
# per question: player → (seconds after opening, choice or value)
PLAN: list[dict[str, tuple[float, Any]]] = [
    {"pa": (0, 0), "pb": (5, 1)},  # MC: Anna right instantly, Bram wrong, Cas silent
    {"pa": (10, 0), "pb": (0, 0), "pc": (0, 1)},  # TF: Anna & Bram right, Cas wrong
    {"pa": (3, 2), "pc": (4, 0)},  # poll: Bram silent
    {"pa": (0, 50), "pb": (0, 67.5)},  # estimate: Anna exact, Bram half-way off
]


def play(
    quiz: dict, plan: list[dict[str, tuple[float, Any]]], names: dict[str, str], finish: bool = True
) -> q.QuizState:
    state = q.start(q.QuizState(), quiz, T0)
    for index, moves in enumerate(plan):
        question = quiz["questions"][index]
        answers: dict[str, q.Answer] = {}
        for player, (delay, given_) in moves.items():
            choice, value = (None, given_) if question["type"] == "estimate" else (given_, None)
            answers[player] = q.accept_answer(
                state, quiz, answers, player, index, choice, value, state.opened_at + delay
            )
        q.close(state, quiz, answers, list(names), state.opened_at + question["time_limit"])
        if index + 1 < len(plan) or finish:
            q.next_step(state, quiz, state.opened_at + 30)
    return state


@pytest.fixture
def played() -> tuple[q.QuizState, dict]:
    quiz = make_quiz(MC, TF, POLL, EST)
    return play(quiz, PLAN, NAMES), quiz


def test_results_ranking_and_totals(played: tuple[q.QuizState, dict]) -> None:
    state, quiz = played
    data = results(state, quiz, NAMES)
    # Anna 1000 + (750 + 100 streak) + 0 + (1000 + 200 streak, the poll kept it) = 3050
    # Bram 0 + 1000 + 0 + 500 (half closeness, no streak) = 1500; Cas 0
    assert data["ranking"] == [
        {"rank": 1, "name": "Anna", "score": 3050},
        {"rank": 2, "name": "Bram", "score": 1500},
        {"rank": 3, "name": 'Cas, "de" Vries', "score": 0},
    ]
    assert [p["id"] for p in data["players"]] == ["pa", "pb", "pc"]
    assert [p["correct"] for p in data["players"]] == [3, 1, 0]
    assert data["quiz"] == {
        "id": "export-test",
        "title": "Exporttest",
        "theme": "Thema",
        "author": "Auteur",
    }
    assert data["round"] == 1
    assert data["phase"] == q.PODIUM
    assert data["questions_played"] == 4
    for player in data["players"]:
        assert player["score"] == sum(a["points"] + a["streak_bonus"] for a in player["answers"])


def test_results_rows_per_answer(played: tuple[q.QuizState, dict]) -> None:
    state, quiz = played
    players = {p["id"]: p for p in results(state, quiz, NAMES)["players"]}
    assert players["pa"]["answers"] == [
        {
            "question": 1,
            "text": "Meerkeuze",
            "answer": "optie 0",
            "correct": True,
            "time_ms": 0,
            "points": 1000,
            "streak_bonus": 0,
            "outcome": "correct",
            "value": None,
        },
        {
            "question": 2,
            "text": "Waar of niet",
            "answer": "Waar",
            "correct": True,
            "time_ms": 10_000,
            "points": 750,
            "streak_bonus": 100,
            "outcome": "correct",
            "value": None,
        },
        {
            "question": 3,
            "text": "Peiling",
            "answer": "keuze 2",
            "correct": None,
            "time_ms": 3_000,
            "points": 0,
            "streak_bonus": 0,
            "outcome": "poll",
            "value": None,
        },
        {
            "question": 4,
            "text": "Schatting",
            "answer": "50",
            "correct": True,
            "time_ms": 0,
            "points": 1000,
            "streak_bonus": 200,
            "outcome": "correct",
            "value": 50.0,
        },
    ]
    bram = players["pb"]["answers"]
    assert bram[0]["answer"] == "optie 1" and bram[0]["correct"] is False
    assert bram[2] == {
        "question": 3,
        "text": "Peiling",
        "answer": "",
        "correct": None,
        "time_ms": None,
        "points": 0,
        "streak_bonus": 0,
        "outcome": "none",
        "value": None,
    }
    assert bram[3]["answer"] == "67.5" and bram[3]["correct"] is False
    assert bram[3]["outcome"] == "near"  # bijna: not correct, but points
    assert bram[3]["points"] == 500
    cas = players["pc"]["answers"]
    assert cas[0] == {
        "question": 1,
        "text": "Meerkeuze",
        "answer": "",
        "correct": False,
        "time_ms": None,
        "points": 0,
        "streak_bonus": 0,
        "outcome": "none",
        "value": None,
    }
    assert cas[1]["answer"] == "Niet waar" and cas[1]["correct"] is False


def test_true_false_labels_follow_the_language(played: tuple[q.QuizState, dict]) -> None:
    state, quiz = played
    players = {p["id"]: p for p in results(state, quiz, NAMES, lang="en")["players"]}
    assert players["pa"]["answers"][1]["answer"] == "True"
    assert players["pc"]["answers"][1]["answer"] == "False"


def test_the_csv_words_follow_the_language(played: tuple[q.QuizState, dict]) -> None:
    """An English room's CSV says yes/no and right/wrong, a Dutch one ja/nee and goed/fout."""
    state, quiz = played
    for lang, yes, no, right in (("en", "yes", "no", "right"), ("nl", "ja", "nee", "goed")):
        header, *rows = _parse(results_csv(results(state, quiz, NAMES, lang=lang), lang=lang))
        assert header[:3] == (
            ["rank", "player", "total_score"] if lang == "en" else ["plek", "naam", "totaal"]
        )
        assert {row[6] for row in rows} == {yes, no, ""}, (lang, rows)
        assert right in {row[10] for row in rows}


def _parse(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    assert not text[1:].startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def test_csv_header_bom_and_one_row_per_player_per_question(
    played: tuple[q.QuizState, dict],
) -> None:
    state, quiz = played
    text = results_csv(results(state, quiz, NAMES))
    assert "\r\n" in text  # RFC 4180 line ends
    rows = _parse(text)
    header, body = rows[0], rows[1:]
    assert header == CSV_HEADERS["nl"] and len(header) == len(CSV_COLUMNS)
    assert all(len(r) == len(header) for r in body)
    assert len(body) == len(NAMES) * len(quiz["questions"])
    col = {name: i for i, name in enumerate(CSV_COLUMNS)}
    seen = {(r[col["player"]], r[col["question"]]) for r in body}
    assert seen == {(n, str(i)) for n in NAMES.values() for i in range(1, 5)}
    by = {(r[col["player"]], int(r[col["question"]])): r for r in body}
    anna_mc = by[("Anna", 1)]
    assert (anna_mc[col["rank"]], anna_mc[col["total_score"]]) == ("1", "3050")
    assert anna_mc[col["correct"]] == "ja"
    assert anna_mc[col["answer"]] == "optie 0"
    assert by[("Bram", 1)][col["correct"]] == "nee"
    assert by[('Cas, "de" Vries', 1)][col["correct"]] == "nee"  # silent counts as wrong
    assert by[('Cas, "de" Vries', 1)][col["time_ms"]] == ""
    for name in NAMES.values():
        assert by[(name, 3)][col["correct"]] == ""  # a poll is neither right nor wrong
        assert by[(name, 3)][col["points"]] == "0"
    assert by[("Anna", 2)][col["streak_bonus"]] == "100"
    assert by[("Anna", 2)][col["time_ms"]] == "10000"


def test_ties_rank_by_join_order_not_by_name() -> None:
    quiz = make_quiz(MC)
    names = {"p0000001x": "Zoë", "p0000002y": "Anna", "p0000003z": "Bram"}
    state = q.start(q.QuizState(), quiz, T0)
    q.close(state, quiz, {}, list(names), T0 + 20)  # nobody answers: all tied
    assert [r["name"] for r in results(state, quiz, names)["ranking"]] == ["Zoë", "Anna", "Bram"]


def test_csv_empty_room_has_only_the_header() -> None:
    quiz = make_quiz(MC)
    rows = _parse(results_csv(results(q.QuizState(), quiz, {})))
    assert rows == [CSV_HEADERS["nl"]]


def test_late_joiner_rows_only_for_questions_played() -> None:
    quiz = make_quiz(MC, MC)
    state = q.start(q.QuizState(), quiz, T0)
    q.close(state, quiz, {}, ["pa"], T0 + 1)
    q.next_step(state, quiz, T0 + 2)
    answers = {"pb": q.accept_answer(state, quiz, {}, "pb", 1, 0, None, T0 + 2)}
    q.close(state, quiz, answers, ["pa", "pb"], T0 + 3)
    names = {"pa": "Anna", "pb": "Bram"}
    data = results(state, quiz, names)
    assert [p["name"] for p in data["players"]] == ["Bram", "Anna"]
    assert [a["question"] for a in data["players"][0]["answers"]] == [2]
    rows = _parse(results_csv(data))[1:]
    assert sorted((r[1], r[3]) for r in rows) == [("Anna", "1"), ("Anna", "2"), ("Bram", "2")]


@pytest.mark.parametrize("guess", [1_234_567.0, 1_999_999.0, 0.125, 12.5, 1_000_000.0])
def test_estimate_guess_is_exported_exactly(guess: float) -> None:
    """The facilitator's export must show what the player guessed, not a rounded number."""
    quiz = make_quiz(
        {
            **EST,
            "estimate": {
                "answer": 1_500_000,
                "min": 0,
                "max": 2_000_000,
                "unit": "",
                "tolerance": 100_000,
            },
        }
    )
    state = q.start(q.QuizState(), quiz, T0)
    answers = {"pa": q.accept_answer(state, quiz, {}, "pa", 0, None, guess, T0 + 1)}
    q.close(state, quiz, answers, ["pa"], T0 + 2)
    data = results(state, quiz, {"pa": "Anna"})
    shown = data["players"][0]["answers"][0]["answer"]
    assert float(shown) == guess, shown
    row = _parse(results_csv(data))[1]
    assert float(row[5]) == guess, row[5]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(
        st.text(min_size=1, max_size=24).filter(lambda s: s.strip()),
        min_size=1,
        max_size=6,
        unique=True,
    ),
    data=st.data(),
)
def test_csv_round_trips_names_and_rows(names: list[str], data: st.DataObject) -> None:
    quiz = make_quiz(MC, TF, POLL)
    ids = {f"p{i:07d}": n for i, n in enumerate(names)}
    plan = []
    for question in quiz["questions"]:
        n = 2 if question["type"] == "true_false" else len(question["options"])
        moves = {}
        for p in ids:
            if data.draw(st.booleans()):
                moves[p] = (data.draw(st.floats(0, 20)), data.draw(st.integers(0, n - 1)))
        plan.append(moves)
    state = play(quiz, plan, ids)
    exported = results(state, quiz, ids)
    rows = _parse(results_csv(exported))
    header, body = rows[0], rows[1:]
    assert header == CSV_HEADERS["nl"]
    assert len(body) == len(ids) * 3
    col = {name: i for i, name in enumerate(CSV_COLUMNS)}
    expected_rows = [
        (str(p["rank"]), safe_cell(p["name"]), str(p["score"]), str(a["question"]))
        for p in exported["players"]
        for a in p["answers"]
    ]
    got_rows = [
        (r[col["rank"]], r[col["player"]], r[col["total_score"]], r[col["question"]]) for r in body
    ]
    assert got_rows == expected_rows
    for r in body:
        kind = quiz["questions"][int(r[col["question"]]) - 1]["type"]
        assert r[col["correct"]] in (("",) if kind == "poll" else ("ja", "nee"))
    # ranks in the export follow the scores
    scores = [p["score"] for p in exported["players"]]
    assert scores == sorted(scores, reverse=True)


def test_csv_cells_that_look_like_formulas_are_defused() -> None:
    from server.activities.quiz_export import results_csv

    data = {
        "players": [
            {
                "rank": 1,
                "name": '=HYPERLINK("http://x")',
                "score": 10,
                "answers": [
                    {
                        "question": 1,
                        "text": "+1 of -1?",
                        "answer": "@SUM(A1)",
                        "correct": True,
                        "time_ms": 5,
                        "points": 10,
                        "streak_bonus": 0,
                    }
                ],
            },
            {"rank": 2, "name": "Anna", "score": 0, "answers": []},
        ]
    }
    rows = list(csv.reader(io.StringIO(results_csv(data).lstrip("\ufeff"))))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    assert rows[1][4] == "'+1 of -1?" and rows[1][5] == "'@SUM(A1)"
    assert rows[2][1] == "Anna"


# ---- every round, and a CSV for Dutch Excel (issue 13, points 8 and 9) ---------------------------
def test_every_round_is_in_the_export_and_the_csv(played: tuple[q.QuizState, dict]) -> None:
    state, quiz = played
    first = results(state, quiz, NAMES)
    again = q.restart(state)
    second = results(again, quiz, {"pa": "Anna"})
    data = with_rounds([first, second])
    assert [r["round"] for r in data["rounds"]] == [1, 2]
    assert data["round"] == 2 and data["rounds"][0]["players"][0]["name"] == "Anna"
    rows = _parse(results_csv(data))
    col = {name: i for i, name in enumerate(CSV_COLUMNS)}
    rounds = [r[col["round"]] for r in rows[1:]]
    assert rounds.count("1") == 3 * 4  # round 2 has not been played yet: no rows
    assert data["rounds"][1]["players"] == []


def test_csv_for_dutch_excel_uses_semicolons_and_decimal_commas(
    played: tuple[q.QuizState, dict],
) -> None:
    state, quiz = played
    text = results_csv(with_rounds([results(state, quiz, NAMES)]), "excel-nl")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    col = {name: i for i, name in enumerate(CSV_COLUMNS)}
    assert len(rows[0]) == len(CSV_COLUMNS)
    bram = [r for r in rows[1:] if r[col["player"]] == "Bram"]
    assert bram[3][col["answer"]] == "67,5" and bram[3][col["outcome"]] == "bijna"
    assert any(r[col["player"]] == 'Cas, "de" Vries' for r in rows)  # quoted, not split
