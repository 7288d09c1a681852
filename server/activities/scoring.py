"""Points for one answer: speed points, streak bonus and estimate closeness (pure arithmetic)."""

from __future__ import annotations

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
