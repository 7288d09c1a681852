"""What each role sees of a quiz at one moment: plain dicts, built without I/O and without leaks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from server.activities import quiz as q
from server.activities import scoring

TRUE_FALSE = {"nl": ["Waar", "Niet waar"], "en": ["True", "False"]}
SCOREBOARD_SIZE = 10
LOBBY_NAMES = 60
HOST_PLAYERS = 500
CLOSEST_NAMES = 10


@dataclass
class RoomFacts:
    """Everything outside the quiz state that a view shows."""

    code: str
    join_url: str
    team: str
    locked: bool
    lang: str
    names: Mapping[str, str]  # player id → name, in join order
    online: Set[str]
    answers: Mapping[str, q.Answer]  # answers to the open/last question
    bokaal: Mapping[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # q.ranking(state), when the caller already sorted it (one sort per render, not per role)
    ranking: Sequence[tuple[str, q.Score]] | None = None
    # While a question is open: the players it waits for (connected, answered, or within their
    # reconnect grace), the same set that decides the close when everybody answered.
    expected: Set[str] | None = None
    removed: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # kicked: id → name


def _ranking(state: q.QuizState, facts: RoomFacts) -> Sequence[tuple[str, q.Score]]:
    return facts.ranking if facts.ranking is not None else q.ranking(state)


def _question(state: q.QuizState, quiz: q.Quiz, facts: RoomFacts, now: float) -> dict[str, Any]:
    question = quiz["questions"][state.index]
    kind = question["type"]
    out: dict[str, Any] = {
        "index": state.index,
        "number": state.index + 1,
        "total": len(quiz["questions"]),
        "type": kind,
        "text": question["text"],
        "time_limit": question["time_limit"],
        "points": question["points"],
        "remaining_ms": max(0, round((state.deadline - now) * 1000))
        if state.phase == q.QUESTION
        else 0,
    }
    if kind == "true_false":
        out["options"] = TRUE_FALSE.get(facts.lang, TRUE_FALSE["nl"])
    elif kind == "estimate":
        est = question["estimate"]
        out["options"] = []
        out.update(min=est["min"], max=est["max"], unit=est.get("unit", ""))
        if est.get("unit_one"):
            out["unit_one"] = est["unit_one"]
    else:
        out["options"] = [o["text"] for o in question["options"]]
    return out


def _reveal(state: q.QuizState, quiz: q.Quiz, facts: RoomFacts) -> dict[str, Any]:
    question = quiz["questions"][state.index]
    kind = question["type"]
    answers = facts.answers
    out: dict[str, Any] = {
        "correct": q.correct_options(question),
        "toelichting": question.get("toelichting", ""),
        "learn_more": list(question.get("learn_more", [])),
        "experts": list(question.get("experts", [])),
    }
    if kind == "estimate":
        est = question["estimate"]
        values = [(a.value, pid) for pid, a in answers.items() if a.value is not None]
        bins = scoring.estimate_bins(est["min"], est["max"])
        out["answer"] = est["answer"]
        out["bins"] = [[lo, hi] for lo, hi in bins]
        out["answer_bin"] = scoring.estimate_bin(est["answer"], bins)
        counts = [0] * len(bins)
        for v, _ in values:
            counts[scoring.estimate_bin(v, bins)] += 1
        out["distribution"] = counts
        outcomes = {scoring.CORRECT: 0, scoring.NEAR: 0, scoring.WRONG: 0}
        for v, _ in values:
            outcomes[
                scoring.estimate_outcome(v, est["answer"], est["min"], est["max"], est["tolerance"])
            ] += 1
        # Closest: only the guesses nearest to the answer (ties all shown, quickest first).
        best = min((abs(v - est["answer"]) for v, _ in values), default=None)
        closest = sorted(
            (pid for v, pid in values if abs(v - est["answer"]) == best),
            key=lambda pid: answers[pid].ms,
        )
        out["estimate"] = {
            "average": round(sum(v for v, _ in values) / len(values), 2) if values else None,
            "closest": [facts.names.get(pid, "?") for pid in closest[:CLOSEST_NAMES]],
            "tolerance": est["tolerance"],
            "outcomes": outcomes,
        }
    else:
        counts = [0] * q.option_count(question)
        for a in answers.values():
            if a.choice is not None and 0 <= a.choice < len(counts):
                counts[a.choice] += 1
        out["distribution"] = counts
    return out


def _scoreboard(state: q.QuizState, facts: RoomFacts) -> dict[str, Any]:
    last = state.results[-1] if state.results else {}
    rows = []
    top = _ranking(state, facts)[:SCOREBOARD_SIZE]
    for (pid, score), place in zip(top, q.places(top), strict=True):
        previous = state.previous_ranks.get(pid)
        rows.append(
            {
                "rank": place,
                "name": facts.names.get(pid, "?"),
                "score": score.score,
                "gained": last[pid].total if pid in last else 0,
                "movement": (previous - place) if previous else 0,
            }
        )
    return {"top": rows}


def _podium(state: q.QuizState, facts: RoomFacts) -> dict[str, Any]:
    """The best three who scored: nobody stands on the podium (or wins the bokaal) with 0."""
    ranking = _ranking(state, facts)
    top = [
        {"rank": i + 1, "name": facts.names.get(pid, "?"), "score": score.score}
        for i, (pid, score) in enumerate(ranking[:3])
        if score.score > 0
    ]
    out: dict[str, Any] = {"top": top}
    if ranking and not top:
        out["no_points"] = True
    if facts.bokaal:
        out["bokaal"] = dict(facts.bokaal)
    return out


def shared_view(
    role: str, state: q.QuizState, quiz: q.Quiz, facts: RoomFacts, now: float
) -> dict[str, Any]:
    """The quiz's part of the view every client of `role` gets (the hub adds the room, the
    programme and, for the host, the players and room actions); phones' personal parts go in
    `personal_view`."""
    view: dict[str, Any] = {
        "phase": state.phase,
        "quiz": {
            "title": quiz["title"],
            "theme": quiz.get("theme", ""),
            "author": quiz.get("author", ""),
            "questions": len(quiz["questions"]),
        },
    }
    if role != "phone" and state.phase == q.LOBBY:
        names = list(facts.names.values())
        view["lobby"] = {"names": names[-LOBBY_NAMES:], "count": len(names)}
    if state.phase in (q.QUESTION, q.REVEAL) and state.index >= 0:
        view["question"] = _question(state, quiz, facts, now)
        if role != "phone":
            if facts.expected is not None:
                count = len(facts.answers.keys() & facts.expected)
                of = len(facts.expected)
            elif state.phase == q.REVEAL and state.waited:
                # As the close counted them: a phone that goes offline later changes nothing.
                count = len(facts.answers)
                of = max(state.waited, count)
            else:
                count = len(facts.answers)
                of = len(facts.online | facts.answers.keys())
            view["answered"] = {"count": count, "of": of}
    if state.phase == q.REVEAL:
        view["reveal"] = _reveal(state, quiz, facts)
    if state.phase in (q.SCOREBOARD, q.PODIUM):
        view["scoreboard"] = _scoreboard(state, facts)
    if state.phase == q.PODIUM:
        view["podium"] = _podium(state, facts)
    if role == "host":
        # Scores of the players the host's list shows (the hub sends the list itself).
        view["scores"] = {
            pid: state.scores[pid].score
            for pid in list(facts.names)[:HOST_PLAYERS]
            if pid in state.scores
        }
    view.update(facts.extra)
    return view


def personal_view(
    state: q.QuizState,
    quiz: q.Quiz,
    facts: RoomFacts,
    player: str,
    ranks: Mapping[str, int],
) -> dict[str, Any]:
    """The small per-phone frame: own score, rank, streak, given answer and last result.

    It changes only when the player's own answer does or when a question is scored (see
    `personal_basis`): opening a question, the scoreboard, joins and lock/unlock leave every
    phone's `me` as it was, so those broadcasts carry no personal frames. Phones match `answer`
    and `result` to the question shown by their `question` field.
    """
    score = state.scores.get(player)
    me: dict[str, Any] = {
        "type": "me",
        "player": player,
        "name": facts.names.get(player, ""),
        "score": score.score if score is not None else 0,
        "streak": score.streak if score is not None else 0,
    }
    if state.results:
        # From the first reveal on. `of` counts the players scored so far, not everyone
        # present: a join must not change every phone's `me`.
        me["rank"] = ranks.get(player)
        me["of"] = len(ranks)
        result = state.results[-1].get(player)
        if result is not None:
            question = quiz["questions"][len(state.results) - 1]
            me["result"] = {
                "question": len(state.results) - 1,
                "correct": result.correct,
                "outcome": q.outcome(question, result),
                "points": result.points,
                "streak_bonus": result.bonus,
                "answered": result.answered,
                "choice": result.choice,
                "value": result.value,
            }
    if state.phase == q.QUESTION and player in facts.answers:
        a = facts.answers[player]
        me["answer"] = {"question": state.index, "choice": a.choice, "value": a.value}
    return me


def personal_basis(state: q.QuizState) -> tuple[int, int, int]:
    """What every phone's `me` depends on besides its own answer and name: while this and a
    player's answer to the open question stay the same, `personal_view` returns the same frame.
    Scores, ranks and results change only when a question is scored, a player is removed or the
    quiz restarts."""
    return (state.round, len(state.results), len(state.scores))
