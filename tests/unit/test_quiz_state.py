"""The quiz state machine (server/activities/quiz.py): answers, transitions, scores and ranking.

Time is always passed in explicitly; nothing sleeps. Hypothesis plays whole quizzes with random
players, answers and timings and checks the rules of docs/PROTOCOL.md on the outcome.
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.activities import quiz as q
from server.hub import codes
from server.hub.room import pack, unpack

T0 = 1_700_000_000.0  # an arbitrary wall-clock start

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---- quizzes ---------------------------------------------------------------------------------


def mc(points: int = 1000, time_limit: int = 20, n: int = 4, right: tuple[int, ...] = (0,)) -> dict:
    return {
        "id": "mc",
        "type": "multiple_choice",
        "text": "Meerkeuze?",
        "time_limit": time_limit,
        "points": points,
        "options": [{"text": f"optie {i}", "correct": i in right} for i in range(n)],
        "toelichting": "uitleg",
    }


def tf(answer: bool = True, points: int = 1000, time_limit: int = 20) -> dict:
    return {
        "id": "tf",
        "type": "true_false",
        "text": "Waar?",
        "time_limit": time_limit,
        "points": points,
        "answer": answer,
    }


def poll(n: int = 3, time_limit: int = 20) -> dict:
    return {
        "id": "poll",
        "type": "poll",
        "text": "Peiling?",
        "time_limit": time_limit,
        "points": 0,
        "options": [{"text": f"keuze {i}"} for i in range(n)],
    }


def est(
    answer: float = 50,
    low: float = 0,
    high: float = 100,
    tolerance: float = 5,
    points: int = 1000,
    time_limit: int = 20,
) -> dict:
    return {
        "id": "est",
        "type": "estimate",
        "text": "Hoeveel?",
        "time_limit": time_limit,
        "points": points,
        "estimate": {"answer": answer, "min": low, "max": high, "unit": "", "tolerance": tolerance},
    }


def make_quiz(*questions: dict) -> dict:
    qs = []
    for i, question in enumerate(questions):
        question = copy.deepcopy(question)
        question["id"] = f"q{i}"
        qs.append(question)
    return {
        "format": 1,
        "id": "test",
        "title": "Test",
        "theme": "Testen",
        "author": "Tester",
        "language": "nl",
        "questions": qs,
    }


@st.composite
def questions_st(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(["multiple_choice", "true_false", "poll", "estimate"]))
    limit = draw(st.integers(min_value=5, max_value=240))
    points = 0 if kind == "poll" else draw(st.sampled_from([0, 1000, 2000]))
    if kind == "multiple_choice":
        n = draw(st.integers(min_value=2, max_value=6))
        right = draw(st.sets(st.integers(min_value=0, max_value=n - 1), min_size=1))
        return mc(points, limit, n, tuple(right))
    if kind == "true_false":
        return tf(draw(st.booleans()), points, limit)
    if kind == "poll":
        return poll(draw(st.integers(min_value=2, max_value=6)), limit)
    low = draw(st.integers(min_value=-1000, max_value=1000))
    span = draw(st.integers(min_value=1, max_value=5000))
    answer = draw(st.floats(min_value=low, max_value=low + span))
    tolerance = draw(st.sampled_from([0, span * 0.05, span * 0.2]))
    return est(answer, low, low + span, tolerance, points, limit)


quizzes_st = st.lists(questions_st(), min_size=1, max_size=6).map(lambda qs: make_quiz(*qs))


def valid_answer(draw: st.DrawFn, question: dict) -> tuple[Any, Any]:
    """A (choice, value) pair that the question must accept."""
    if question["type"] == "estimate":
        e = question["estimate"]
        near = st.floats(
            min_value=max(e["min"], e["answer"] - e["tolerance"]),
            max_value=min(e["max"], e["answer"] + e["tolerance"]),
        )
        anywhere = st.floats(min_value=e["min"], max_value=e["max"])
        exact = st.sampled_from([e["min"], e["max"], e["answer"]])
        return None, draw(st.one_of(near, anywhere, exact))
    n = 2 if question["type"] == "true_false" else len(question["options"])
    return draw(st.integers(min_value=0, max_value=n - 1)), None


def is_right(question: dict, answer: q.Answer) -> bool | None:
    """The spec's notion of a correct answer, written independently of the code under test."""
    kind = question["type"]
    if kind == "poll":
        return None
    if kind == "true_false":
        return answer.choice == (0 if question["answer"] else 1)
    if kind == "multiple_choice":
        return bool(question["options"][answer.choice].get("correct"))
    e = question["estimate"]
    assert answer.value is not None
    return abs(answer.value - e["answer"]) <= e["tolerance"]


# ---- a whole game, played with random players, answers and timings ---------------------------


def play(draw: st.DrawFn, quiz: dict, players: list[str], stop_after: int | None = None) -> dict:
    """Play `quiz` through and return a log of what was accepted; checks answer rules on the way."""
    state = q.QuizState()
    now = T0 + draw(st.floats(min_value=0, max_value=1e6))
    q.start(state, quiz, now)
    log: dict[str, Any] = {"state": state, "accepted": [], "answers": {}}
    n = len(quiz["questions"])
    for index in range(n):
        question = quiz["questions"][index]
        limit = question["time_limit"]
        assert state.phase == q.QUESTION and state.index == index
        assert state.deadline == pytest.approx(state.opened_at + limit)
        answers: dict[str, q.Answer] = {}
        for player in players:
            if not draw(st.booleans()):
                continue
            delay = draw(st.floats(min_value=0, max_value=limit))
            choice, value = valid_answer(draw, question)
            at = state.opened_at + delay
            answer = q.accept_answer(state, quiz, answers, player, index, choice, value, at)
            assert answer.ms == round(delay * 1000) or abs(answer.ms - delay * 1000) <= 1
            answers[player] = answer
            # a second answer is always refused, whatever it is
            again_choice, again_value = valid_answer(draw, question)
            with pytest.raises(q.QuizError) as err:
                q.accept_answer(
                    state,
                    quiz,
                    answers,
                    player,
                    index,
                    again_choice,
                    again_value,
                    min(state.deadline, at + draw(st.floats(min_value=0, max_value=limit - delay))),
                )
            assert err.value.code == "already_answered"
        # every answer after the deadline is refused
        late_player = "laatkomer"
        choice, value = valid_answer(draw, question)
        with pytest.raises(q.QuizError) as err:
            q.accept_answer(
                state,
                quiz,
                answers,
                late_player,
                index,
                choice,
                value,
                state.deadline + draw(st.floats(min_value=0.001, max_value=100)),
            )
        assert err.value.code == "too_late"
        log["accepted"].append(answers)
        now = state.opened_at + draw(st.floats(min_value=0, max_value=limit + 5))
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            q.finish(state, quiz, answers, players, now)
            log["finished_at"] = index
            break
        q.close(state, quiz, answers, players, now)
        assert state.phase == q.REVEAL
        if stop_after is not None and index >= stop_after:
            break
        if draw(st.booleans()):
            q.show_scoreboard(state)
        now += draw(st.floats(min_value=0, max_value=60))
        q.next_step(state, quiz, now)
    return log


# ids as codes.player_id makes them: join order, then a random suffix
players_joined = [codes.player_id(order) for order in range(12)]
players_st = st.lists(st.sampled_from(players_joined), min_size=1, max_size=8, unique=True)


@SETTINGS
@given(data=st.data(), quiz=quizzes_st, players=players_st)
def test_random_games_keep_the_rules(data: st.DataObject, quiz: dict, players: list[str]) -> None:
    log = play(data.draw, quiz, players)
    state: q.QuizState = log["state"]
    assert state.phase == q.PODIUM
    played = len(log["accepted"])
    assert len(state.results) == played
    if "finished_at" not in log:
        assert played == len(quiz["questions"])

    streak = dict.fromkeys(players, 0)
    for index, outcome in enumerate(state.results):
        question = quiz["questions"][index]
        answers = log["accepted"][index]
        # exactly one Result per player per closed question
        assert set(outcome) == set(players)
        for player, result in outcome.items():
            assert result.points >= 0 and result.bonus >= 0
            assert result.points <= question["points"]
            assert result.answered == (player in answers)
            if question["type"] == "poll":
                assert result.total == 0
                assert result.correct is None
                continue
            if player not in answers:
                assert result.total == 0 and result.correct is False
                streak[player] = 0
                continue
            answer = answers[player]
            assert result.ms == answer.ms
            assert result.choice == answer.choice
            assert result.correct == is_right(question, answer)
            if result.correct:
                streak[player] += 1
                # speed points lie between half and full
                assert question["points"] // 2 <= result.points <= question["points"]
                expected_bonus = min(100 * (streak[player] - 1), 500) if question["points"] else 0
                assert result.bonus == expected_bonus
            else:
                streak[player] = 0
                assert result.bonus == 0
                if question["type"] != "estimate":
                    assert result.points == 0

    # totals are the sum of the per-question results
    for player in players:
        mine = [outcome[player] for outcome in state.results]
        score = state.scores[player]
        assert score.score == sum(r.total for r in mine) >= 0
        assert score.correct == sum(1 for r in mine if r.correct)
        assert score.time_ms == sum(r.ms for r in mine)
        assert score.streak == streak[player]

    # the ranking is consistent with the totals; ties go by join order (ids sort by join order)
    ranking = q.ranking(state)
    assert [p for p, _ in ranking] == sorted(
        players,
        key=lambda p: (-state.scores[p].score, state.scores[p].time_ms, players_joined.index(p)),
    )
    for (_, sa), (_, sb) in itertools.pairwise(ranking):
        assert sa.score >= sb.score
        if sa.score == sb.score:
            assert sa.time_ms <= sb.time_ms
    # places: the position in the ranking, everyone without points sharing the one after the
    # last who scored
    ranks = q.ranks(state)
    scored = [p for p, s in ranking if s.score > 0]
    assert [ranks[p] for p in scored] == list(range(1, len(scored) + 1))
    assert {ranks[p] for p, s in ranking if s.score <= 0} <= {len(scored) + 1}
    assert ranks[ranking[0][0]] == 1


# ---- speed: slower never beats faster ---------------------------------------------------------


@SETTINGS
@given(
    question=questions_st().filter(lambda x: x["type"] != "poll"),
    data=st.data(),
)
def test_slower_same_answer_never_scores_more(question: dict, data: st.DataObject) -> None:
    quiz = make_quiz(question)
    state = q.start(q.QuizState(), quiz, T0)
    limit = question["time_limit"]
    a, b = sorted(data.draw(st.floats(min_value=0, max_value=limit)) for _ in range(2))
    choice, value = valid_answer(data.draw, question)
    answers: dict[str, q.Answer] = {}
    answers["snel"] = q.accept_answer(state, quiz, answers, "snel", 0, choice, value, T0 + a)
    answers["traag"] = q.accept_answer(state, quiz, answers, "traag", 0, choice, value, T0 + b)
    q.close(state, quiz, answers, ["snel", "traag"], T0 + limit)
    fast, slow = state.results[0]["snel"], state.results[0]["traag"]
    assert fast.correct == slow.correct  # same answer, same judgement
    assert slow.points <= fast.points
    assert slow.total <= fast.total


def test_points_at_open_halfway_and_deadline() -> None:
    quiz = make_quiz(mc(points=1000, time_limit=20))
    state = q.start(q.QuizState(), quiz, T0)
    answers: dict[str, q.Answer] = {}
    for player, delay in (("a", 0.0), ("b", 10.0), ("c", 20.0)):
        answers[player] = q.accept_answer(state, quiz, answers, player, 0, 0, None, T0 + delay)
    q.close(state, quiz, answers, ["a", "b", "c"], T0 + 20)
    assert {p: r.points for p, r in state.results[0].items()} == {"a": 1000, "b": 750, "c": 500}


def test_double_points_question() -> None:
    quiz = make_quiz(mc(points=2000, time_limit=30))
    state = q.start(q.QuizState(), quiz, T0)
    answers = {"a": q.accept_answer(state, quiz, {}, "a", 0, 0, None, T0 + 15)}
    q.close(state, quiz, answers, ["a"], T0 + 30)
    assert state.scores["a"].score == 1500


def test_streak_bonus_accumulates_over_questions() -> None:
    quiz = make_quiz(*[mc(points=1000, time_limit=20) for _ in range(8)])
    state = q.start(q.QuizState(), quiz, T0)
    bonuses = []
    for index in range(8):
        now = state.opened_at
        answers = {"a": q.accept_answer(state, quiz, {}, "a", index, 0, None, now)}
        q.close(state, quiz, answers, ["a"], now + 1)
        bonuses.append(state.results[index]["a"].bonus)
        q.next_step(state, quiz, now + 2)
    assert bonuses == [0, 100, 200, 300, 400, 500, 500, 500]
    assert state.scores["a"].score == 8 * 1000 + sum(bonuses)
    assert state.phase == q.PODIUM


# ---- refused answers --------------------------------------------------------------------------


def test_too_late_just_after_the_deadline_but_not_at_it() -> None:
    quiz = make_quiz(mc(time_limit=20))
    state = q.start(q.QuizState(), quiz, T0)
    assert state.deadline == T0 + 20
    at_deadline = q.accept_answer(state, quiz, {}, "a", 0, 0, None, T0 + 20)
    assert at_deadline.ms == 20_000
    with pytest.raises(q.QuizError) as err:
        q.accept_answer(state, quiz, {}, "b", 0, 0, None, T0 + 20.001)
    assert err.value.code == "too_late"


@given(extra=st.floats(min_value=1e-3, max_value=1e6), limit=st.integers(5, 240))
def test_too_late_after_any_deadline(extra: float, limit: int) -> None:
    quiz = make_quiz(tf(time_limit=limit))
    state = q.start(q.QuizState(), quiz, T0)
    with pytest.raises(q.QuizError) as err:
        q.accept_answer(state, quiz, {}, "a", 0, 0, None, T0 + limit + extra)
    assert err.value.code == "too_late"


@given(
    choice=st.one_of(st.integers(-3, 7), st.none()),
    value=st.one_of(st.floats(allow_nan=True), st.none()),
    delay=st.floats(min_value=0, max_value=20),
)
def test_already_answered_whatever_the_second_answer(
    choice: int | None, value: float | None, delay: float
) -> None:
    quiz = make_quiz(mc(n=4, time_limit=20))
    state = q.start(q.QuizState(), quiz, T0)
    answers = {"a": q.accept_answer(state, quiz, {}, "a", 0, 2, None, T0 + 1)}
    before = copy.deepcopy(state)
    with pytest.raises(q.QuizError) as err:
        q.accept_answer(state, quiz, answers, "a", 0, choice, value, T0 + delay)
    assert err.value.code == "already_answered"
    assert state == before
    assert answers["a"].choice == 2  # the first answer counts


def _state_in(phase: str, quiz: dict) -> q.QuizState:
    state = q.QuizState()
    if phase == q.LOBBY:
        return state
    q.start(state, quiz, T0)
    if phase == q.QUESTION:
        return state
    q.close(state, quiz, {}, ["a"], T0 + 5)
    if phase == q.REVEAL:
        return state
    if phase == q.SCOREBOARD:
        return q.show_scoreboard(state)
    return q.finish(state, quiz, {}, ["a"], T0 + 6)


@pytest.mark.parametrize("phase", [q.LOBBY, q.REVEAL, q.SCOREBOARD, q.PODIUM])
@pytest.mark.parametrize("index", [-1, 0, 1])
def test_not_open_outside_question_phase(phase: str, index: int) -> None:
    quiz = make_quiz(mc(), mc())
    state = _state_in(phase, quiz)
    with pytest.raises(q.QuizError) as err:
        q.accept_answer(state, quiz, {}, "b", index, 0, None, T0 + 1)
    assert err.value.code == "not_open"


@pytest.mark.parametrize("index", [-1, 1, 2, 99])
def test_not_open_for_another_question(index: int) -> None:
    quiz = make_quiz(mc(), mc(), mc())
    state = q.start(q.QuizState(), quiz, T0)
    with pytest.raises(q.QuizError) as err:
        q.accept_answer(state, quiz, {}, "a", index, 0, None, T0 + 1)
    assert err.value.code == "not_open"
    # and an answer to question 0 while question 1 is open is refused too
    q.close(state, quiz, {}, ["a"], T0 + 2)
    q.next_step(state, quiz, T0 + 3)
    with pytest.raises(q.QuizError) as err:
        q.accept_answer(state, quiz, {}, "a", 0, 0, None, T0 + 4)
    assert err.value.code == "not_open"


@pytest.mark.parametrize(
    ("question", "choice"),
    [
        (mc(n=4), -1),
        (mc(n=4), 4),
        (mc(n=4), 10**6),
        (mc(n=4), True),
        (mc(n=4), False),
        (mc(n=4), "1"),
        (mc(n=4), 1.0),
        (mc(n=4), None),
        (mc(n=4), [0]),
        (tf(), 2),
        (tf(), -1),
        (tf(), True),
        (tf(), "0"),
        (poll(n=3), 3),
        (poll(n=3), False),
        (poll(n=3), "2"),
    ],
)
def test_invalid_choice(question: dict, choice: Any) -> None:
    quiz = make_quiz(question)
    state = q.start(q.QuizState(), quiz, T0)
    with pytest.raises(q.QuizError) as err:
        q.accept_answer(state, quiz, {}, "a", 0, choice, None, T0 + 1)
    assert err.value.code == "invalid_choice"


@pytest.mark.parametrize(
    "value",
    [-0.001, 100.001, -50, 1e9, math.nan, math.inf, -math.inf, True, False, "50", None, [50]],
)
def test_invalid_estimate_value(value: Any) -> None:
    quiz = make_quiz(est(50, 0, 100))
    state = q.start(q.QuizState(), quiz, T0)
    with pytest.raises(q.QuizError) as err:
        q.accept_answer(state, quiz, {}, "a", 0, None, value, T0 + 1)
    assert err.value.code == "invalid_choice"


@pytest.mark.parametrize("value", [0, 100, 50, 0.5, 99.999])
def test_estimate_bounds_are_inclusive(value: float) -> None:
    quiz = make_quiz(est(50, 0, 100))
    state = q.start(q.QuizState(), quiz, T0)
    answer = q.accept_answer(state, quiz, {}, "a", 0, None, value, T0 + 1)
    assert answer.value == value and isinstance(answer.value, float)


# ---- polls ----------------------------------------------------------------------------------


def test_polls_give_nothing_and_leave_the_streak_alone() -> None:
    quiz = make_quiz(mc(), mc(), poll(), mc())
    state = q.start(q.QuizState(), quiz, T0)
    players = ["stemmer", "zwijger"]
    for index in range(4):
        now = state.opened_at
        answers: dict[str, q.Answer] = {}
        for player in players:
            if quiz["questions"][index]["type"] == "poll" and player == "zwijger":
                continue  # does not vote
            answers[player] = q.accept_answer(state, quiz, answers, player, index, 0, None, now)
        streaks_before = {p: state.scores[p].streak for p in state.scores}
        scores_before = {p: state.scores[p].score for p in state.scores}
        q.close(state, quiz, answers, players, now + 1)
        if index == 2:
            for player in players:
                assert state.results[2][player].total == 0
                assert state.results[2][player].correct is None
                assert state.scores[player].streak == streaks_before[player] == 2
                assert state.scores[player].score == scores_before[player]
            assert state.results[2]["stemmer"].answered is True
            assert state.results[2]["zwijger"].answered is False
        q.next_step(state, quiz, now + 2)
    # the streak ran through the poll: third correct answer in a row → +200
    for player in players:
        assert state.results[3][player].bonus == 200
        assert state.scores[player].streak == 3


# ---- closing, finishing, restarting ---------------------------------------------------------


def test_close_scores_absent_and_departed_players() -> None:
    quiz = make_quiz(mc(), mc())
    state = q.start(q.QuizState(), quiz, T0)
    # "weg" answered and then disconnected: not in the players list but still scored
    answers = {"weg": q.accept_answer(state, quiz, {}, "weg", 0, 0, None, T0)}
    q.close(state, quiz, answers, ["stil"], T0 + 1)
    assert set(state.results[0]) == {"weg", "stil"}
    assert state.results[0]["weg"].total == 1000
    assert state.results[0]["stil"].answered is False and state.results[0]["stil"].total == 0
    # a late joiner is only scored from the question they were there for
    q.next_step(state, quiz, T0 + 2)
    q.close(state, quiz, {}, ["weg", "stil", "nieuw"], T0 + 3)
    assert "nieuw" not in state.results[0]
    assert set(state.results[1]) == {"weg", "stil", "nieuw"}
    assert state.scores["nieuw"].score == 0


def test_revealed_is_the_close_without_the_scoring() -> None:
    """What the reveal preview shows (Fanout.preview) is the close's phase and deadline;
    the state itself is left as it was, and only an open question can be revealed."""
    quiz = make_quiz(mc(), mc())
    state = q.start(q.QuizState(), quiz, T0)
    answers = {"a": q.accept_answer(state, quiz, {}, "a", 0, 0, None, T0)}
    shown = q.revealed(state)
    assert state.phase == q.QUESTION and state.deadline > 0 and not state.results
    closed = q.close(state.copy(), quiz, answers, ["a"], T0 + 1)
    assert (shown.phase, shown.index, shown.deadline) == (closed.phase, closed.index, 0.0)
    assert shown.results == [] and shown.scores == {}
    with pytest.raises(q.QuizError):
        q.revealed(closed)


def test_finish_from_question_closes_and_scores() -> None:
    quiz = make_quiz(mc(), mc(), mc())
    state = q.start(q.QuizState(), quiz, T0)
    answers = {"a": q.accept_answer(state, quiz, {}, "a", 0, 0, None, T0)}
    q.finish(state, quiz, answers, ["a", "b"], T0 + 3)
    assert state.phase == q.PODIUM
    assert len(state.results) == 1
    assert state.results[0]["a"].total == 1000
    assert state.results[0]["b"].answered is False
    assert state.scores["a"].score == 1000
    assert state.scores["b"].score == 0


@pytest.mark.parametrize("phase", [q.REVEAL, q.SCOREBOARD])
def test_finish_after_close_does_not_score_again(phase: str) -> None:
    quiz = make_quiz(mc(), mc())
    state = q.start(q.QuizState(), quiz, T0)
    answers = {"a": q.accept_answer(state, quiz, {}, "a", 0, 0, None, T0)}
    q.close(state, quiz, answers, ["a"], T0 + 1)
    if phase == q.SCOREBOARD:
        q.show_scoreboard(state)
    q.finish(state, quiz, answers, ["a"], T0 + 2)
    assert state.phase == q.PODIUM
    assert len(state.results) == 1
    assert state.scores["a"].score == 1000


def test_next_after_last_question_goes_to_podium() -> None:
    quiz = make_quiz(mc())
    state = q.start(q.QuizState(), quiz, T0)
    q.close(state, quiz, {}, ["a"], T0 + 1)
    q.next_step(state, quiz, T0 + 2)
    assert state.phase == q.PODIUM


def test_restart_resets_scores_and_counts_rounds() -> None:
    quiz = make_quiz(mc(), mc())
    state = q.start(q.QuizState(), quiz, T0)
    answers = {"a": q.accept_answer(state, quiz, {}, "a", 0, 0, None, T0)}
    q.close(state, quiz, answers, ["a", "b"], T0 + 1)
    q.next_step(state, quiz, T0 + 2)
    q.close(state, quiz, {}, ["a", "b"], T0 + 3)
    q.next_step(state, quiz, T0 + 4)
    assert state.phase == q.PODIUM and state.round == 1
    state = q.restart(state)
    assert state.phase == q.LOBBY
    assert state.round == 2
    assert state.scores == {} and state.results == [] and state.previous_ranks == {}
    assert state.index == -1
    # and the next round plays from the first question again
    q.start(state, quiz, T0 + 100)
    assert (state.phase, state.index, state.deadline) == (q.QUESTION, 0, T0 + 120)
    answers = {"b": q.accept_answer(state, quiz, {}, "b", 0, 0, None, T0 + 100)}
    q.close(state, quiz, answers, ["a", "b"], T0 + 101)
    assert state.scores["a"].score == 0 and state.scores["b"].score == 1000
    assert q.restart(q.finish(state, quiz, {}, [], T0 + 102)).round == 3


# ---- allowed actions ------------------------------------------------------------------------

# docs/PROTOCOL.md "Allowed per phase"
PROTOCOL_ACTIONS = {
    q.LOBBY: {"start", "lock", "unlock", "kick", "unkick"},
    q.QUESTION: {"close", "finish", "lock", "unlock", "kick", "unkick"},
    q.REVEAL: {"scoreboard", "next", "finish", "lock", "unlock", "kick", "unkick"},
    q.SCOREBOARD: {"next", "finish", "lock", "unlock", "kick", "unkick"},
    q.PODIUM: {"restart", "lock", "unlock", "kick", "unkick"},
}


def _do(action: str, state: q.QuizState, quiz: dict) -> q.QuizState:
    if action == "start":
        return q.start(state, quiz, T0 + 50)
    if action == "close":
        return q.close(state, quiz, {}, ["a"], T0 + 50)
    if action == "scoreboard":
        return q.show_scoreboard(state)
    if action == "next":
        return q.next_step(state, quiz, T0 + 50)
    if action == "finish":
        return q.finish(state, quiz, {}, ["a"], T0 + 50)
    if action == "restart":
        return q.restart(state)
    raise AssertionError(action)


@pytest.mark.parametrize("phase", list(PROTOCOL_ACTIONS))
def test_allowed_actions_per_phase(phase: str) -> None:
    quiz = make_quiz(mc(), mc())
    state = _state_in(phase, quiz)
    assert state.phase == phase
    can = q.allowed_actions(state, quiz)
    assert set(can) == PROTOCOL_ACTIONS[phase]
    assert len(can) == len(set(can))


@pytest.mark.parametrize("phase", list(PROTOCOL_ACTIONS))
@pytest.mark.parametrize("action", ["start", "close", "scoreboard", "next", "finish", "restart"])
def test_transitions_match_allowed_actions(phase: str, action: str) -> None:
    quiz = make_quiz(mc(), mc())
    state = _state_in(phase, quiz)
    if action in q.allowed_actions(state, quiz):
        _do(action, state, quiz)
    else:
        before = copy.deepcopy(state)
        with pytest.raises(q.QuizError) as err:
            _do(action, state, quiz)
        assert err.value.code == "not_allowed"
        assert state == before


def test_is_due_only_for_an_open_question_past_its_deadline() -> None:
    quiz = make_quiz(mc(time_limit=20))
    state = q.QuizState()
    assert not q.is_due(state, T0 + 1e9)
    q.start(state, quiz, T0)
    assert not q.is_due(state, T0 + 19.999)
    assert q.is_due(state, T0 + 20)
    q.close(state, quiz, {}, [], T0 + 20)
    assert not q.is_due(state, T0 + 1e9)


# ---- ranking ----------------------------------------------------------------------------------


def test_ranking_ties_by_time_then_join_order() -> None:
    first, second, third, fourth = (codes.player_id(order) for order in (1, 2, 3, 10))
    state = q.QuizState(
        scores={
            fourth: q.Score(score=900, time_ms=5000),
            second: q.Score(score=1500, time_ms=9000),
            third: q.Score(score=900, time_ms=4000),
            first: q.Score(score=900, time_ms=5000),
        }
    )
    # score first; then less total time; then whoever joined first
    assert [p for p, _ in q.ranking(state)] == [second, third, first, fourth]
    assert q.ranks(state) == {second: 1, third: 2, first: 3, fourth: 4}


# ---- persistence ------------------------------------------------------------------------------


@SETTINGS
@given(data=st.data(), quiz=quizzes_st, players=players_st)
def test_state_round_trips_after_random_play(
    data: st.DataObject, quiz: dict, players: list[str]
) -> None:
    stop = data.draw(st.integers(min_value=0, max_value=len(quiz["questions"])))
    state = play(data.draw, quiz, players, stop_after=stop)["state"]
    if data.draw(st.booleans()) and state.phase == q.PODIUM:
        state = q.restart(state)
    d = state.to_dict()
    assert q.QuizState.from_dict(d) == state
    # as stored: through msgpack, like Room.encode/decode
    restored = q.QuizState.from_dict(unpack(pack(d)))
    assert restored == state
    assert restored.to_dict() == d
    # and the restored copy plays on exactly like the original
    if state.phase in (q.REVEAL, q.SCOREBOARD):
        a, b = copy.deepcopy(state), restored
        for s in (a, b):
            q.next_step(s, quiz, T0 + 2e6)
            if s.phase == q.QUESTION:
                q.close(s, quiz, {}, players, T0 + 2e6 + 1)
        assert a == b


@SETTINGS
@given(data=st.data(), quiz=quizzes_st, players=players_st)
def test_documents_stored_by_older_versions_still_decode(
    data: st.DataObject, quiz: dict, players: list[str]
) -> None:
    """Rooms saved before scores and results became arrays (maps per score and result, nested
    bytes or plain) decode to the same state; Redis keeps rooms across an upgrade."""
    stop = data.draw(st.integers(min_value=0, max_value=len(quiz["questions"])))
    state = play(data.draw, quiz, players, stop_after=stop)["state"]
    old_scores = {
        p: {"score": s.score, "streak": s.streak, "time_ms": s.time_ms, "correct": s.correct}
        for p, s in state.scores.items()
    }
    old_results = [{p: r._asdict() for p, r in o.items()} for o in state.results]
    head = {k: v for k, v in state.to_dict().items() if k != "standings"}
    nested = {
        **head,
        "standings": pack(
            {
                "scores": old_scores,
                "results": [pack(r) for r in old_results],
                "previous_ranks": state.previous_ranks,
            }
        ),
    }
    plain = {
        **head,
        "scores": old_scores,
        "results": old_results,
        "previous_ranks": state.previous_ranks,
    }
    for stored in (nested, plain):
        restored = q.QuizState.from_dict(unpack(pack(stored)))
        assert restored == state
        assert restored.results == state.results
        # saved again, it is written in the current form
        assert q.QuizState.from_dict(unpack(pack(restored.to_dict()))) == state


def test_answer_round_trip() -> None:
    for answer in (q.Answer(ms=1234, choice=2), q.Answer(ms=0, value=12.5)):
        assert q.Answer.from_dict(unpack(pack(answer.to_dict()))) == answer
