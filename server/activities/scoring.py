"""Points for one answer: speed points, streak bonus and estimate closeness (pure arithmetic)."""

from __future__ import annotations

import math

STREAK_STEP = 100
STREAK_MAX = 500
ESTIMATE_FALLOFF = 0.25  # share of the range beyond the tolerance where points reach 0


def speed_factor(elapsed_s: float, time_limit_s: float) -> float:
    """1.0 for an instant answer, 0.5 at the deadline (Kahoot's curve)."""
    if time_limit_s <= 0:
        return 0.5
    ratio = min(max(elapsed_s / time_limit_s, 0.0), 1.0)
    return 1.0 - ratio / 2.0


def speed_points(points: int, elapsed_s: float, time_limit_s: float) -> int:
    """round(points × (1 − (t/T)/2)) for a correct answer."""
    return round(points * speed_factor(elapsed_s, time_limit_s))


def streak_bonus(streak: int, points: int) -> int:
    """+100 per consecutive correct answer after the first, at most +500; none at 0 points."""
    if points <= 0 or streak <= 1:
        return 0
    return min(STREAK_STEP * (streak - 1), STREAK_MAX)


def estimate_closeness(
    guess: float, answer: float, low: float, high: float, tolerance: float
) -> float:
    """1.0 within the tolerance, falling linearly to 0.0 at tolerance + 25 % of the range."""
    distance = abs(guess - answer)
    if distance <= tolerance:
        return 1.0
    falloff = max((high - low) * ESTIMATE_FALLOFF, 1e-9)
    return max(0.0, 1.0 - (distance - tolerance) / falloff)


def estimate_points(points: int, closeness: float, elapsed_s: float, time_limit_s: float) -> int:
    return round(points * closeness * speed_factor(elapsed_s, time_limit_s))


# The three outcomes of an estimate, said the same way on every screen and in the export.
CORRECT = "correct"  # within the tolerance: goed, full speed points, counts for the streak
NEAR = "near"  # beyond it but within the partial zone: bijna, some points, breaks the streak
WRONG = "wrong"  # beyond the partial zone: fout, 0 points


def estimate_outcome(guess: float, answer: float, low: float, high: float, tolerance: float) -> str:
    if abs(guess - answer) <= tolerance:
        return CORRECT
    return NEAR if estimate_closeness(guess, answer, low, high, tolerance) > 0.0 else WRONG


# ---- the estimate chart's bins -------------------------------------------------------------
MAX_BINS = 12
_NICE = (1.0, 2.0, 2.5, 5.0)


def estimate_bins(low: float, high: float) -> list[tuple[float, float]]:
    """Bins that follow the values: one per whole number when the range is whole and small
    (1…12 → twelve bins "1", "2", …), else at most 12 bins of a round width (1, 2, 2.5 or 5
    times a power of ten) starting at a multiple of it. A bin is (lo, hi): for whole-number
    questions both ends are included ("10–19"); otherwise lo is included and hi is not, except
    in the last bin."""
    integral = float(low).is_integer() and float(high).is_integer()
    span = high - low
    if integral and span + 1 <= MAX_BINS:
        return [(float(v), float(v)) for v in range(int(low), int(high) + 1)]
    if span <= 0:
        return [(float(low), float(high))]
    exponent = math.floor(math.log10(span / MAX_BINS)) - 1
    while True:
        for m in _NICE:
            width = m * 10.0**exponent
            if integral and not float(round(width, 9)).is_integer():
                continue
            width = round(width, 12)
            start = math.floor(low / width) * width
            cover = high - start + (1 if integral else 0)
            count = max(1, math.ceil(round(cover / width, 9)))
            if count <= MAX_BINS:
                last = 1.0 if integral else 0.0
                bins = [
                    (_tidy(start + i * width), _tidy(start + (i + 1) * width - last))
                    for i in range(count)
                ]
                if integral and len(bins) > 1 and bins[-1][0] >= high:
                    bins[-2:] = [(bins[-2][0], bins[-1][0])]  # 90–100, not 90–99 and 100–109
                # Within min…max: a label never names a value nobody could give.
                bins[0] = (max(bins[0][0], float(low)), bins[0][1])
                bins[-1] = (bins[-1][0], min(bins[-1][1], float(high)))
                return bins
        exponent += 1


def _tidy(x: float) -> float:
    return round(x, 9) + 0.0  # no 0.30000000000000004 and no -0.0 in a label


def estimate_bin(value: float, bins: list[tuple[float, float]]) -> int:
    """The index of the bin holding `value` (values outside go to the first or last bin)."""
    index = 0
    for i, (lo, _) in enumerate(bins):
        if i == 0 or value >= lo:
            index = i
    return index
