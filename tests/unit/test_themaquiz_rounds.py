""" "Nog een keer": every finished round stays in the room document once, so the document grows
by about one round per restart, not by doubling."""

from __future__ import annotations

import itertools
from typing import Any

from server.activities import quiz as q
from server.activities.base import Context
from server.activities.themaquiz import THEMAQUIZ
from server.hub.room import pack

QUIZ: dict[str, Any] = {
    "title": "Test",
    "questions": [
        {
            "id": "q1",
            "type": "multiple_choice",
            "text": "Wie?",
            "time_limit": 20,
            "points": 1000,
            "options": [{"text": "A", "correct": True}, {"text": "B"}],
        }
    ],
}
PLAYERS = [f"p{i}" for i in range(20)]


def play_round(state: q.QuizState, now: float) -> None:
    names = {p: f"Speler {p}" for p in PLAYERS}
    for action in ("start", "close", "next"):
        ctx = Context(now=now, players=PLAYERS, names=names)
        THEMAQUIZ.command(state, QUIZ, action, ctx)
        now += 1


def test_restarts_keep_each_round_once() -> None:
    state = THEMAQUIZ.new_state(QUIZ)
    sizes = []
    for n in range(8):
        play_round(state, 1000.0 + 100 * n)
        assert state.phase == q.PODIUM
        ctx = Context(now=1050.0 + 100 * n, players=PLAYERS, names={p: p for p in PLAYERS})
        THEMAQUIZ.command(state, QUIZ, "restart", ctx)
        sizes.append(len(pack(THEMAQUIZ.encode(state))))
    assert [p["state"]["round"] for p in state.past] == list(range(1, 9))
    assert all(p["state"]["past"] == [] for p in state.past)
    # Linear: the eighth restart adds what the second did (a doubling would be ~64x).
    growth = [b - a for a, b in itertools.pairwise(sizes)]
    assert max(growth) < 1.5 * min(growth), sizes
    # And every round is still exported, once.
    exported = THEMAQUIZ.export(state, QUIZ, {p: p for p in PLAYERS}, {}, "nl")
    assert len(exported["rounds"]) == 9
