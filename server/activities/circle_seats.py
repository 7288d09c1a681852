"""Who stands where in the binnen- en buitenkring, and who talks with whom (pure, no I/O).

Two aligned seat lists: `inner[i]` faces `outer[i]` at place i+1. With an odd number of people the
outer circle has one seat more; whoever stands on that last outer seat (the *gap*, nobody
opposite) joins the pair at place `trio_at + 1`: the one trio. The inner circle stands still, a
rotation turns the outer list (gap seat included), so the gap seat's person changes too.

Guarantees (tested in tests/unit/test_circle.py):
- everyone is in exactly one group: a pair, or the one trio (only when the number is odd); with
  one person, that person is alone (unavoidable); the circles differ by at most one seat;
- a rotation picks, from the requested shift onwards, the shift (and trio place) with the fewest
  meetings repeated from the round just before, then the fewest repeated from any earlier round
  (`Seats.rotate`). It gives everyone only new partners for 4 people and for 6 or more, whatever
  came before (with 2, 3 or 5 people no arrangement of two circles can: someone meets again);
- new partners are preferred: with m people in the smaller circle, nobody meets anyone twice in
  the first k rotations for k < m (even numbers: every inner person meets every outer person
  once in m rounds) and for k < m - 1 (odd numbers; the trio's third person meets two people a
  round, and the trio place follows the turning so that this stays new);
- a join or a leave changes only the groups it touches: a joiner pairs with the person on the
  gap seat (breaking up the trio) or becomes the gap person (forming the trio); a leaver's place
  is removed from both lists (everyone else stays aligned) and the partner left behind is
  re-added as if they had just joined.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

# How many shifts a rotation weighs at most: bounds the work of one rotate command at
# MAX_SHIFTS_TRIED × (people / 2) set lookups, even for a room of 2,000.
MAX_SHIFTS_TRIED = 256


# inner, outer, trio_at: what `Seats.arrangement` copies.
Arrangement = tuple[list[str], list[str], int]


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _group_at(inner: list[str], outer: list[str], trio_at: int, place: int) -> list[str] | None:
    """`Seats.groups()[place]` of an arrangement, without building the others."""
    m = len(inner)
    gap = outer[-1] if len(outer) > m else None
    if place < m:
        group = [inner[place], outer[place]]
        if gap is not None and trio_at == place:
            group.append(gap)
        return group
    if place == m and gap is not None and not 0 <= trio_at < m:
        return [gap]  # alone
    return None


def changed_groups(before: Arrangement, seats: Seats) -> Iterator[list[str]]:
    """The groups of `seats` that are not the group at the same place in `before` (by place):
    the people whose place, circle or partners a join or a leave changed. Only the pairs from
    the first one that differs are compared, and the trio's places before and now, so a leave
    costs a comparison of the places after it (which it renumbers anyway), not a copy of every
    group."""
    inner, outer, trio_at = before
    now_inner, now_outer = seats.inner, seats.outer
    limit = min(len(inner), len(now_inner))
    if now_inner[:limit] == inner[:limit] and now_outer[:limit] == outer[:limit]:
        first = limit
    else:
        first = next(
            i for i in range(limit) if now_inner[i] != inner[i] or now_outer[i] != outer[i]
        )
    differ = {
        i for i in range(first, limit) if now_inner[i] != inner[i] or now_outer[i] != outer[i]
    }
    maybe = {*range(limit, len(now_inner) + 1), trio_at, seats.trio_at} - differ
    for place in sorted(differ | {p for p in maybe if p >= 0}):
        now = _group_at(now_inner, now_outer, seats.trio_at, place)
        if now is not None and (place in differ or now != _group_at(inner, outer, trio_at, place)):
            yield now


@dataclass
class Seats:
    inner: list[str] = field(default_factory=list)
    outer: list[str] = field(default_factory=list)
    trio_at: int = -1  # the place (0-based) the gap person joins; -1: no trio
    met: set[tuple[str, str]] = field(default_factory=set)  # every pair that ever shared a group
    turned: int = 0  # the outer circle's total shift since the last join or leave (mod its size)

    # ---- reading ---------------------------------------------------------------------------
    @property
    def places(self) -> int:
        return len(self.inner)

    @property
    def gap(self) -> str | None:
        """The person on the outer seat with nobody opposite (odd numbers), if any."""
        return self.outer[-1] if len(self.outer) > len(self.inner) else None

    def __len__(self) -> int:
        return len(self.inner) + len(self.outer)

    def __contains__(self, player: object) -> bool:
        return player in self.inner or player in self.outer

    def people(self) -> Iterator[str]:
        yield from self.inner
        yield from self.outer

    def groups(self) -> list[list[str]]:
        """Every group, by place: [inner, outer] or, at the trio's place, [inner, outer, gap]."""
        out = [[i, o] for i, o in zip(self.inner, self.outer, strict=False)]
        gap = self.gap
        if gap is not None:
            if 0 <= self.trio_at < len(out):
                out[self.trio_at].append(gap)
            else:
                out.append([gap])  # alone: only when there is nobody else
        return out

    def locate(self, player: str) -> tuple[str, int] | None:
        """("inner" | "outer", place) of a seated player; the gap person gets the trio's place."""
        gap = self.gap
        if player == gap:
            return ("outer", self.trio_at)
        for circle, seats in (("inner", self.inner), ("outer", self.outer)):
            try:
                return (circle, seats.index(player))
            except ValueError:
                continue
        return None

    def index(self) -> dict[str, tuple[str, int]]:
        """`locate` for everyone at once (O(n)): what views use, one lookup per phone."""
        out = {p: ("inner", i) for i, p in enumerate(self.inner)}
        out.update((p, ("outer", i)) for i, p in enumerate(self.outer))
        gap = self.gap
        if gap is not None:
            out[gap] = ("outer", self.trio_at)
        return out

    def group_of(self, player: str, where: tuple[str, int] | None = None) -> list[str]:
        """The player's group (the player included); [] when not seated. `where`: the player's
        `locate`, when the caller has it."""
        where = where or self.locate(player)
        if where is None:
            return []
        place = where[1]
        if place < 0:
            return [player]
        group = [self.inner[place], self.outer[place]]
        if place == self.trio_at and self.gap is not None:
            group.append(self.gap)
        return group

    def partners(self) -> dict[str, frozenset[str]]:
        """Everyone's partners now (O(n))."""
        out: dict[str, frozenset[str]] = {}
        for group in self.groups():
            for p in group:
                out[p] = frozenset(q for q in group if q != p)
        return out

    def arrangement(self) -> Arrangement:
        """The seats as they are (copies): to find, after a join or a leave, whose group changed
        (`changed_groups`)."""
        return (list(self.inner), list(self.outer), self.trio_at)

    # ---- changing --------------------------------------------------------------------------
    def record(self, groups: Iterable[Sequence[str]] | None = None) -> None:
        """Remember that the people in each group (default: the current ones) have met."""
        for group in self.groups() if groups is None else groups:
            for i, a in enumerate(group):
                for b in group[i + 1 :]:
                    self.met.add(pair_key(a, b))

    @classmethod
    def form(cls, players: Sequence[str]) -> Seats:
        """The first arrangement: the first half (join order) inside, the second half facing them,
        so people who joined together (and often sit together) do not start as partners."""
        half = len(players) // 2
        seats = cls(inner=list(players[:half]), outer=list(players[half:]))
        seats._place_trio()
        seats.record()
        return seats

    def add(self, player: str) -> None:
        """Seat a joiner without changing anyone's partner except the trio's."""
        if player in self:
            return
        if self.gap is None:
            self.outer.append(player)  # the joiner is the new gap person: forms the trio
            self.turned = 0
            self._place_trio()
        else:
            self.inner.append(player)  # faces the gap person: the trio becomes a pair
            self.trio_at = -1
            self.turned = 0
        self.record(self._groups_with(player))

    def remove(self, player: str) -> None:
        """Unseat a leaver; only their group and the trio change."""
        where = self.locate(player)
        if where is None:
            return
        if player == self.gap:
            self.outer.pop()
            self.trio_at = -1
            self.turned = 0
            return
        place = where[1]
        left = self.outer[place] if where[0] == "inner" else self.inner[place]
        del self.inner[place]
        del self.outer[place]
        # Odd: `left` pairs with the gap person (the trio, wherever it was, becomes a pair);
        # even: `left` becomes the gap person and forms the trio.
        self.add(left)

    def rotate(self, requested: int) -> int:
        """Turn the outer circle; returns the shift used (0: no other arrangement exists).

        Shifts are weighed from `requested` on (requested, requested+1, …, wrapping round), each
        with its best trio place; the first with the fewest (repeats from the current round,
        repeats from any earlier round) wins, so the requested shift is kept whenever it is as
        good as any other."""
        size = len(self.outer)
        if size < 2 or not self.inner:
            return 0
        now = self.partners()
        best: tuple[int, int] | None = None
        best_shift, best_trio = 0, -1
        for k in range(min(size - 1, MAX_SHIFTS_TRIED)):
            shift = (requested - 1 + k) % (size - 1) + 1
            outer = self.outer[-shift:] + self.outer[:-shift]
            cost, trio = self._cost(outer, now, (self.turned + shift) % size)
            if best is None or cost < best:
                best, best_shift, best_trio = cost, shift, trio
                if cost == (0, 0):
                    break
        self.outer = self.outer[-best_shift:] + self.outer[:-best_shift]
        self.trio_at = best_trio
        self.turned = (self.turned + best_shift) % size
        self.record()
        return best_shift

    # ---- inside ----------------------------------------------------------------------------
    def _groups_with(self, player: str) -> list[list[str]]:
        return [self.group_of(player)]

    def _cost(
        self, outer: list[str], now: dict[str, frozenset[str]], turned: int
    ) -> tuple[tuple[int, int], int]:
        """(repeats from now, repeats ever) of an arrangement, and its best trio place."""
        again = ever = 0
        met = self.met
        for i, o in zip(self.inner, outer, strict=False):
            if o in now.get(i, ()):
                again += 1
            if pair_key(i, o) in met:
                ever += 1
        trio = -1
        if len(outer) > len(self.inner):
            gap = outer[-1]
            best: tuple[int, int] | None = None
            for place in self._trio_order(turned):
                cost = (0, 0)
                for other in (self.inner[place], outer[place]):
                    cost = (
                        cost[0] + (other in now.get(gap, ())),
                        cost[1] + (pair_key(gap, other) in met),
                    )
                if best is None or cost < best:
                    best, trio = cost, place
                    if cost == (0, 0):
                        break
            assert best is not None
            again += best[0]
            ever += best[1]
        return (again, ever), trio

    def _trio_order(self, turned: int = 0) -> Iterator[int]:
        """The places to try for the trio, best first. After the outer circle turned t places
        since it was formed, the gap person first tries place m-1-t (counted back round the
        circle): turning one place at a time, that lets the gap person and the inner person
        meet for the first time in every round until everyone inside met everyone outside."""
        m = len(self.inner)
        start = (m - 1 - turned) % (m + 1)
        if start == m:
            start = m - 1
        for k in range(m):
            yield (start - k) % m

    def _place_trio(self) -> None:
        """Choose the trio place for the current gap person: one where they meet new people,
        nearest the gap first; -1 when there is no gap person or nobody to join."""
        gap = self.gap
        if gap is None or not self.inner:
            self.trio_at = -1
            return
        for place in self._trio_order():
            if (
                pair_key(gap, self.inner[place]) not in self.met
                and pair_key(gap, self.outer[place]) not in self.met
            ):
                self.trio_at = place
                return
        self.trio_at = len(self.inner) - 1
