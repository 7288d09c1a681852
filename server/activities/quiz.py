"""The Themaquiz as a pure state machine: phases, answers, closing and scoring. No I/O, no clock."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from msgpack import packb, unpackb

from server.activities import scoring

LOBBY = "lobby"
QUESTION = "question"
REVEAL = "reveal"
SCOREBOARD = "scoreboard"
PODIUM = "podium"

Quiz = Mapping[str, Any]


class QuizError(Exception):
    """An illegal move; `code` is the protocol error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Answer:
    """What one player sent for one question; `ms` is measured by the server from the opening."""

    ms: int
    choice: int | None = None
    value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"ms": self.ms, "choice": self.choice, "value": self.value}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Answer:
        return cls(ms=int(d["ms"]), choice=d.get("choice"), value=d.get("value"))


class Result(NamedTuple):
    """The outcome of one question for one player; never changed once made (copies share it).
    A named tuple: a close makes one per player, and this is the cheapest immutable record."""

    answered: bool
    correct: bool | None
    points: int
    bonus: int
    ms: int
    choice: int | None = None
    value: float | None = None

    @property
    def total(self) -> int:
        return self.points + self.bonus


class Outcome(dict[str, Result]):
    """The results of one question, per player: made once when the question is scored and never
    changed (copies of the state share it), so its stored form is built only once."""

    __slots__ = ("_packed",)

    def __init__(
        self, results: Mapping[str, Result] | None = None, packed: bytes | None = None
    ) -> None:
        super().__init__(results or {})
        self._packed = packed

    def packed(self) -> bytes:
        """As stored in the room document (msgpack)."""
        if self._packed is None:  # each Result as an array, in field order (see docs/REDIS_KEYS.md)
            self._packed = packb(self, use_bin_type=True)
        return self._packed

    @classmethod
    def unpacked(cls, stored: bytes | Mapping[str, Any]) -> Outcome:
        """From the stored form (older documents hold a map per result, or plain maps)."""
        plain = unpackb(stored, raw=False) if isinstance(stored, bytes) else stored
        packed = stored if isinstance(stored, bytes) else None
        return cls(
            {p: Result(**r) if isinstance(r, dict) else Result(*r) for p, r in plain.items()},
            packed=packed,
        )


@dataclass
class Score:
    """A player's running totals; never changed in place once in a state (copies share them)."""

    score: int = 0
    streak: int = 0
    time_ms: int = 0
    correct: int = 0


@dataclass
class QuizState:
    phase: str = LOBBY
    index: int = -1
    opened_at: float = 0.0
    deadline: float = 0.0
    round: int = 1
    # How many players the last closed question counted in its "x van n": those who answered
    # or were connected at the close (0 before a close, and in rooms saved before this field).
    # The reveal shows it, so a phone that goes offline later does not change the count.
    waited: int = 0
    scores: dict[str, Score] = field(default_factory=dict)
    results: list[Outcome] = field(default_factory=list)
    previous_ranks: dict[str, int] = field(default_factory=dict)
    # Earlier rounds of this quiz ("nog een keer"), oldest first, as restart left them:
    # {"state": to_dict(), "names": {player: name}}. Never changed, only replaced.
    past: tuple[Any, ...] = ()
    # The stored form of scores, results and previous_ranks, which change only when a question
    # is scored (`close`) or a player is removed (`remove_player`); both clear it. With 2,000
    # players it is most of the room document, so other transitions do not encode it again.
    _standings: bytes | None = field(default=None, compare=False, repr=False)

    def copy(self) -> QuizState:
        """A copy that transitions may change freely; far cheaper than decoding the document.
        Past outcomes are shared (a question's results are only ever appended, never changed),
        and so are the scores until a transition that changes them replaces the mapping."""
        return QuizState(
            phase=self.phase,
            index=self.index,
            opened_at=self.opened_at,
            deadline=self.deadline,
            round=self.round,
            waited=self.waited,
            scores=self.scores,  # copy-on-write: `close` and `remove_player` replace it
            results=list(self.results),
            previous_ranks=self.previous_ranks,  # replaced by `close`, never changed in place
            past=self.past,
            _standings=self._standings,
        )

    def standings(self) -> bytes:
        """Scores, results and previous ranks as stored (msgpack), built once per change."""
        if self._standings is None:
            # By hand: dataclasses.asdict deep-copies recursively and was a fifth of a close. A
            # score is an array in field order: with 2,000 players the keys were half the work.
            self._standings = packb(
                {
                    "scores": {
                        p: (s.score, s.streak, s.time_ms, s.correct) for p, s in self.scores.items()
                    },
                    "results": [outcome.packed() for outcome in self.results],
                    "previous_ranks": self.previous_ranks,
                },
                use_bin_type=True,
            )
        return self._standings

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "index": self.index,
            "opened_at": self.opened_at,
            "deadline": self.deadline,
            "round": self.round,
            "waited": self.waited,
            "standings": self.standings(),
            "past": list(self.past),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> QuizState:
        packed = d.get("standings")
        standings = unpackb(packed, raw=False) if packed is not None else d
        return cls(
            phase=d["phase"],
            index=d["index"],
            opened_at=d["opened_at"],
            deadline=d["deadline"],
            round=d.get("round", 1),
            waited=d.get("waited", 0),
            scores={
                k: Score(**v) if isinstance(v, dict) else Score(*v)
                for k, v in standings["scores"].items()
            },
            results=[Outcome.unpacked(stored) for stored in standings["results"]],
            previous_ranks=dict(standings.get("previous_ranks", {})),
            past=tuple(d.get("past", ())),
            _standings=packed,
        )


def remove_player(state: QuizState, player: str) -> None:
    """Drop a removed player's score (their past results stay in the record)."""
    if player in state.scores:
        state.scores = {p: s for p, s in state.scores.items() if p != player}  # shared: replace
        state._standings = None


def questions(quiz: Quiz) -> list[Mapping[str, Any]]:
    return list(quiz["questions"])


def current_question(state: QuizState, quiz: Quiz) -> Mapping[str, Any] | None:
    qs = quiz["questions"]
    if 0 <= state.index < len(qs) and state.phase in (QUESTION, REVEAL, SCOREBOARD):
        return qs[state.index]  # type: ignore[no-any-return]
    return None


def option_count(question: Mapping[str, Any]) -> int:
    if question["type"] == "true_false":
        return 2
    if question["type"] == "estimate":
        return 0
    return len(question["options"])


def correct_options(question: Mapping[str, Any]) -> list[int]:
    kind = question["type"]
    if kind == "multiple_choice":
        return [i for i, o in enumerate(question["options"]) if o.get("correct")]
    if kind == "true_false":
        return [0 if question["answer"] else 1]
    return []


# ---- answers ---------------------------------------------------------------------------------


def accept_answer(
    state: QuizState,
    quiz: Quiz,
    answers: Mapping[str, Any],
    player: str,
    question_index: int,
    choice: Any,
    value: Any,
    now: float,
) -> Answer:
    """Check one answer and return the record to store; raise QuizError when it is refused."""
    if state.phase != QUESTION or question_index != state.index:
        raise QuizError("not_open")
    if now > state.deadline:
        raise QuizError("too_late")
    if player in answers:
        raise QuizError("already_answered")
    return check_answer(quiz["questions"][state.index], state.opened_at, choice, value, now)


def check_answer(
    question: Mapping[str, Any], opened_at: float, choice: Any, value: Any, now: float
) -> Answer:
    """The answer to the open `question` (opened at `opened_at`) as stored; QuizError
    "invalid_choice" for a choice or estimate it does not allow. The caller has checked that
    the question is open and not past its deadline."""
    ms = max(0, round((now - opened_at) * 1000))
    if question["type"] == "estimate":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise QuizError("invalid_choice")
        est = question["estimate"]
        if not est["min"] <= value <= est["max"]:
            raise QuizError("invalid_choice")
        return Answer(ms=ms, value=float(value))
    if isinstance(choice, bool) or not isinstance(choice, int):
        raise QuizError("invalid_choice")
    if not 0 <= choice < option_count(question):
        raise QuizError("invalid_choice")
    return Answer(ms=ms, choice=choice)


Scorer = Callable[[Answer | None, int], tuple[Result, int]]


def score_answer(
    question: Mapping[str, Any], answer: Answer | None, streak_before: int
) -> tuple[Result, int]:
    """The result of one player's answer and their streak afterwards."""
    return question_scorer(question)(answer, streak_before)


def question_scorer(question: Mapping[str, Any]) -> Scorer:
    """`score_answer` for one question, with what it reads of the question looked up once: a
    close scores every player with it."""
    limit = float(question["time_limit"])
    limit_ms = int(question["time_limit"]) * 1000
    points = int(question["points"])
    kind = question["type"]
    est = question.get("estimate") if kind == "estimate" else None
    right = frozenset(correct_options(question)) if kind not in ("poll", "estimate") else None
    missed = Result(False, None if kind == "poll" else False, 0, 0, limit_ms)

    def score(answer: Answer | None, streak_before: int) -> tuple[Result, int]:
        if answer is None:
            return missed, streak_before if kind == "poll" else 0
        if kind == "poll":
            return Result(True, None, 0, 0, answer.ms, answer.choice), streak_before
        elapsed = answer.ms / 1000.0
        if est is not None:
            assert answer.value is not None
            closeness = scoring.estimate_closeness(
                answer.value, est["answer"], est["min"], est["max"], est["tolerance"]
            )
            correct = abs(answer.value - est["answer"]) <= est["tolerance"]
            gained = scoring.estimate_points(points, closeness, elapsed, limit)
            if closeness > 0.0 and points > 0:
                gained = max(1, gained)  # "bijna" always brings points, however late
        else:
            assert right is not None
            correct = answer.choice in right
            gained = scoring.speed_points(points, elapsed, limit) if correct else 0
        if not correct:
            return Result(True, False, gained, 0, answer.ms, answer.choice, answer.value), 0
        streak = streak_before + 1
        bonus = scoring.streak_bonus(streak, points)
        return Result(True, True, gained, bonus, answer.ms, answer.choice, answer.value), streak

    return score


# ---- transitions -----------------------------------------------------------------------------


def _open(state: QuizState, quiz: Quiz, index: int, now: float) -> QuizState:
    question = quiz["questions"][index]
    state.phase = QUESTION
    state.index = index
    state.opened_at = now
    state.deadline = now + float(question["time_limit"])
    state.waited = 0
    return state


def start(state: QuizState, quiz: Quiz, now: float) -> QuizState:
    if state.phase != LOBBY:
        raise QuizError("not_allowed")
    return _open(state, quiz, 0, now)


def close(
    state: QuizState,
    quiz: Quiz,
    answers: Mapping[str, Answer],
    players: Iterable[str],
    now: float,
    ranks_before: Mapping[str, int] | None = None,
    online: Iterable[str] = (),
) -> QuizState:
    """End the open question: score everybody in `players` (answered or not) and reveal.
    `ranks_before` is `ranks(state)` when the caller already has it (a render sorted it);
    `online`: the players connected at the close, counted with those who answered in
    `waited`."""
    if state.phase != QUESTION:
        raise QuizError("not_allowed")
    question = quiz["questions"][state.index]
    # The places before this question, for the scoreboard's arrows: only of those who had
    # points. A place shared by everyone without one is no standing to rise or fall from.
    before_ranks = ranks(state) if ranks_before is None else ranks_before
    state.previous_ranks = {
        player: place for player, place in before_ranks.items() if state.scores[player].score > 0
    }
    state._standings = None
    # A Score is never changed in place: the scores before are shared with the stored room this
    # state was copied from (and with other copies), so every player scored now gets a new one.
    before = state.scores
    scores = dict(before)
    outcome: dict[str, Result] = {}
    score = question_scorer(question)
    nothing = Score()
    for player in set(players) | set(answers):
        old = before.get(player, nothing)
        result, streak = score(answers.get(player), old.streak)
        scores[player] = Score(
            old.score + result.total,
            streak,
            old.time_ms + result.ms,
            old.correct + 1 if result.correct else old.correct,
        )
        outcome[player] = result
    state.scores = scores
    while len(state.results) < state.index:
        state.results.append(Outcome())
    state.results.append(Outcome(outcome))
    state.waited = len(set(online) | answers.keys())
    state.phase = REVEAL
    state.deadline = 0.0
    return state


def revealed(state: QuizState) -> QuizState:
    """What `close` makes of `state` apart from the scoring: enough for the shared reveal views,
    which show the answers and not the scores (see Fanout.preview)."""
    if state.phase != QUESTION:
        raise QuizError("not_allowed")
    shown = state.copy()
    shown.phase = REVEAL
    shown.deadline = 0.0
    shown.waited = 0  # counted by the close: the views count who is connected now
    return shown


def show_scoreboard(state: QuizState) -> QuizState:
    if state.phase != REVEAL:
        raise QuizError("not_allowed")
    state.phase = SCOREBOARD
    return state


def next_step(state: QuizState, quiz: Quiz, now: float) -> QuizState:
    if state.phase not in (REVEAL, SCOREBOARD):
        raise QuizError("not_allowed")
    if state.index + 1 >= len(quiz["questions"]):
        state.phase = PODIUM
        return state
    return _open(state, quiz, state.index + 1, now)


def finish(
    state: QuizState,
    quiz: Quiz,
    answers: Mapping[str, Answer],
    players: Iterable[str],
    now: float,
    ranks_before: Mapping[str, int] | None = None,
    online: Iterable[str] = (),
) -> QuizState:
    if state.phase not in (QUESTION, REVEAL, SCOREBOARD):
        raise QuizError("not_allowed")
    if state.phase == QUESTION:
        close(state, quiz, answers, players, now, ranks_before, online)
    state.phase = PODIUM
    return state


def restart(state: QuizState) -> QuizState:
    if state.phase != PODIUM:
        raise QuizError("not_allowed")
    return QuizState(round=state.round + 1)


def is_due(state: QuizState, now: float) -> bool:
    return state.phase == QUESTION and now >= state.deadline


def allowed_actions(state: QuizState, quiz: Quiz) -> list[str]:
    base = {
        LOBBY: ["start"],
        QUESTION: ["close", "finish"],
        REVEAL: ["scoreboard", "next", "finish"],
        SCOREBOARD: ["next", "finish"],
        PODIUM: ["restart"],
    }[state.phase]
    return [*base, "lock", "unlock", "kick", "unkick"]


# ---- ranking ---------------------------------------------------------------------------------


def ranking(state: QuizState) -> list[tuple[str, Score]]:
    """Players best first: score high→low, total answer time low→high, then join order (ids
    sort by join order), so every view and export agrees on the order of tied players."""
    return sorted(state.scores.items(), key=lambda item: (-item[1].score, item[1].time_ms, item[0]))


def places(ranked: Sequence[tuple[str, Score]]) -> list[int]:
    """The place of each of `ranked` (a `ranking`): its position, except that everyone without
    a point shares the place after the last who scored. Their order (answer time, join order)
    says nothing about what they know, so nobody is told "plek 12 van 12" for it."""
    out: list[int] = []
    for i, (_, score) in enumerate(ranked):
        tied = score.score <= 0 and i > 0 and ranked[i - 1][1].score <= 0
        out.append(out[-1] if tied else i + 1)
    return out


def ranks_of(ranked: Sequence[tuple[str, Score]]) -> dict[str, int]:
    """Each player's place in `ranked` (a `ranking`)."""
    return {player: place for (player, _), place in zip(ranked, places(ranked), strict=True)}


def ranks(state: QuizState) -> dict[str, int]:
    return ranks_of(ranking(state))


def outcome(question: Mapping[str, Any], result: Result) -> str:
    """What a result is called on every screen and in the export: `correct` (goed), `near`
    (bijna: an estimate beyond its tolerance but within the partial zone, at least 1 point
    when the question is worth points; not correct, so it breaks the streak), `wrong` (fout),
    `poll` (a vote) or `none` (no answer)."""
    if not result.answered:
        return "none"
    if result.correct is None:
        return "poll"
    if question["type"] == "estimate" and result.value is not None:
        est = question["estimate"]
        return scoring.estimate_outcome(
            result.value, est["answer"], est["min"], est["max"], est["tolerance"]
        )
    return scoring.CORRECT if result.correct else scoring.WRONG
