"""What each role sees (server/activities/quiz_views.py), checked against docs/PROTOCOL.md.

Above all: while a question is open, no view may tell which option is right.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.activities import quiz as q
from server.activities.quiz_views import RoomFacts, personal_basis, personal_view, shared_view
from server.activities.themaquiz import THEMAQUIZ
from server.hub.room import pack, unpack

T0 = 1_700_000_000.0
ROLES = ("phone", "screen", "host")
SECRET = "GEHEIME-TOELICHTING-xyzzy"
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def mc(points: int = 1000, time_limit: int = 20, n: int = 4, right: tuple[int, ...] = (0,)) -> dict:
    return {
        "id": "mc",
        "type": "multiple_choice",
        "text": "Wie kun je inschakelen?",
        "time_limit": time_limit,
        "points": points,
        "options": [{"text": f"optie {i}", "correct": i in right} for i in range(n)],
        "toelichting": SECRET,
        "learn_more": [{"title": "Geldfit", "url": "https://www.geldfit.nl"}],
        "experts": ["Fatima"],
    }


def tf(answer: bool = True, points: int = 1000) -> dict:
    return {
        "id": "tf",
        "type": "true_false",
        "text": "Waar?",
        "time_limit": 20,
        "points": points,
        "answer": answer,
        "toelichting": SECRET,
    }


def poll(n: int = 3) -> dict:
    return {
        "id": "poll",
        "type": "poll",
        "text": "Peiling?",
        "time_limit": 20,
        "points": 0,
        "options": [{"text": f"keuze {i}"} for i in range(n)],
        "toelichting": SECRET,
    }


def est(answer: float = 50, low: float = 0, high: float = 100, tolerance: float = 5) -> dict:
    return {
        "id": "est",
        "type": "estimate",
        "text": "Hoeveel?",
        "time_limit": 20,
        "points": 1000,
        "toelichting": SECRET,
        "estimate": {
            "answer": answer,
            "min": low,
            "max": high,
            "unit": "%",
            "tolerance": tolerance,
        },
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
        "title": "Testquiz",
        "theme": "Testen",
        "author": "Tester",
        "language": "nl",
        "questions": qs,
    }


def facts(
    names: dict[str, str],
    answers: dict[str, q.Answer] | None = None,
    online: set[str] | None = None,
    lang: str = "nl",
) -> RoomFacts:
    return RoomFacts(
        code="123456",
        join_url="http://kk.test/j/123456",
        team="Team Noord",
        locked=False,
        lang=lang,
        names=names,
        online=set(names) if online is None else online,
        answers=answers or {},
    )


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Every (path, key, value) in a nested structure of dicts and lists."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path, k, v
            yield from walk(v, f"{path}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")


FORBIDDEN_WHILE_OPEN = {
    "correct",
    "answer",
    "toelichting",
    "distribution",
    "reveal",
    "estimate",
    "experts",
    "learn_more",
}
QUESTION_KEYS = {
    "index",
    "number",
    "total",
    "type",
    "text",
    "options",
    "time_limit",
    "remaining_ms",
    "points",
    "min",
    "max",
    "unit",
    "unit_one",
}


@st.composite
def open_question_st(draw: st.DrawFn) -> tuple[dict, list[str], dict[str, q.Answer]]:
    kind = draw(st.sampled_from(["multiple_choice", "true_false", "poll", "estimate"]))
    if kind == "multiple_choice":
        n = draw(st.integers(2, 6))
        question = mc(n=n, right=tuple(draw(st.sets(st.integers(0, n - 1), min_size=1))))
    elif kind == "true_false":
        question = tf(draw(st.booleans()))
    elif kind == "poll":
        question = poll(draw(st.integers(2, 6)))
    else:
        question = est(draw(st.integers(0, 100)), 0, 100, draw(st.sampled_from([0, 5])))
    players = [f"p{i:07d}" for i in range(draw(st.integers(0, 12)))]
    answers: dict[str, q.Answer] = {}
    for p in players:
        if draw(st.booleans()):
            ms = draw(st.integers(0, 20_000))
            if kind == "estimate":
                answers[p] = q.Answer(ms=ms, value=draw(st.floats(0, 100)))
            else:
                n = 2 if kind == "true_false" else len(question["options"])
                answers[p] = q.Answer(ms=ms, choice=draw(st.integers(0, n - 1)))
    return question, players, answers


# ---- no leaks while a question is open -------------------------------------------------------


@SETTINGS
@given(case=open_question_st(), index=st.integers(0, 2), elapsed=st.floats(0, 20))
def test_open_question_never_shows_the_right_answer(
    case: tuple[dict, list[str], dict[str, q.Answer]], index: int, elapsed: float
) -> None:
    question, players, answers = case
    others = [mc(), tf(), est()]
    quiz = make_quiz(*others[:index], question, *others[index:])
    state = q.QuizState()
    q.start(state, quiz, T0)
    for _ in range(index):  # earlier questions were played and revealed
        q.close(state, quiz, {}, players, T0 + 1)
        q.next_step(state, quiz, T0 + 2)
    assert state.phase == q.QUESTION and state.index == index
    names = {p: f"Speler {p}" for p in players}
    f = facts(names, answers)
    for role in ROLES:
        view = shared_view(role, state, quiz, f, state.opened_at + elapsed)
        assert unpack(pack(view)) == view  # msgpack-able as is
        for path, key, value in walk(view):
            assert key not in FORBIDDEN_WHILE_OPEN, (role, path, key)
            assert value != SECRET, (role, path)
        shown = view["question"]
        assert set(shown) <= QUESTION_KEYS
        assert shown["index"] == index and shown["number"] == index + 1
        assert shown["total"] == len(quiz["questions"])
        assert all(isinstance(o, str) for o in shown["options"])
        if question["type"] in ("multiple_choice", "poll"):
            assert shown["options"] == [o["text"] for o in question["options"]]
        if question["type"] == "estimate":
            assert shown["options"] == []
            assert (shown["min"], shown["max"], shown["unit"]) == (0, 100, "%")
        assert 0 <= shown["remaining_ms"] <= 20_000
    # the phone's personal frame carries only its own answer, never a verdict on this question
    # (the result of an earlier, revealed question may still be there)
    for p in players:
        me = personal_view(state, quiz, f, p, q.ranks(state))
        earlier = me.pop("result", None)
        assert earlier is None or earlier["question"] < index
        for _path, key, _value in walk(me):
            assert key not in {"correct", "toelichting", "distribution"}


def test_true_false_options_follow_the_room_language() -> None:
    quiz = make_quiz(tf())
    state = q.start(q.QuizState(), quiz, T0)
    assert shared_view("phone", state, quiz, facts({}), T0)["question"]["options"] == [
        "Waar",
        "Niet waar",
    ]
    assert shared_view("phone", state, quiz, facts({}, lang="en"), T0)["question"]["options"] == [
        "True",
        "False",
    ]


def test_remaining_ms_counts_down() -> None:
    quiz = make_quiz(mc(time_limit=20))
    state = q.start(q.QuizState(), quiz, T0)
    assert shared_view("screen", state, quiz, facts({}), T0)["question"]["remaining_ms"] == 20_000
    assert (
        shared_view("screen", state, quiz, facts({}), T0 + 12.5)["question"]["remaining_ms"]
        == 7_500
    )
    assert shared_view("screen", state, quiz, facts({}), T0 + 30)["question"]["remaining_ms"] == 0


def test_answered_count_for_screen_and_host_only() -> None:
    quiz = make_quiz(mc())
    state = q.start(q.QuizState(), quiz, T0)
    names = {"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"}
    answers = {"a": q.Answer(ms=10, choice=0), "d": q.Answer(ms=20, choice=1)}
    # d answered and then went offline; e is offline and did not answer
    f = facts(names, answers, online={"a", "b", "c"})
    for role in ("screen", "host"):
        assert shared_view(role, state, quiz, f, T0)["answered"] == {"count": 2, "of": 4}
    assert "answered" not in shared_view("phone", state, quiz, f, T0)


# ---- reveal ----------------------------------------------------------------------------------


@SETTINGS
@given(case=open_question_st())
def test_reveal_shows_the_right_answer_and_the_distribution(
    case: tuple[dict, list[str], dict[str, q.Answer]],
) -> None:
    question, players, answers = case
    quiz = make_quiz(question)
    state = q.start(q.QuizState(), quiz, T0)
    q.close(state, quiz, answers, players, T0 + 20)
    f = facts({p: f"Speler {p}" for p in players}, answers)
    for role in ROLES:
        view = shared_view(role, state, quiz, f, T0 + 21)
        assert unpack(pack(view)) == view
        reveal = view["reveal"]
        kind = question["type"]
        if kind == "multiple_choice":
            assert reveal["correct"] == [
                i for i, o in enumerate(question["options"]) if o["correct"]
            ]
        elif kind == "true_false":
            assert reveal["correct"] == ([0] if question["answer"] else [1])
        else:
            assert reveal["correct"] == []
        assert reveal["toelichting"] == SECRET
        distribution = reveal["distribution"]
        assert all(c >= 0 for c in distribution)
        assert sum(distribution) == len(answers)
        if kind != "estimate":
            n = 2 if kind == "true_false" else len(question["options"])
            assert distribution == [
                sum(1 for a in answers.values() if a.choice == i) for i in range(n)
            ]
        else:
            assert reveal["answer"] == question["estimate"]["answer"]
        if role != "phone":
            assert view["answered"]["count"] == len(answers)


def test_reveal_lists_links_and_experts() -> None:
    quiz = make_quiz(mc())
    state = q.start(q.QuizState(), quiz, T0)
    q.close(state, quiz, {}, [], T0 + 1)
    reveal = shared_view("screen", state, quiz, facts({}), T0 + 1)["reveal"]
    assert reveal["learn_more"] == [{"title": "Geldfit", "url": "https://www.geldfit.nl"}]
    assert reveal["experts"] == ["Fatima"]


def test_estimate_reveal_average_and_closest() -> None:
    quiz = make_quiz(est(answer=50, low=0, high=100, tolerance=5))
    state = q.start(q.QuizState(), quiz, T0)
    guesses = {
        "a": (48, 3000),
        "b": (52, 1000),
        "c": (90, 500),
        "d": (10, 100),
        "e": (50, 5000),
        "f": (100, 0),
    }
    answers = {p: q.Answer(ms=ms, value=float(v)) for p, (v, ms) in guesses.items()}
    names = {p: p.upper() for p in [*guesses, "g"]}  # g did not answer
    q.close(state, quiz, answers, list(names), T0 + 20)
    view = shared_view("screen", state, quiz, facts(names, answers), T0 + 20)
    reveal = view["reveal"]
    assert reveal["answer"] == 50
    assert reveal["estimate"]["average"] == pytest.approx(350 / 6, abs=0.01)
    # only the closest guess (issue 13: not simply the first three)
    assert reveal["estimate"]["closest"] == ["E"]
    assert sum(reveal["distribution"]) == 6


def test_estimate_closest_lists_every_tied_guess_quickest_first() -> None:
    quiz = make_quiz(est(answer=50, low=0, high=100, tolerance=5))
    state = q.start(q.QuizState(), quiz, T0)
    answers = {
        "a": q.Answer(ms=3000, value=48.0),
        "b": q.Answer(ms=1000, value=52.0),
        "c": q.Answer(ms=10, value=60.0),
    }
    names = {p: p.upper() for p in answers}
    q.close(state, quiz, answers, list(names), T0 + 20)
    reveal = shared_view("screen", state, quiz, facts(names, answers), T0 + 20)["reveal"]
    assert reveal["estimate"]["closest"] == ["B", "A"]


def test_estimate_reveal_says_the_same_as_every_phone() -> None:
    """Issue 13: answer 6, tolerance 1, guesses 6, 7, 3 and 12 (range 1…12)."""
    quiz = make_quiz(est(answer=6, low=1, high=12, tolerance=1))
    state = q.start(q.QuizState(), quiz, T0)
    guesses = {"anna": 6, "fenna": 7, "anna2": 3, "bob": 12}
    answers = {p: q.Answer(ms=2000, value=float(v)) for p, v in guesses.items()}
    names = {"anna": "Anna", "fenna": "Fenna", "anna2": "Anna 2", "bob": "Bob"}
    q.close(state, quiz, answers, list(names), T0 + 20)
    reveal = shared_view("screen", state, quiz, facts(names, answers), T0 + 20)["reveal"]
    assert reveal["estimate"]["closest"] == ["Anna"]
    assert reveal["estimate"]["outcomes"] == {"correct": 2, "near": 1, "wrong": 1}
    assert reveal["estimate"]["tolerance"] == 1
    mine = {
        p: personal_view(state, quiz, facts(names, answers), p, q.ranks(state))["result"]
        for p in names
    }
    assert {p: r["outcome"] for p, r in mine.items()} == {
        "anna": "correct",
        "fenna": "correct",
        "anna2": "near",
        "bob": "wrong",
    }
    assert mine["anna2"]["correct"] is False and mine["anna2"]["points"] > 0
    assert mine["bob"]["points"] == 0  # fout: 0 points
    assert mine["fenna"]["correct"] is True


def test_estimate_chart_bins_follow_whole_numbers() -> None:
    """Issue 13: a whole-number question from 1 to 12 gets one bin per number, not '1–2,1'."""
    quiz = make_quiz(est(answer=6, low=1, high=12, tolerance=1))
    state = q.start(q.QuizState(), quiz, T0)
    answers = {
        p: q.Answer(ms=100, value=float(v)) for p, v in {"a": 1, "b": 6, "c": 6, "d": 12}.items()
    }
    q.close(state, quiz, answers, list(answers), T0 + 20)
    reveal = shared_view("screen", state, quiz, facts({p: p for p in answers}, answers), T0 + 20)[
        "reveal"
    ]
    assert reveal["bins"] == [[v, v] for v in range(1, 13)]
    assert reveal["answer_bin"] == 5
    assert reveal["distribution"] == [1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1]


def test_estimate_reveal_without_answers() -> None:
    quiz = make_quiz(est())
    state = q.start(q.QuizState(), quiz, T0)
    q.close(state, quiz, {}, ["a"], T0 + 20)
    reveal = shared_view("phone", state, quiz, facts({"a": "A"}), T0 + 20)["reveal"]
    assert reveal["estimate"] == {
        "average": None,
        "closest": [],
        "tolerance": 5,
        "outcomes": {"correct": 0, "near": 0, "wrong": 0},
    }
    assert sum(reveal["distribution"]) == 0


# ---- lobby and host --------------------------------------------------------------------------


def test_lobby_shows_the_newest_60_names() -> None:
    quiz = make_quiz(mc())
    names = {f"p{i:07d}": f"Speler {i:02d}" for i in range(1, 76)}  # join order
    state = q.QuizState()
    f = facts(names)
    for role in ("screen", "host"):
        view = shared_view(role, state, quiz, f, T0)
        assert view["lobby"]["count"] == 75
        assert view["lobby"]["names"] == [f"Speler {i:02d}" for i in range(16, 76)]
    phone = shared_view("phone", state, quiz, f, T0)
    assert "lobby" not in phone
    assert "scores" not in phone


def test_small_lobby_shows_everyone() -> None:
    quiz = make_quiz(mc())
    names = {"p1": "Anna", "p2": "Bram"}
    view = shared_view("screen", q.QuizState(), quiz, facts(names), T0)
    assert view["lobby"] == {"names": ["Anna", "Bram"], "count": 2}


@pytest.mark.parametrize(
    ("phase", "can"),
    [
        (q.LOBBY, {"start"}),
        (q.QUESTION, {"close", "finish"}),
        (q.REVEAL, {"scoreboard", "next", "finish"}),
        (q.SCOREBOARD, {"next", "finish"}),
        (q.PODIUM, {"restart"}),
    ],
)
def test_host_view_has_the_quiz_actions_and_the_scores(phase: str, can: set[str]) -> None:
    quiz = make_quiz(mc(), mc())
    names = {"p1": "Anna", "p2": "Bram", "p3": "Cas"}
    state = q.QuizState()
    if phase != q.LOBBY:
        q.start(state, quiz, T0)
        if phase != q.QUESTION:
            answers = {"p2": q.Answer(ms=0, choice=0)}
            q.close(state, quiz, answers, ["p1", "p2"], T0 + 1)
            if phase == q.SCOREBOARD:
                q.show_scoreboard(state)
            if phase == q.PODIUM:
                q.finish(state, quiz, {}, [], T0 + 2)
    # The quiz's own commands (the hub adds lock, unlock, kick, unkick and begin).
    assert set(THEMAQUIZ.actions(state, quiz)) == can
    view = shared_view("host", state, quiz, facts(names, online={"p1", "p2"}), T0 + 3)
    scored = phase in (q.REVEAL, q.SCOREBOARD, q.PODIUM)
    assert view["scores"] == ({"p1": 0, "p2": 1000} if scored else {})
    for role in ("phone", "screen"):
        other = shared_view(role, state, quiz, facts(names), T0 + 3)
        assert "scores" not in other and "can" not in other and "players" not in other


def test_quiz_header() -> None:
    quiz = make_quiz(mc(), tf())
    names = {"p1": "Anna", "p2": "Bram"}
    for role in ROLES:
        view = shared_view(role, q.QuizState(), quiz, facts(names), T0)
        assert view["phase"] == q.LOBBY
        assert view["quiz"] == {
            "title": "Testquiz",
            "theme": "Testen",
            "author": "Tester",
            "questions": 2,
        }
        assert "room" not in view  # the hub's part (server/hub/envelope.py)


# ---- scoreboard ------------------------------------------------------------------------------


def _answer_and_close(
    state: q.QuizState, quiz: dict, plan: dict[str, tuple[float, int]], players: list[str]
) -> None:
    answers: dict[str, q.Answer] = {}
    for p, (delay, choice) in plan.items():
        answers[p] = q.accept_answer(
            state, quiz, answers, p, state.index, choice, None, state.opened_at + delay
        )
    q.close(state, quiz, answers, players, state.opened_at + 20)


def test_scoreboard_gained_and_movement() -> None:
    quiz = make_quiz(mc(points=1000), mc(points=2000))
    names = {"pa": "Anna", "pb": "Bram", "pc": "Cas"}
    players = list(names)
    state = q.start(q.QuizState(), quiz, T0)
    # Q1: Anna instant (1000), Bram at the deadline (500), Cas wrong (0)
    _answer_and_close(state, quiz, {"pa": (0, 0), "pb": (20, 0), "pc": (1, 3)}, players)
    q.show_scoreboard(state)
    top = shared_view("screen", state, quiz, facts(names), T0 + 21)["scoreboard"]["top"]
    assert [(r["rank"], r["name"], r["score"], r["gained"], r["movement"]) for r in top] == [
        (1, "Anna", 1000, 1000, 0),
        (2, "Bram", 500, 500, 0),
        (3, "Cas", 0, 0, 0),
    ]
    q.next_step(state, quiz, T0 + 30)
    # Q2 (double): Cas instant (2000), Bram at the deadline (1000 + streak 100), Anna wrong
    _answer_and_close(state, quiz, {"pc": (0, 0), "pb": (20, 0), "pa": (0, 1)}, players)
    q.show_scoreboard(state)
    for role in ROLES:
        top = shared_view(role, state, quiz, facts(names), T0 + 51)["scoreboard"]["top"]
        assert [(r["rank"], r["name"], r["score"], r["gained"], r["movement"]) for r in top] == [
            (1, "Cas", 2000, 2000, 0),  # no arrow: Cas had no points, so no standing before
            (2, "Bram", 1600, 1100, 0),
            (3, "Anna", 1000, 0, -2),
        ]


def test_scoreboard_is_the_top_10() -> None:
    quiz = make_quiz(mc(time_limit=20))
    names = {f"p{i:07d}": f"Speler {i:02d}" for i in range(15)}
    state = q.start(q.QuizState(), quiz, T0)
    # player i answers right after i seconds: the earlier, the higher
    _answer_and_close(state, quiz, {p: (float(i), 0) for i, p in enumerate(names)}, list(names))
    q.show_scoreboard(state)
    top = shared_view("screen", state, quiz, facts(names), T0 + 21)["scoreboard"]["top"]
    assert [r["rank"] for r in top] == list(range(1, 11))
    assert [r["name"] for r in top] == [f"Speler {i:02d}" for i in range(10)]
    assert [r["score"] for r in top] == [round(1000 * (1 - i / 40)) for i in range(10)]
    assert "reveal" not in shared_view("screen", state, quiz, facts(names), T0 + 21)


def test_movement_zero_when_tied_players_keep_their_places() -> None:
    """Tied players are ordered by join order on every scoreboard, not by name.

    Neither answers question 1 or 2, so both scoreboards show Zoë (joined first), Anna, and
    nobody moved.
    """
    quiz = make_quiz(mc(), mc())
    names = {"p0000001": "Zoë", "p0000002": "Anna"}  # names sort the other way round than ids
    players = list(names)
    state = q.start(q.QuizState(), quiz, T0)
    q.close(state, quiz, {}, players, T0 + 20)
    q.show_scoreboard(state)
    first = shared_view("screen", state, quiz, facts(names), T0 + 21)["scoreboard"]["top"]
    assert [r["name"] for r in first] == ["Zoë", "Anna"]
    q.next_step(state, quiz, T0 + 30)
    q.close(state, quiz, {}, players, T0 + 50)
    q.show_scoreboard(state)
    second = shared_view("screen", state, quiz, facts(names), T0 + 51)["scoreboard"]["top"]
    assert [r["name"] for r in second] == ["Zoë", "Anna"]
    assert [r["movement"] for r in second] == [0, 0]
    assert [r["rank"] for r in second] == [1, 1]  # without points they share the place


def test_everyone_without_points_shares_the_place_after_the_last_who_scored() -> None:
    """Trial 8: four players with 0 points were told "plek 9 / 10 / 11 / 12 van 12", and one
    of them fell four places on the scoreboard while gaining 784 points, because her earlier
    place came from the order among zeros (answer time, join order)."""
    quiz = make_quiz(mc(), mc())
    names = {f"p{i:07d}": n for i, n in enumerate(["Anna", "Bram", "Cas", "Daan", "Eva"])}
    ids = list(names)
    state = q.start(q.QuizState(), quiz, T0)
    # Q1: Anna and Bram right; Cas wrong at once, Daan wrong late, Eva nothing: three zeros
    plan = {ids[0]: (1.0, 0), ids[1]: (2.0, 0), ids[2]: (0.5, 1), ids[3]: (9.0, 1)}
    _answer_and_close(state, quiz, plan, ids)
    q.show_scoreboard(state)
    top = shared_view("screen", state, quiz, facts(names), T0 + 21)["scoreboard"]["top"]
    assert [(r["name"], r["rank"]) for r in top] == [
        ("Anna", 1),
        ("Bram", 2),
        ("Cas", 3),
        ("Daan", 3),
        ("Eva", 3),
    ]
    mes = {p: personal_view(state, quiz, facts(names), p, q.ranks(state)) for p in ids}
    assert [(mes[p]["rank"], mes[p]["of"]) for p in ids] == [(1, 5), (2, 5), (3, 5), (3, 5), (3, 5)]
    # Q2: Eva (0 before) answers at once and leads; she gets no arrow, Anna and Bram each fall
    # one place, and the zeros left share the last place
    q.next_step(state, quiz, T0 + 30)
    _answer_and_close(state, quiz, {ids[4]: (0.0, 0)}, ids)
    q.show_scoreboard(state)
    top = shared_view("screen", state, quiz, facts(names), T0 + 51)["scoreboard"]["top"]
    assert [(r["name"], r["rank"], r["movement"]) for r in top] == [
        ("Eva", 1, 0),
        ("Anna", 2, -1),
        ("Bram", 3, -1),
        ("Cas", 4, 0),
        ("Daan", 4, 0),
    ]


@SETTINGS
@given(data=st.data())
def test_movement_is_places_gained_since_the_previous_scoreboard(data: st.DataObject) -> None:
    quiz = make_quiz(*[mc(n=2, time_limit=10) for _ in range(4)])
    count = data.draw(st.integers(1, 10))
    ids = [f"p{i:07d}" for i in range(count)]
    labels = data.draw(
        st.lists(
            st.sampled_from(
                ["Anna", "Bram", "Cas", "Daan", "Eva", "Fem", "Gijs", "Hans", "Ilse", "Joop"]
            ),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    names = dict(zip(ids, labels, strict=True))
    state = q.start(q.QuizState(), quiz, T0)
    previous: dict[str, int] | None = None
    for _ in range(4):
        plan = {}
        for p in ids:
            if data.draw(st.booleans()):
                delay = data.draw(st.sampled_from([0.0, 5.0, 10.0]))
                plan[p] = (delay, data.draw(st.integers(0, 1)))
        _answer_and_close(state, quiz, plan, ids)
        q.show_scoreboard(state)
        top = shared_view("screen", state, quiz, facts(names), state.opened_at + 30)["scoreboard"][
            "top"
        ]
        assert len(top) == count
        by_name = {r["name"]: r for r in top}
        for r in top:
            # no arrow for a player without points before: a shared place is no standing
            had = previous is not None and previous[r["name"]][1] > 0
            expected = previous[r["name"]][0] - r["rank"] if had and previous else 0
            assert r["movement"] == expected, (r, previous)
        previous = {n: (r["rank"], r["score"]) for n, r in by_name.items()}
        q.next_step(state, quiz, state.opened_at + 40)


def test_podium_top_three_and_bokaal() -> None:
    quiz = make_quiz(mc())
    names = {f"p{i}": f"Speler {i}" for i in range(5)}
    state = q.start(q.QuizState(), quiz, T0)
    _answer_and_close(state, quiz, {f"p{i}": (float(i), 0) for i in range(5)}, list(names))
    q.next_step(state, quiz, T0 + 30)
    f = facts(names)
    f.bokaal = {"team": "Team Noord", "winner": "Speler 0", "previous": None}
    view = shared_view("screen", state, quiz, f, T0 + 31)
    assert [(r["rank"], r["name"]) for r in view["podium"]["top"]] == [
        (1, "Speler 0"),
        (2, "Speler 1"),
        (3, "Speler 2"),
    ]
    assert view["podium"]["bokaal"]["winner"] == "Speler 0"
    assert len(view["scoreboard"]["top"]) == 5


# ---- the phone's own frame -------------------------------------------------------------------


def test_personal_view_through_a_question() -> None:
    quiz = make_quiz(mc(points=1000, time_limit=20), poll())
    names = {"pa": "Anna", "pb": "Bram"}
    state = q.start(q.QuizState(), quiz, T0)
    f = facts(names)

    me = personal_view(state, quiz, f, "pa", q.ranks(state))
    assert me["type"] == "me" and me["player"] == "pa" and me["name"] == "Anna"
    assert me["score"] == 0 and me["streak"] == 0
    # rank and player count only from the reveal on: joins must not change every phone's `me`
    assert "rank" not in me and "of" not in me
    assert "answer" not in me and "result" not in me

    answers = {"pa": q.accept_answer(state, quiz, {}, "pa", 0, 0, None, T0 + 10)}
    f = facts(names, answers)
    me = personal_view(state, quiz, f, "pa", q.ranks(state))
    assert me["answer"]["question"] == 0 and me["answer"]["choice"] == 0
    assert "result" not in me
    assert "answer" not in personal_view(state, quiz, f, "pb", q.ranks(state))

    q.close(state, quiz, answers, list(names), T0 + 20)
    ranks = q.ranks(state)
    me = personal_view(state, quiz, f, "pa", ranks)
    assert "answer" not in me  # from the reveal on, the given answer is part of the result
    assert me["result"] == {
        "question": 0,
        "correct": True,
        "points": 750,
        "streak_bonus": 0,
        "answered": True,
        "choice": 0,
        "value": None,
        "outcome": "correct",
    }
    assert (me["score"], me["streak"], me["rank"], me["of"]) == (750, 1, 1, 2)
    other = personal_view(state, quiz, f, "pb", ranks)
    assert other["result"] == {
        "question": 0,
        "correct": False,
        "points": 0,
        "streak_bonus": 0,
        "answered": False,
        "choice": None,
        "value": None,
        "outcome": "none",
    }
    assert (other["score"], other["rank"]) == (0, 2)

    # the scoreboard and the next question leave `me` as it was: no personal frame to send
    revealed = personal_view(state, quiz, f, "pa", ranks)
    q.show_scoreboard(state)
    assert personal_view(state, quiz, f, "pa", ranks) == revealed
    q.next_step(state, quiz, T0 + 30)
    f = facts(names, {})
    assert personal_view(state, quiz, f, "pa", q.ranks(state)) == revealed
    # a late joiner does not change the others' `me`: `of` counts the players scored so far
    f = facts({**names, "pc": "Cor"}, {})
    assert personal_view(state, quiz, f, "pa", q.ranks(state)) == revealed
    assert "rank" not in {
        k: v
        for k, v in personal_view(state, quiz, f, "pc", q.ranks(state)).items()
        if v is not None
    }
    answers = {"pa": q.accept_answer(state, quiz, {}, "pa", 1, 2, None, T0 + 31)}
    me = personal_view(state, quiz, facts(names, answers), "pa", q.ranks(state))
    assert me["answer"] == {"question": 1, "choice": 2, "value": None}
    assert me["result"]["question"] == 0  # the phone shows it only with question 0
    q.close(state, quiz, answers, list(names), T0 + 40)
    me = personal_view(state, quiz, facts(names, answers), "pa", q.ranks(state))
    assert me["result"]["question"] == 1 and me["result"]["choice"] == 2
    assert me["result"]["correct"] is None  # a poll
    assert me["result"]["points"] == 0
    assert me["streak"] == 1  # the poll kept the streak


def test_personal_view_estimate_answer_has_value() -> None:
    quiz = make_quiz(est())
    state = q.start(q.QuizState(), quiz, T0)
    answers = {"pa": q.accept_answer(state, quiz, {}, "pa", 0, None, 42.5, T0 + 1)}
    me = personal_view(state, quiz, facts({"pa": "Anna"}, answers), "pa", {})
    assert me["answer"]["question"] == 0 and me["answer"]["value"] == 42.5


# ---- when `me` can be skipped ----------------------------------------------------------------

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("answer"), st.integers(0, 4), st.integers(0, 3)),
        st.tuples(st.just("join"), st.integers(5, 7), st.just(0)),
        st.tuples(st.just("kick"), st.integers(0, 7), st.just(0)),
        st.sampled_from(
            [
                ("close", 0, 0),
                ("scoreboard", 0, 0),
                ("next", 0, 0),
                ("finish", 0, 0),
                ("restart", 0, 0),
            ]
        ),
    ),
    max_size=40,
)


@SETTINGS
@given(actions=ACTIONS)
def test_me_is_unchanged_while_its_basis_and_own_answer_are(actions: list) -> None:
    """The fan-out's rule (server/hub/fanout.py): while `personal_basis` is unchanged, only a
    player with a new answer in the open question's table gets a fresh `me`; everyone else is
    skipped. Whatever happens, a skipped phone's `me` must equal a freshly computed one.

    Played the way the hub plays (a copy per transition, the stored form built after each), it
    also checks that the cached stored form of the standings never goes stale and that a
    transition never changes the stored state it copied (copies share scores and results)."""
    quiz = make_quiz(mc(), tf(), poll(), est())
    state = q.start(q.QuizState(), quiz, T0)
    names = {f"p{i}": f"Speler {i}" for i in range(5)}
    answers: dict[str, q.Answer] = {}
    now = T0

    def snapshot() -> tuple[Any, tuple[int, int], set[str], dict[str, dict[str, Any]]]:
        ranks = q.ranks(state)
        f = facts(names, answers)
        mes = {p: personal_view(state, quiz, f, p, ranks) for p in names}
        return personal_basis(state), (state.round, state.index), set(answers), mes

    before = snapshot()
    for action, who, choice in actions:
        now += 1
        player = f"p{who}"
        state.to_dict()  # the stored form is cached, as after every save on the server
        stored, untouched = state, copy.deepcopy(state)
        state = state.copy()  # transitions change a copy of the (shared) stored room
        try:
            if action == "answer" and player in names and state.phase == q.QUESTION:
                kind = quiz["questions"][state.index]["type"]
                value = 40.0 + choice if kind == "estimate" else None
                pick = None if value is not None else choice % (2 if kind == "true_false" else 3)
                answers[player] = q.accept_answer(
                    state, quiz, answers, player, state.index, pick, value, now
                )
            elif action == "join":
                names.setdefault(player, f"Speler {who}")
            elif action == "kick" and player in names:
                del names[player]
                answers.pop(player, None)
                q.remove_player(state, player)
            elif action == "close":
                q.close(state, quiz, answers, list(names), now)
            elif action == "scoreboard":
                q.show_scoreboard(state)
            elif action == "next":
                q.next_step(state, quiz, now)
                answers = {}
            elif action == "finish":
                q.finish(state, quiz, answers, list(names), now)
            elif action == "restart":
                state = q.restart(state)
                answers = {}
        except q.QuizError:
            continue
        # the cached stored form never goes stale: what is saved decodes to this very state
        assert q.QuizState.from_dict(unpack(pack(state.to_dict()))) == state, action
        # and the stored room the copy came from (shared by every render) is not changed
        assert stored == untouched, action
        assert stored.scores == untouched.scores and stored.results == untouched.results
        after = snapshot()
        if after[0] == before[0]:
            fresh = after[2] - before[2] if after[1] == before[1] else after[2]
            for p, me in after[3].items():
                if p in before[3] and p not in fresh:
                    assert me == before[3][p], (action, p)
        before = after


def test_me_basis_skips_the_scoreboard_and_the_next_question() -> None:
    """The point of the rule: a scoreboard or a new question sends no personal frames."""
    quiz = make_quiz(mc(), tf())
    names = {"pa": "Anna", "pb": "Bram"}
    state = q.start(q.QuizState(), quiz, T0)
    answers = {"pa": q.accept_answer(state, quiz, {}, "pa", 0, 0, None, T0 + 1)}
    q.close(state, quiz, answers, list(names), T0 + 2)
    revealed = personal_basis(state)
    q.show_scoreboard(state)
    assert personal_basis(state) == revealed
    q.next_step(state, quiz, T0 + 3)
    assert personal_basis(state) == revealed
    q.close(state, quiz, {}, list(names), T0 + 4)
    assert personal_basis(state) != revealed  # scored: every `me` is computed again


def test_an_estimate_gives_its_unit_for_exactly_one_when_the_quiz_has_it() -> None:
    """The word for exactly 1 ("1 sticker") goes with the question when the quiz names it."""
    plain, one = est(), est()
    one["estimate"] |= {"unit": "stickers", "unit_one": "sticker"}
    quiz = make_quiz(plain, one)
    state = q.start(q.QuizState(), quiz, T0)
    shown = shared_view("phone", state, quiz, facts({}), T0 + 1)["question"]
    assert shown["unit"] == "%" and "unit_one" not in shown
    q.close(state, quiz, {}, [], T0 + 20)
    q.next_step(state, quiz, T0 + 30)
    shown = shared_view("phone", state, quiz, facts({}), T0 + 31)["question"]
    assert (shown["unit"], shown["unit_one"]) == ("stickers", "sticker")
