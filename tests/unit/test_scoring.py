"""Scoring arithmetic (docs/PROTOCOL.md "Scoring"): speed points, streak bonus, estimate closeness.

Expected numbers are worked out by hand from the documented formulas, not copied from the code.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.activities import quiz as q
from server.activities import scoring

# ---- speed points: round(P × (1 − (t/T)/2)) --------------------------------------------------


@pytest.mark.parametrize(
    ("points", "elapsed", "limit", "expected"),
    [
        (1000, 0.0, 20, 1000),  # instant → full points
        (1000, 20.0, 20, 500),  # at the deadline → half
        (1000, 10.0, 20, 750),  # halfway → three quarters
        (1000, 5.0, 20, 875),
        (1000, 3.0, 30, 950),
        (2000, 0.0, 20, 2000),  # double points
        (2000, 20.0, 20, 1000),
        (2000, 10.0, 20, 1500),
        (2000, 5.0, 20, 1750),
        (1000, 1.0, 3, 833),  # 833.33… rounds down
        (1000, 2.0, 3, 667),  # 666.66… rounds up
        (0, 0.0, 20, 0),  # a question worth nothing
        (0, 20.0, 20, 0),
    ],
)
def test_speed_points_kahoot_formula(
    points: int, elapsed: float, limit: int, expected: int
) -> None:
    assert scoring.speed_points(points, elapsed, limit) == expected


def test_speed_points_is_an_int() -> None:
    assert type(scoring.speed_points(1000, 7.3, 20)) is int


@given(
    points=st.sampled_from([1000, 2000]),
    limit=st.integers(min_value=5, max_value=240),
    elapsed=st.floats(min_value=-10, max_value=500, allow_nan=False),
)
def test_speed_points_between_half_and_full(points: int, limit: int, elapsed: float) -> None:
    got = scoring.speed_points(points, elapsed, limit)
    assert points // 2 <= got <= points


@given(
    points=st.sampled_from([0, 1000, 2000]),
    limit=st.integers(min_value=5, max_value=240),
    a=st.floats(min_value=0, max_value=240, allow_nan=False),
    b=st.floats(min_value=0, max_value=240, allow_nan=False),
)
def test_slower_never_scores_more(points: int, limit: int, a: float, b: float) -> None:
    fast, slow = sorted((a, b))
    assert scoring.speed_points(points, slow, limit) <= scoring.speed_points(points, fast, limit)


# ---- streak bonus: min(100 × (streak − 1), 500) ----------------------------------------------


@pytest.mark.parametrize(
    ("streak", "expected"),
    [
        (0, 0),
        (1, 0),
        (2, 100),
        (3, 200),
        (4, 300),
        (5, 400),
        (6, 500),
        (7, 500),
        (10, 500),
        (50, 500),
    ],
)
def test_streak_bonus_table(streak: int, expected: int) -> None:
    assert scoring.streak_bonus(streak, 1000) == expected


@pytest.mark.parametrize("streak", [2, 6, 10])
def test_streak_bonus_not_doubled_on_double_points(streak: int) -> None:
    assert scoring.streak_bonus(streak, 2000) == scoring.streak_bonus(streak, 1000) > 0


@pytest.mark.parametrize("streak", [0, 1, 2, 6, 10])
def test_no_streak_bonus_on_questions_worth_nothing(streak: int) -> None:
    assert scoring.streak_bonus(streak, 0) == 0


# ---- estimate closeness ----------------------------------------------------------------------
# answer 50 on 0…100 with tolerance 5: full marks on 45…55, then linear to 0 at distance 5 + 25.


@pytest.mark.parametrize("guess", [50, 45, 55, 52.3, 47.0001])
def test_estimate_inside_tolerance_is_full(guess: float) -> None:
    assert scoring.estimate_closeness(guess, 50, 0, 100, 5) == 1.0


@pytest.mark.parametrize(
    ("guess", "expected"),
    [
        (60, 0.8),  # 5 beyond the tolerance: 1 − 5/25
        (40, 0.8),  # symmetric below the answer
        (67.5, 0.5),
        (30, 0.4),  # 15 beyond: 1 − 15/25
        (79, 0.04),
        (80, 0.0),  # exactly tolerance + 25 % of the range
        (20, 0.0),
        (81, 0.0),
        (100, 0.0),
        (0, 0.0),
    ],
)
def test_estimate_linear_falloff(guess: float, expected: float) -> None:
    assert scoring.estimate_closeness(guess, 50, 0, 100, 5) == pytest.approx(expected, abs=1e-9)


def test_estimate_falloff_scales_with_range() -> None:
    # range 1…12 → 25 % is 2.75; answer 6, tolerance 1: guess 9 is 2 beyond → 1 − 2/2.75
    assert scoring.estimate_closeness(9, 6, 1, 12, 1) == pytest.approx(1 - 2 / 2.75)
    assert scoring.estimate_closeness(10, 6, 1, 12, 1) == 0.0  # 3 beyond > 2.75


def test_estimate_zero_tolerance_only_exact_is_full() -> None:
    assert scoring.estimate_closeness(50, 50, 0, 100, 0) == 1.0
    assert scoring.estimate_closeness(51, 50, 0, 100, 0) == pytest.approx(1 - 1 / 25)


@given(
    low=st.integers(min_value=-1000, max_value=1000),
    span=st.integers(min_value=1, max_value=10_000),
    answer_frac=st.floats(min_value=0, max_value=1),
    tol_frac=st.floats(min_value=0, max_value=0.5),
    a_frac=st.floats(min_value=0, max_value=1),
    b_frac=st.floats(min_value=0, max_value=1),
)
def test_estimate_closeness_properties(
    low: int, span: int, answer_frac: float, tol_frac: float, a_frac: float, b_frac: float
) -> None:
    high = low + span
    answer = low + answer_frac * span
    tolerance = tol_frac * span
    a = low + a_frac * span
    b = low + b_frac * span
    ca = scoring.estimate_closeness(a, answer, low, high, tolerance)
    cb = scoring.estimate_closeness(b, answer, low, high, tolerance)
    assert 0.0 <= ca <= 1.0
    # closer (or equally close) guesses are never worth less
    if abs(a - answer) <= abs(b - answer):
        assert ca >= cb
    # inside the tolerance is full; beyond tolerance + 25 % of the range is nothing
    if abs(a - answer) <= tolerance:
        assert ca == 1.0
    if abs(a - answer) >= tolerance + 0.25 * span + 1e-9 * span:
        assert ca == 0.0
    # linear in between: the closeness at the mid distance is the mean of the two
    da, db = abs(a - answer), abs(b - answer)
    if min(da, db) >= tolerance and max(da, db) <= tolerance + 0.25 * span:
        mid = scoring.estimate_closeness(answer + (da + db) / 2, answer, low, high, tolerance)
        assert mid == pytest.approx((ca + cb) / 2, abs=1e-6)


@pytest.mark.parametrize(
    ("points", "closeness", "elapsed", "limit", "expected"),
    [
        (1000, 1.0, 0, 20, 1000),
        (1000, 1.0, 10, 20, 750),
        (1000, 0.5, 0, 20, 500),
        (1000, 0.5, 20, 20, 250),
        (2000, 0.8, 10, 20, 1200),
        (1000, 0.0, 0, 20, 0),
    ],
)
def test_estimate_points(
    points: int, closeness: float, elapsed: float, limit: int, expected: int
) -> None:
    assert scoring.estimate_points(points, closeness, elapsed, limit) == expected


# ---- the formulas as applied to one answer (quiz.score_answer) -------------------------------

MC = {
    "id": "m",
    "type": "multiple_choice",
    "text": "?",
    "time_limit": 20,
    "points": 1000,
    "options": [
        {"text": "a", "correct": False},
        {"text": "b", "correct": True},
        {"text": "c", "correct": False},
    ],
}
TF = {
    "id": "t",
    "type": "true_false",
    "text": "?",
    "time_limit": 10,
    "points": 2000,
    "answer": False,
}
POLL = {
    "id": "p",
    "type": "poll",
    "text": "?",
    "time_limit": 20,
    "points": 0,
    "options": [{"text": "x"}, {"text": "y"}],
}
EST = {
    "id": "e",
    "type": "estimate",
    "text": "?",
    "time_limit": 20,
    "points": 1000,
    "estimate": {"answer": 50, "min": 0, "max": 100, "unit": "%", "tolerance": 5},
}


def test_correct_answer_points_and_streak() -> None:
    result, streak = q.score_answer(MC, q.Answer(ms=10_000, choice=1), streak_before=2)
    assert (result.answered, result.correct, result.points, result.bonus) == (True, True, 750, 200)
    assert result.total == 950
    assert streak == 3


def test_wrong_answer_zero_and_streak_reset() -> None:
    result, streak = q.score_answer(MC, q.Answer(ms=0, choice=0), streak_before=4)
    assert (result.correct, result.points, result.bonus, result.total) == (False, 0, 0, 0)
    assert streak == 0


def test_no_answer_zero_and_streak_reset() -> None:
    result, streak = q.score_answer(MC, None, streak_before=4)
    assert (result.answered, result.correct, result.total) == (False, False, 0)
    assert streak == 0


def test_true_false_index_zero_is_true() -> None:
    # answer False → option 1 ("Niet waar") is right
    right, _ = q.score_answer(TF, q.Answer(ms=5_000, choice=1), 0)
    wrong, _ = q.score_answer(TF, q.Answer(ms=0, choice=0), 0)
    assert right.correct is True and right.points == 1500  # 2000 × (1 − 0.5/2)
    assert wrong.correct is False and wrong.points == 0


@pytest.mark.parametrize("streak_before", [0, 1, 5])
@pytest.mark.parametrize("answer", [None, q.Answer(ms=100, choice=0), q.Answer(ms=9, choice=1)])
def test_poll_scores_nothing_and_keeps_streak(streak_before: int, answer: q.Answer | None) -> None:
    result, streak = q.score_answer(POLL, answer, streak_before)
    assert result.total == 0
    assert result.correct is None
    assert streak == streak_before


def test_estimate_inside_tolerance_is_correct_with_speed_points() -> None:
    result, streak = q.score_answer(EST, q.Answer(ms=10_000, value=54.0), streak_before=1)
    assert result.correct is True
    assert result.points == 750
    assert result.bonus == 100
    assert streak == 2


def test_estimate_beyond_tolerance_partial_points_but_not_correct() -> None:
    # 67.5 → closeness 0.5; instant → 500 points; not correct, so the streak breaks
    result, streak = q.score_answer(EST, q.Answer(ms=0, value=67.5), streak_before=3)
    assert result.correct is False
    assert result.points == 500
    assert result.bonus == 0
    assert streak == 0
    far, _ = q.score_answer(EST, q.Answer(ms=0, value=100.0), 0)
    assert far.points == 0


# ---- estimate outcomes (goed / bijna / fout) --------------------------------------------------
ISSUE_EST = {
    "id": "e",
    "type": "estimate",
    "text": "?",
    "time_limit": 20,
    "points": 1000,
    "estimate": {"answer": 6, "min": 1, "max": 12, "unit": "", "tolerance": 1},
}


@pytest.mark.parametrize(
    ("guess", "outcome"),
    [
        (6, "correct"),
        (7, "correct"),
        (5, "correct"),
        (3, "near"),
        (9, "near"),
        (12, "wrong"),
        (1, "wrong"),
    ],
)
def test_estimate_outcome_and_points_agree(guess: float, outcome: str) -> None:
    result, _ = q.score_answer(ISSUE_EST, q.Answer(ms=19_999, value=float(guess)), 0)
    assert q.outcome(ISSUE_EST, result) == outcome
    assert scoring.estimate_outcome(guess, 6, 1, 12, 1) == outcome
    assert (result.points > 0) == (outcome != "wrong")  # bijna always brings points
    assert result.correct is (outcome == "correct")


def test_near_does_not_count_for_the_streak() -> None:
    result, streak = q.score_answer(ISSUE_EST, q.Answer(ms=0, value=3.0), streak_before=3)
    assert q.outcome(ISSUE_EST, result) == "near"
    assert streak == 0 and result.bonus == 0


# ---- estimate chart bins ------------------------------------------------------------------------
def test_small_whole_number_ranges_get_one_bin_per_number() -> None:
    assert scoring.estimate_bins(1, 12) == [(float(v), float(v)) for v in range(1, 13)]


@pytest.mark.parametrize(
    ("low", "high", "first", "last"),
    [
        (0, 100, (0, 9), (90, 100)),
        (1900, 2024, (1900, 1919), (2020, 2024)),
        (0, 1000, (0, 99), (900, 1000)),
        (0.5, 2.5, (0.5, 0.6), (2.4, 2.5)),
    ],
)
def test_larger_ranges_get_round_edges(
    low: float, high: float, first: tuple[float, float], last: tuple[float, float]
) -> None:
    bins = scoring.estimate_bins(low, high)
    assert bins[0] == first and bins[-1] == last


@given(
    low=st.integers(-1000, 1000),
    span=st.integers(0, 100_000),
    whole=st.booleans(),
    frac=st.sampled_from([0.0, 0.25, 0.5]),
)
def test_bins_cover_the_range_in_order(low: int, span: int, whole: bool, frac: float) -> None:
    lo = float(low) if whole else low + frac
    hi = lo + span + (0 if whole else frac)
    bins = scoring.estimate_bins(lo, hi)
    assert 1 <= len(bins) <= scoring.MAX_BINS
    assert bins[0][0] == lo and bins[-1][1] == hi
    assert all(a[0] <= a[1] for a in bins)
    assert all(a[0] < b[0] for a, b in itertools.pairwise(bins))
    for v in (lo, hi, (lo + hi) / 2):
        index = scoring.estimate_bin(v, bins)
        assert bins[index][0] <= v or index == 0
