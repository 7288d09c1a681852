"""Binnen- en buitenkring (server/activities/circle.py, circle_seats.py, circle_results.py): seats,
rotations, joins and leaves, entries and their checks, phases, views, privacy, export, stored form.

Pure: no hub, no clock (`now` is a number), hypothesis plays random rooms.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import statistics
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgpack import packb, unpackb

from server.activities import circle as c
from server.activities import circle_results as r
from server.activities.base import CLOSE_GATE, ActivityError, Context, Facts
from server.activities.circle_seats import Seats, changed_groups, pair_key

T0 = 1_700_000_000.0
A = c.CIRCLE
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ids(n: int, start: int = 0) -> list[str]:
    return [f"p{i:04d}" for i in range(start, start + n)]


def names_of(players: list[str]) -> dict[str, str]:
    return {p: f"Naam {p}" for p in players}


def ctx(players: list[str], **kw: Any) -> Context:
    kw.setdefault("names", names_of(players))
    return Context(now=kw.pop("now", T0), players=players, **kw)


def facts(players: list[str], inputs: Mapping[str, Any] | None = None, **kw: Any) -> Facts:
    return Facts(
        code="ABCD",
        join_url="https://example/j/ABCD",
        team="team",
        locked=False,
        lang="nl",
        names=kw.pop("names", names_of(players)),
        online=frozenset(players),
        inputs=dict(inputs or {}),
        **kw,
    )


def entry(domain: str = "inkomen", grade: int = 7, reason: str = "") -> dict[str, Any]:
    return {"domain": domain, "grade": grade, "reason": reason}


def started(content: Mapping[str, Any] | None = None) -> c.CircleState:
    state = A.new_state(content or {})
    A.command(state, content or {}, "start", ctx([]))
    return state


def locked(players: list[str], inputs: Mapping[str, Any]) -> c.CircleState:
    state = started()
    A.command(state, {}, "lock_grades", ctx(players, inputs=inputs))
    return state


def check_groups(seats: Seats) -> None:
    """The seat invariants: one group each; pairs, one trio only when odd, alone only when one."""
    people = list(seats.people())
    assert len(people) == len(set(people))
    groups = seats.groups()
    counted = Counter(p for g in groups for p in g)
    assert set(counted) == set(people)
    assert all(n == 1 for n in counted.values())
    sizes = Counter(len(g) for g in groups)
    n = len(people)
    if n == 1:
        assert sizes == Counter({1: 1})
    else:
        assert sizes[1] == 0
        assert sizes[3] == (1 if n % 2 else 0)
        assert set(sizes) <= {2, 3}
    assert 0 <= len(seats.outer) - len(seats.inner) <= 1


def partner_map(seats: Seats) -> dict[str, frozenset[str]]:
    return seats.partners()


# ---- seats -------------------------------------------------------------------------------------

ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 10_000)),
        st.tuples(st.just("remove"), st.integers(0, 10_000)),
        st.tuples(st.just("rotate"), st.sampled_from([1, 2])),
    ),
    max_size=40,
)


def apply_steps(
    seats: Seats,
    steps: list[tuple[str, int]],
    fresh: int = 100_000,
    turns: bool = True,
    after_each: Callable[[Seats], None] | None = None,
) -> Seats:
    """Joins (new ids from `fresh` on), leaves and, with `turns`, rotations, in order."""
    for op, arg in steps:
        present = sorted(seats.people())
        if op == "add":
            fresh += 1
            seats.add(f"p{fresh}")
        elif op == "remove" and present:
            seats.remove(present[arg % len(present)])
        elif op == "rotate" and turns:
            seats.rotate(arg)
        if after_each is not None:
            after_each(seats)
    return seats


def play(n: int, steps: list[tuple[str, int]]) -> Seats:
    return apply_steps(Seats.form(ids(n)), steps)


@SETTINGS
@given(st.integers(0, 45), ops)
def test_everyone_has_one_partner_or_is_in_the_one_trio(
    n: int, steps: list[tuple[str, int]]
) -> None:
    seats = Seats.form(ids(n))
    check_groups(seats)
    apply_steps(seats, steps, after_each=check_groups)


def test_small_numbers() -> None:
    assert Seats.form([]).groups() == []
    assert Seats.form(["a"]).groups() == [["a"]]
    assert Seats.form(["a", "b"]).groups() == [["a", "b"]]
    assert Seats.form(["a", "b", "c"]).groups() == [["a", "b", "c"]]
    five = Seats.form(ids(5))
    assert sorted(len(g) for g in five.groups()) == [2, 3]


@SETTINGS
@given(st.integers(4, 61).filter(lambda n: n != 5), ops, st.sampled_from([1, 2]))
def test_a_rotation_changes_every_partner_from_four_people_on_except_five(
    n: int, steps: list[tuple[str, int]], places: int
) -> None:
    """With 4 people, or 6 or more, every rotation gives everyone only new partners, whatever
    happened before (joins, leaves, rotations). With 2, 3 or 5 people no arrangement can."""
    seats = play(n, steps)
    if len(seats) == 5 or len(seats) < 4:
        seats = Seats.form(ids(n))
    before = partner_map(seats)
    shift = seats.rotate(places)
    after = partner_map(seats)
    assert 1 <= shift < len(seats.outer)
    for person, partners in after.items():
        assert not partners & before[person], (person, partners, before[person])


@pytest.mark.parametrize("n", [2, 3, 5])
def test_with_two_three_or_five_someone_meets_again(n: int) -> None:
    seats = Seats.form(ids(n))
    before = partner_map(seats)
    seats.rotate(1)
    after = partner_map(seats)
    assert any(after[p] & before[p] for p in after)
    check_groups(seats)


def test_requested_shift_is_kept_when_it_is_as_good() -> None:
    seats = Seats.form(ids(20))  # two circles of 10
    assert seats.rotate(2) == 2
    assert seats.rotate(1) == 1
    odd = Seats.form(ids(21))
    assert odd.rotate(1) == 1


def test_a_shift_that_repeats_is_passed_over() -> None:
    seats = Seats.form(ids(8))  # circles of 4: shifts 2 + 2 come back to the start
    assert seats.rotate(2) == 2
    assert seats.rotate(2) == 3  # 2 more would put everyone opposite their first partner


@SETTINGS
@given(st.integers(4, 60), st.lists(st.sampled_from([1, 2]), min_size=1, max_size=40))
def test_new_partners_are_preferred(n: int, requests: list[int]) -> None:
    """With m people in the smaller circle, nobody meets anyone twice in the first k rotations
    for k < m when the number is even, k < m - 1 when it is odd (odd numbers: the trio's third
    person meets two people a round)."""
    m = n // 2
    limit = m - 1 if n % 2 == 0 else m - 2
    seats = Seats.form(ids(n))
    meetings: Counter[tuple[str, str]] = Counter()

    def count() -> None:
        for g in seats.groups():
            for a, b in itertools.combinations(g, 2):
                meetings[pair_key(a, b)] += 1

    count()
    for places in requests[:limit]:
        seats.rotate(places)
        count()
    assert max(meetings.values()) == 1


def groups_by_person(seats: Seats) -> dict[str, frozenset[str]]:
    return {p: frozenset(g) for g in seats.groups() for p in g}


@SETTINGS
@given(st.integers(0, 41), ops, st.integers(0, 10_000))
def test_a_join_changes_only_the_trio(n: int, steps: list[tuple[str, int]], _: int) -> None:
    seats = play(n, steps)
    before = groups_by_person(seats)
    gap = seats.gap
    seats.add("joiner")
    after = groups_by_person(seats)
    affected = set(after["joiner"]) | (set(before[gap]) if gap is not None else set())
    assert len(affected) <= 4
    for person, group in before.items():
        if person not in affected:
            assert after[person] == group
    check_groups(seats)


@SETTINGS
@given(st.integers(1, 41), ops, st.integers(0, 10_000))
def test_a_leave_changes_only_the_leavers_group_and_the_trio(
    n: int, steps: list[tuple[str, int]], pick: int
) -> None:
    seats = play(n, steps)
    present = sorted(seats.people())
    if not present:
        return
    leaver = present[pick % len(present)]
    before = groups_by_person(seats)
    gap = seats.gap
    seats.remove(leaver)
    after = groups_by_person(seats)
    assert leaver not in after
    assert set(after) == set(before) - {leaver}
    affected = set(before[leaver]) | (set(before[gap]) if gap is not None else set())
    for person in before[leaver] - {leaver}:
        affected |= after[person]
    assert len(affected) <= 7
    for person, group in before.items():
        if person not in affected:
            assert after[person] == group
    check_groups(seats)


@SETTINGS
@given(st.integers(0, 25), ops, ops)
def test_changed_groups_are_the_groups_not_at_their_place_before(
    n: int, steps: list[tuple[str, int]], changes: list[tuple[str, int]]
) -> None:
    """`changed_groups` (which compares only the places that can differ) finds exactly the
    groups that a plain comparison of every place finds, after joins and leaves in any order."""
    seats = play(n, steps)
    before = seats.groups()
    arrangement = seats.arrangement()
    apply_steps(seats, changes, fresh=200_000, turns=False)
    after = seats.groups()
    plain = [g for i, g in enumerate(after) if i >= len(before) or before[i] != g]
    assert list(changed_groups(arrangement, seats)) == plain


# ---- entries -----------------------------------------------------------------------------------


def gate() -> Mapping[str, Any]:
    state = A.new_state({})
    effects = A.command(state, {}, "start", ctx([]))
    assert effects.gate is not None
    return effects.gate


@pytest.mark.parametrize(
    "payload, code",
    [
        (entry(grade=0), "invalid_grade"),
        (entry(grade=11), "invalid_grade"),
        ({"domain": "inkomen", "grade": True}, "invalid_grade"),
        ({"domain": "inkomen", "grade": 7.0}, "invalid_grade"),
        ({"domain": "inkomen", "grade": "7"}, "invalid_grade"),
        ({"domain": "inkomen"}, "invalid_grade"),
        (entry(domain="wonen"), "invalid_domain"),
        (entry(domain=" inkomen"), "invalid_domain"),
        ({"grade": 5}, "invalid_domain"),
        ({"domain": 3, "grade": 5}, "invalid_domain"),
        (entry(reason="x" * 281), "invalid_reason"),
        ({"domain": "inkomen", "grade": 5, "reason": 12}, "invalid_reason"),
    ],
)
def test_invalid_entries_are_refused_with_their_code(payload: dict[str, Any], code: str) -> None:
    with pytest.raises(ActivityError) as err:
        A.accept(gate(), {}, "p0000", payload, T0)
    assert err.value.code == code


@SETTINGS
@given(
    st.sampled_from(c.DEFAULT_DOMAINS),
    st.integers(1, 10),
    st.text(max_size=c.MAX_REASON_CHARS),
)
def test_valid_entries_are_accepted_and_may_change(domain: str, grade: int, reason: str) -> None:
    record = A.accept(gate(), {}, "p0000", entry(domain, grade, reason), T0)
    assert record.table == c.TABLE
    assert record.overwrite is True
    assert A.decode_input(dict(record.value)) == {
        "domain": domain,
        "grade": grade,
        "reason": reason.strip(),
    }
    assert A.decode_input({"domain": domain}) is None


def test_no_entry_once_the_gate_is_closed_or_another_werkvorms() -> None:
    for closed in (CLOSE_GATE, {}, {"activity": "quiz", "domains": ["inkomen"]}):
        with pytest.raises(ActivityError) as err:
            A.accept(closed, {}, "p0000", entry(), T0)
        assert err.value.code == "not_open"


@pytest.mark.parametrize(
    "domains",
    [
        [],
        ["a"] * 2,
        ["Inkomen", "inkomen "],
        [""],
        ["   "],
        ["x" * 61],
        [f"d{i}" for i in range(13)],
        "inkomen",
        None,
        [1],
    ],
)
def test_invalid_domain_lists_are_refused(domains: Any) -> None:
    state = started()
    with pytest.raises(ActivityError) as err:
        A.command(state, {}, "domains", ctx([], args={"domains": domains}))
    assert err.value.code == "invalid_domains"
    if domains is not None:  # content without domains: the default eight
        with pytest.raises(ActivityError):
            A.new_state({"domains": domains})


def test_domains_are_trimmed_and_go_into_the_gate() -> None:
    state = started()
    effects = A.command(state, {}, "domains", ctx([], args={"domains": [" wonen ", "x" * 60]}))
    assert state.domains == ["wonen", "x" * 60]
    assert effects.gate is not None and effects.gate["domains"] == ["wonen", "x" * 60]
    A.accept(effects.gate, {}, "p", entry("wonen"), T0)
    with pytest.raises(ActivityError):
        A.accept(effects.gate, {}, "p", entry("inkomen"), T0)
    assert A.new_state({}).domains == list(c.DEFAULT_DOMAINS)
    assert len(c.DEFAULT_DOMAINS) == 8


def test_an_edited_away_domain_asks_for_a_new_choice() -> None:
    players = ids(3)
    state = started()
    inputs = {players[0]: entry("inkomen", 8), players[1]: entry("veiligheid", 6)}
    f = facts(players, inputs, expected=frozenset(players[:2]))
    assert A.complete(state, {}, f)
    A.command(state, {}, "domains", ctx([], args={"domains": ["veiligheid", "wonen"]}))
    assert not A.complete(state, {}, f)
    me = A.personal_view(state, {}, f, players[0])
    assert me is not None and me["entry"]["stale"] is True
    assert A.shared_view("screen", state, {}, f, T0)["entered"] == 1
    A.command(state, {}, "lock_grades", ctx(players, inputs=inputs))
    A.command(state, {}, "reveal", ctx(players))
    view = A.shared_view("screen", state, {}, facts(players), T0)
    assert [d["count"] for d in view["domains"]] == [1, 0]
    assert view["stale"] == 1
    rows = A.export(state, {}, names_of(players), {}, "nl")["people"]
    assert {r["domain"]: r["valid"] for r in rows} == {"inkomen": False, "veiligheid": True}


def test_complete_is_information_only() -> None:
    players = ids(2)
    state = started()
    assert A.complete_action == ""
    assert not A.complete(state, {}, facts(players, expected=frozenset()))
    assert not A.complete(
        state, {}, facts(players, {players[0]: entry()}, expected=frozenset(players))
    )
    full = {p: entry() for p in players}
    assert A.complete(state, {}, facts(players, full, expected=frozenset(players)))


# ---- phases ------------------------------------------------------------------------------------

ALL_ACTIONS = [
    "start",
    "lock_grades",
    "domains",
    "privacy",
    "rotate",
    "reveal",
    "unlock_grades",
    "tick",
    "x",
]
GOOD_ARGS: dict[str, dict[str, Any]] = {
    "domains": {"domains": ["inkomen", "wonen"]},
    "privacy": {"hide_names": True},
    "rotate": {"places": 1},
}


@SETTINGS
@given(st.lists(st.sampled_from(ALL_ACTIONS), max_size=25), st.integers(0, 12))
def test_only_the_listed_actions_are_allowed(actions: list[str], n: int) -> None:
    players = ids(n)
    state = A.new_state({})
    for action in actions:
        allowed = A.actions(state, {})
        before = A.encode(state)
        context = ctx(players, args=GOOD_ARGS.get(action, {}), inputs={})
        if action in allowed:
            A.command(state, {}, action, context)
        else:
            with pytest.raises(ActivityError) as err:
                A.command(state, {}, action, context)
            assert err.value.code == "not_allowed"
            assert A.encode(state) == before
        assert A.phase(state) in (c.ENTRY, c.ROUNDS, c.REVEAL)


def test_the_phases_in_order() -> None:
    players = ids(6)
    state = A.new_state({})
    assert A.actions(state, {}) == ["start", "lock_grades", "domains", "privacy"]
    assert A.command(state, {}, "start", ctx(players)).gate is not None
    assert "start" not in A.actions(state, {})
    assert A.needs_inputs(state, "lock_grades")
    assert A.input_table(state) == c.TABLE
    effects = A.command(state, {}, "lock_grades", ctx(players, inputs={}))
    assert effects.gate == CLOSE_GATE
    assert A.phase(state) == c.ROUNDS and state.round == 1
    assert A.input_table(state) == ""
    assert set(A.actions(state, {})) == {"rotate", "reveal", "unlock_grades", "privacy"}
    A.command(state, {}, "rotate", ctx(players, args={"places": 2}))
    assert state.round == 2 and state.shift == 2 and state.requested == 2
    stored = A.encode(state)
    for bad in (0, 3, True, "1", None):
        with pytest.raises(ActivityError) as err:
            A.command(state, {}, "rotate", ctx(players, args={"places": bad}))
        assert err.value.code == "invalid_places"
    for bad in (None, 1, "ja"):
        with pytest.raises(ActivityError) as err:
            A.command(state, {}, "privacy", ctx(players, args={"hide_names": bad}))
        assert err.value.code == "invalid_privacy"
    assert A.encode(state) == stored  # a refused command changes nothing
    effects = A.command(state, {}, "reveal", ctx(players, now=T0 + 60))
    assert A.phase(state) == c.REVEAL
    assert effects.collection == "kring" and effects.archive is not None
    assert effects.archive["date"] == T0 + 60
    assert A.actions(state, {}) == ["privacy"]


def test_unlock_goes_back_to_entry_and_keeps_the_circles() -> None:
    players = ids(9)
    inputs = {p: entry("inkomen", 5) for p in players}
    state = locked(players, inputs)
    A.command(state, {}, "rotate", ctx(players, args={"places": 1}))
    groups = state.seats.groups()
    effects = A.command(state, {}, "unlock_grades", ctx(players))
    assert A.phase(state) == c.ENTRY
    assert effects.gate is not None and effects.gate != CLOSE_GATE
    changed = {**inputs, players[0]: entry("veiligheid", 9)}
    A.command(state, {}, "lock_grades", ctx(players, inputs=changed))
    assert state.seats.groups() == groups
    assert state.entries[players[0]] == r.Entry("veiligheid", 9)
    assert state.round == 2


def test_lock_reconciles_the_seats_with_the_players() -> None:
    players = ids(6)
    state = locked(players, {})
    A.command(state, {}, "unlock_grades", ctx(players))
    now = [*players[1:], "late"]
    A.command(state, {}, "lock_grades", ctx(now, inputs={}))
    assert sorted(state.seats.people()) == sorted(now)
    check_groups(state.seats)


# ---- views -------------------------------------------------------------------------------------


def test_entry_views_count_without_showing_grades() -> None:
    players = ids(5)
    state = started()
    inputs = {players[0]: entry("inkomen", 9, "geheim")}
    f = facts(players, inputs)
    screen = A.shared_view("screen", state, {}, f, T0)
    assert screen["entered"] == 1 and screen["of"] == 5
    for role in ("screen", "phone"):
        text = str(A.shared_view(role, state, {}, f, T0))
        assert "geheim" not in text and "Naam" not in text
    # the host sees whom to nudge (the names of those without a grade), never a grade or reason
    host = A.shared_view("host", state, {}, f, T0)
    assert "geheim" not in str(host) and "9" not in str(host.get("waiting"))
    assert [w["name"] for w in host["waiting"]] == [f"Naam {p}" for p in players[1:]]
    assert A.personal_view(state, {}, f, players[0]) == {
        "entry": {"domain": "inkomen", "grade": 9, "reason": "geheim", "stale": False}
    }


def test_a_phone_sees_its_circle_place_and_partner() -> None:
    players = ids(5)
    inputs = {p: entry("inkomen", 4 + i, f"omdat {i}") for i, p in enumerate(players)}
    state = locked(players[:4], {p: inputs[p] for p in players[:4]})
    A.add_player(state, players[4])  # joined after the lock: a seat, no entry
    f = facts(players)
    seen_places = set()
    for p in players:
        me = A.personal_view(state, {}, f, p)
        assert me is not None and me["seated"]
        assert me["circle"] in ("inner", "outer") and me["place"] >= 1
        seen_places.add(me["place"])
        assert me["prompt"] == ["kring_prompt_lower", "kring_prompt_higher"]
        group = state.seats.group_of(p)
        assert sorted(x["name"] for x in me["partners"]) == sorted(
            f"Naam {q}" for q in group if q != p
        )
        for partner in me["partners"]:
            q = partner["name"].removeprefix("Naam ")
            if q == players[4]:
                assert partner["entry"] is None
            else:
                assert partner["entry"]["grade"] == inputs[q]["grade"]
        assert me["trio"] == (len(group) == 3)
    assert seen_places == {1, 2}


def test_the_host_gets_the_ids_of_the_pairs_and_the_projector_only_names() -> None:
    """The host page marks an offline partner from the room's `players` (who is online) by id;
    the projector's pairs carry names only."""
    players = ids(5)
    state = locked(players, {})
    f = facts(players)
    host = A.shared_view("host", state, {}, f, T0)["pairs"]
    assert [pair["ids"] for pair in host] == state.seats.groups()
    assert [pair["names"] for pair in host] == [
        [f"Naam {p}" for p in group] for group in state.seats.groups()
    ]
    for role in ("screen", "phone"):
        view = A.shared_view(role, state, {}, f, T0)
        assert all("ids" not in pair for pair in view.get("pairs", [])), role


def test_the_host_sees_who_has_no_grade_yet_and_nobody_else_does() -> None:
    """While entry is open the host's view names who has no valid grade yet (connected first,
    then offline, each by name; a grade for a domain edited away counts as none); never a
    grade, and not on the projector or the phones. After the lock it is gone."""
    players = ids(5)
    names = {p: n for p, n in zip(players, ["Eva", "bram", "Anna", "Dirk", "Cas"], strict=True)}
    state = started()
    A.command(state, {}, "domains", ctx(players, args={"domains": ["inkomen", "veiligheid"]}))
    inputs = {players[0]: entry("inkomen", 8), players[3]: entry("wonen", 6)}  # Dirk: stale
    f = replace(facts(players, inputs, names=names), online=frozenset(players[:3]))
    host = A.shared_view("host", state, {}, f, T0)
    assert host["waiting"] == [
        {"name": "Anna", "online": True},
        {"name": "bram", "online": True},
        {"name": "Cas", "online": False},
        {"name": "Dirk", "online": False},
    ]
    assert host["more_waiting"] == 0
    assert "grade" not in str(host["waiting"])
    for role in ("screen", "phone"):
        assert "waiting" not in A.shared_view(role, state, {}, f, T0)
    many = ids(70)
    host = A.shared_view("host", started(), {}, facts(many), T0)
    assert len(host["waiting"]) == 60 and host["more_waiting"] == 10
    A.command(state, {}, "lock_grades", ctx(players, inputs=inputs))
    assert "waiting" not in A.shared_view("host", state, {}, f, T0)


def seat(me: Mapping[str, Any] | None) -> tuple[Any, ...]:
    """What a phone shows of where it stands: circle, place, partners."""
    assert me is not None and me["seated"]
    return (me["circle"], me["place"], frozenset(p["name"] for p in me["partners"]))


@SETTINGS
@given(st.integers(1, 14), ops)
def test_a_join_or_leave_is_told_as_a_rearrangement_not_a_turn(
    n: int, steps: list[tuple[str, int]]
) -> None:
    """After a join or a leave the view says the circles were rearranged (not turned), and
    exactly the phones whose circle, place or partners changed since the last turn say so; a
    newcomer was not moved; the next turn ends it. It survives the stored form."""
    players = ids(n)
    state = locked(players, {})
    present = list(players)
    fresh = 1000
    moved: set[str] = set()
    reseated = False
    for op, arg in steps:
        f = facts(present)
        before = {p: seat(A.personal_view(state, {}, f, p)) for p in present}
        if op == "rotate":
            A.command(state, {}, "rotate", ctx(present, args={"places": arg}))
            moved, reseated = set(), False
        elif op == "add":
            fresh += 1
            present.append(f"p{fresh:04d}")
            A.add_player(state, present[-1])
            reseated = True
        elif present:
            leaver = sorted(present)[arg % len(present)]
            present.remove(leaver)
            A.remove_player(state, leaver)
            moved.discard(leaver)
            reseated = True
        f = facts(present)
        for p in present:
            me = A.personal_view(state, {}, f, p)
            if p in before and seat(me) != before[p]:
                if op == "rotate":
                    continue
                moved.add(p)
            assert me is not None and me["reseated"] == (p in moved), (op, p)
        if present:
            view = A.shared_view("screen", state, {}, f, T0)
            assert view["reseated"] == reseated
    back = A.decode(unpackb(packb(A.encode(state), use_bin_type=True), raw=False))
    assert back == state


def test_a_removed_partner_rearranges_the_circles_and_the_turn_clears_it() -> None:
    """Six people after a turn: removing one moves their partner (and whoever's place number
    changed) — the phones say why; the others keep the turn's line; the next turn is a turn."""
    players = ids(6)
    state = locked(players, {})
    A.command(state, {}, "rotate", ctx(players, args={"places": 1}))
    f = facts(players)
    assert A.shared_view("host", state, {}, f, T0)["reseated"] is False
    before = {p: seat(A.personal_view(state, {}, f, p)) for p in players}
    leaver = state.seats.inner[0]
    partner = state.seats.outer[0]
    A.remove_player(state, leaver)
    rest = [p for p in players if p != leaver]
    f = facts(rest)
    mes = {p: A.personal_view(state, {}, f, p) for p in rest}
    assert mes[partner] is not None and mes[partner]["reseated"] is True
    for p, me in mes.items():
        assert me is not None and me["reseated"] == (seat(me) != before[p])
    for role in ("host", "screen", "phone"):
        assert A.shared_view(role, state, {}, f, T0)["reseated"] is True
    A.command(state, {}, "rotate", ctx(rest, args={"places": 1}))
    assert A.shared_view("screen", state, {}, f, T0)["reseated"] is False
    for p in rest:
        me = A.personal_view(state, {}, f, p)
        assert me is not None and me["reseated"] is False


def test_one_participant_is_told_they_are_alone() -> None:
    state = locked(["solo"], {})
    me = A.personal_view(state, {}, facts(["solo"]), "solo")
    assert me is not None and me["alone"] is True and me["partners"] == []
    assert A.shared_view("screen", state, {}, facts(["solo"]), T0)["alone"] is True


@SETTINGS
@given(st.integers(2, 30), st.booleans(), st.data())
def test_reveal_shows_names_only_without_privacy(n: int, hide: bool, data: st.DataObject) -> None:
    players = ids(n)
    grades = data.draw(st.lists(st.integers(1, 10), min_size=n, max_size=n))
    inputs = {
        p: entry(c.DEFAULT_DOMAINS[i % 3], g)
        for i, (p, g) in enumerate(zip(players, grades, strict=True))
    }
    state = locked(players, inputs)
    # the full overview is the host's opt-in (test_the_team_overview_is_opt_in)
    A.command(state, {}, "privacy", ctx(players, args={"hide_names": hide, "overview": True}))
    effects = A.command(state, {}, "reveal", ctx(players))
    f = facts(players)
    named = {f"Naam {p}" for p, g in zip(players, grades, strict=True) if g in (7, 8, 9)}
    for role in ("screen", "host", "phone"):
        text = str(A.shared_view(role, state, {}, f, T0))
        shown = {name for name in names_of(players).values() if name in text}
        assert shown == (set() if hide or role == "phone" else set(names_of(players).values()))
    screen = A.shared_view("screen", state, {}, f, T0)
    if not hide:
        listed = {n for d in screen["domains"] for g in d["named"] for n in g["names"]}
        assert listed == named
        assert len(screen["overview"]) == n
    assert effects.archive is not None
    archived = {n for d in effects.archive["domains"] for n in d["names"]}
    assert archived == (set() if hide else named)


@SETTINGS
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=5),
        st.tuples(st.sampled_from(c.DEFAULT_DOMAINS), st.integers(1, 10)),
        max_size=40,
    )
)
def test_averages_are_the_mean_of_the_grades(given_entries: dict[str, tuple[str, int]]) -> None:
    entries = {p: r.Entry(d, g) for p, (d, g) in given_entries.items()}
    figures = r.domain_figures(list(c.DEFAULT_DOMAINS), entries, {})
    for f in figures:
        grades = [g for d, g in given_entries.values() if d == f["domain"]]
        assert f["count"] == len(grades)
        assert sum(f["distribution"]) == len(grades)
        assert f["distribution"] == [grades.count(g) for g in range(1, 11)]
        if grades:
            assert f["average"] == sum(grades) / len(grades)
            assert f["average"] == pytest.approx(statistics.mean(grades))
            half_up = (Decimal(sum(grades)) / len(grades)).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
            assert f["shown"] == float(half_up)
        else:
            assert f["average"] is None and f["shown"] is None


def test_a_lone_player_is_only_told_they_are_alone() -> None:
    """One person on the gap seat has no pair to join: no "join place 0, you are three"."""
    state = locked(["solo"], {})
    me = A.personal_view(state, {}, facts(["solo"]), "solo")
    assert me is not None
    assert me["alone"] is True and me["extra"] is False and me["place"] == 0
    assert me["trio"] is False
    # with three, the one extra person does join the pair at its place
    players = ids(3)
    state = locked(players, {})
    extra = [A.personal_view(state, {}, facts(players), p) for p in players]
    joined = [m for m in extra if m and m["extra"]]
    assert len(joined) == 1 and joined[0]["place"] == 1 and joined[0]["trio"] is True


def revealed(players: list[str], grades: list[int], **kw: Any) -> tuple[c.CircleState, Any]:
    inputs = {p: entry("inkomen", g) for p, g in zip(players, grades, strict=True)}
    state = locked(players, inputs)
    return state, A.command(state, {}, "reveal", ctx(players, team="team", **kw))


def test_the_team_overview_is_opt_in() -> None:
    """Everyone's grade on the projector (also the low ones) only when the host asks for it; the
    names of 7, 8 and 9 per domain show by default."""
    players = ids(3)
    state, _ = revealed(players, [2, 8, 5])
    f = facts(players)
    screen = A.shared_view("screen", state, {}, f, T0)
    assert "overview" not in screen and screen["show_overview"] is False
    assert "Naam p0000" not in str(screen)  # the 2
    assert screen["domains"][2]["named"][1] == {"grade": 8, "names": ["Naam p0001"]}
    A.command(state, {}, "privacy", ctx(players, args={"overview": True}))
    screen = A.shared_view("screen", state, {}, f, T0)
    assert screen["show_overview"] is True
    assert {row["name"] for row in screen["overview"]} == set(names_of(players).values())
    assert "overview" not in A.shared_view("phone", state, {}, f, T0)
    A.command(state, {}, "privacy", ctx(players, args={"hide_names": True}))
    assert "overview" not in A.shared_view("screen", state, {}, f, T0)
    for bad in ({}, {"overview": "ja"}, {"hide_names": 1}, {"hide_names": None}):
        with pytest.raises(ActivityError):
            A.command(state, {}, "privacy", ctx(players, args=bad))


def test_the_kept_map_follows_hiding_the_names_after_the_reveal() -> None:
    players = ids(3)
    state, effects = revealed(players, [7, 9, 3])
    assert effects.archive is not None
    kept = effects.archive
    assert kept["domains"][2]["names"] == ["Naam p0001", "Naam p0000"]
    # the average as the projector shows it (19 / 3 → 6.3), the sum keeps the exact one
    assert (kept["domains"][2]["average"], kept["domains"][2]["sum"]) == (6.3, 19)
    hidden = A.command(state, {}, "privacy", ctx(players, args={"hide_names": True}, now=T0 + 60))
    assert hidden.archive is not None and hidden.replace and hidden.collection == c.COLLECTION
    assert hidden.archive["hide_names"] is True
    assert all(d["names"] == [] for d in hidden.archive["domains"])
    assert "Naam" not in str(hidden.archive)
    # the record replaces the first in place and keeps the reveal's date
    assert A.carry_history(kept, hidden.archive)["date"] == T0
    shown = A.command(state, {}, "privacy", ctx(players, args={"hide_names": False}))
    assert shown.archive is not None and shown.archive["domains"][2]["names"]
    # the same setting again, or the overview alone, keeps nothing new; before the reveal neither
    assert A.command(state, {}, "privacy", ctx(players, args={"hide_names": False})).archive is None
    assert A.command(state, {}, "privacy", ctx(players, args={"overview": True})).archive is None
    early = locked(players, {})
    assert A.command(early, {}, "privacy", ctx(players, args={"hide_names": True})).archive is None


def test_stale_entries_are_not_counted_as_locked_grades() -> None:
    """Entries for a domain edited away: "5 of 7" while open is "5 locked" after the lock."""
    players = ids(7)
    state = started()
    inputs = {p: entry("inkomen" if i < 2 else "veiligheid", 6) for i, p in enumerate(players)}
    A.command(state, {}, "domains", ctx(players, args={"domains": ["veiligheid", "wonen"]}))
    open_view = A.shared_view("host", state, {}, facts(players, inputs), T0)
    assert (open_view["entered"], open_view["of"]) == (5, 7)
    A.command(state, {}, "lock_grades", ctx(players, inputs=inputs))
    host = A.shared_view("host", state, {}, facts(players), T0)
    assert host["locked_entries"] == 5
    me = A.personal_view(state, {}, facts(players), players[0])
    assert me is not None and me["entry"]["stale"] is True
    A.command(state, {}, "reveal", ctx(players))
    assert A.shared_view("screen", state, {}, facts(players), T0)["stale"] == 2


def test_the_host_counts_the_grades_per_domain_so_a_new_list_can_warn() -> None:
    """While entry is open the facilitator's view counts the valid grades per listed domain
    (in the list's order; stale ones nowhere): the page asks before a list that drops them.
    The projector and the phones get no such counts."""
    players = ids(6)
    state = started()
    A.command(
        state, {}, "domains", ctx(players, args={"domains": ["wiskunde", "Engels", "tekenen"]})
    )
    inputs = {
        players[0]: entry("wiskunde", 7),
        players[1]: entry("wiskunde", 4),
        players[2]: entry("tekenen", 8),
        players[3]: entry("inkomen", 6),  # for a domain no longer listed
    }
    f = facts(players, inputs)
    host = A.shared_view("host", state, {}, f, T0)
    assert host["entered_domains"] == [2, 0, 1]
    assert (host["entered"], host["of"]) == (3, 6)
    for role in ("screen", "phone"):
        assert "entered_domains" not in A.shared_view(role, state, {}, f, T0)
    A.command(state, {}, "lock_grades", ctx(players, inputs=inputs))
    assert "entered_domains" not in A.shared_view("host", state, {}, facts(players), T0)


def test_the_csv_average_has_one_decimal_like_the_projector() -> None:
    players = ids(3)
    inputs = {p: entry("inkomen", g) for p, g in zip(players, [6, 7, 7], strict=True)}
    state = locked(players, inputs)
    data = A.export(state, {}, names_of(players), {}, "nl")
    assert data["per_domain"][2]["average"] == 20 / 3  # the JSON keeps the exact average
    assert "inkomen,3,6.7," in A.export_csv(data)
    assert "inkomen;3;6,7;" in A.export_csv(data, "excel-nl")
    assert "veiligheid,0,," in A.export_csv(data)


def test_shown_average_rounds_half_up() -> None:
    assert r.display_average(29, 4) == 7.3  # 7.25
    assert r.display_average(20, 3) == 6.7
    assert r.display_average(0, 0) is None


def test_views_stay_small_in_a_big_room() -> None:
    players = ids(2000)
    inputs = {p: entry(c.DEFAULT_DOMAINS[i % 8], 1 + i % 10) for i, p in enumerate(players)}
    state = locked(players, inputs)
    f = facts(players)
    for role in ("screen", "host"):
        view = A.shared_view(role, state, {}, f, T0)
        assert len(view["pairs"]) == c.MAX_LISTED and view["more_pairs"] == 1000 - c.MAX_LISTED
    A.command(state, {}, "reveal", ctx(players))
    view = A.shared_view("screen", state, {}, f, T0)
    assert len(packb(view)) < 20_000
    assert sum(d["count"] for d in view["domains"]) == 2000


def test_the_cached_seat_index_follows_every_change() -> None:
    players = ids(7)
    state = locked(players, {})
    cache: dict[str, Any] = {}

    def views(cache: dict[str, Any]) -> list[Any]:
        f = facts([*players, "late"], cache=cache)
        return [A.personal_view(state, {}, f, p) for p in [*players, "late"]]

    first = views(cache)
    assert first == views({})
    for change in ("rotate", "add", "remove"):
        if change == "rotate":
            A.command(state, {}, "rotate", ctx(players, args={"places": 1}))
        elif change == "add":
            A.add_player(state, "late")
        else:
            A.remove_player(state, players[0])
        assert views(cache) == views({})
    assert views(cache) != first


def test_personal_key_changes_with_the_seats() -> None:
    players = ids(4)
    state = locked(players, {})
    key = A.personal_key(state)
    A.command(state, {}, "rotate", ctx(players, args={"places": 1}))
    assert A.personal_key(state) != key
    key = A.personal_key(state)
    A.add_player(state, "late")
    assert A.personal_key(state) != key


# ---- export ------------------------------------------------------------------------------------

cell_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=30,
)


@SETTINGS
@given(
    st.lists(
        st.tuples(cell_text, st.sampled_from(c.DEFAULT_DOMAINS), st.integers(1, 10), cell_text),
        max_size=12,
    ),
    st.sampled_from(r.DIALECTS),
)
def test_export_csv_round_trips(rows: list[tuple[str, str, int, str]], dialect: str) -> None:
    players = ids(len(rows))
    names = {p: r[0] for p, r in zip(players, rows, strict=True)}
    inputs = {p: entry(r[1], r[2], r[3]) for p, r in zip(players, rows, strict=True)}
    state = locked(players, inputs)
    data = A.export(state, {}, names, {}, "nl")
    text = A.export_csv(data, dialect)
    dutch = dialect == "excel-nl"
    assert text.startswith("\ufeff")  # both dialects: Excel reads "Ümit" right
    parsed = list(
        csv.reader(
            io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";" if dutch else ","
        )
    )
    blank = parsed.index([])
    people, per_domain = parsed[1:blank], parsed[blank + 2 :]
    assert parsed[0] == ["naam", "domein", "cijfer", "toelichting", "geldig"]

    def safe(s: str) -> str:
        return "'" + s if s.startswith(("=", "+", "-", "@", "\t", "\r")) else s

    assert people == [
        [safe(name), domain, str(grade), safe(reason), "ja"] for name, domain, grade, reason in rows
    ]
    assert [r[0] for r in per_domain] == list(c.DEFAULT_DOMAINS)
    for row, figure in zip(per_domain, data["per_domain"], strict=True):
        assert int(row[1]) == figure["count"]
        assert [int(x) for x in row[3:]] == figure["distribution"]
        if figure["average"] is None:
            assert row[2] == ""
        else:
            # one decimal, rounded half up as on the projector
            assert re.fullmatch(r"\d+,\d" if dutch else r"\d+\.\d", row[2]), row[2]
            assert float(row[2].replace(",", ".")) == r.display_average(
                figure["sum"], figure["count"]
            )


def test_export_reads_the_table_while_entry_is_open() -> None:
    players = ids(2)
    state = started()
    tables = {c.TABLE: {players[0]: entry("inkomen", 3, "=SUM(A1)")}}
    data = A.export(state, {"title": "Kring"}, names_of(players), tables, "nl")
    assert data["title"] == "Kring"
    assert data["people"] == [
        {"name": "Naam p0000", "domain": "inkomen", "grade": 3, "reason": "=SUM(A1)", "valid": True}
    ]
    assert "'=SUM(A1)" in A.export_csv(data)
    with pytest.raises(ActivityError):
        A.export_csv(data, "tsv")


def test_a_kring_without_a_title_of_its_own_is_named_in_each_language() -> None:
    """No title given: the views and the team's record carry none (each page shows the kring's
    name in its own language), the export the name in the export's language. A title given is
    shown as given, and a record kept with the Dutch name written out reads as having none."""
    players = ids(2)
    inputs = {p: entry("inkomen", 7) for p in players}
    for content, own in (({}, ""), ({"title": " Onze kring "}, "Onze kring")):
        checked = A.check_content(content)
        assert A.title(checked) == own
        state = started(checked)
        for role in ("screen", "phone", "host"):
            assert A.shared_view(role, state, checked, facts(players), T0)["title"] == own
        for lang, name in (("nl", "Binnen- en buitenkring"), ("en", "Inner and outer circle")):
            assert A.export(state, checked, names_of(players), {}, lang)["title"] == (own or name)
        A.command(state, checked, "lock_grades", ctx(players, inputs=inputs))
        effects = A.command(state, checked, "reveal", ctx(players))
        assert effects.archive is not None and effects.archive["title"] == own
    for name in ("Binnen- en buitenkring", "Inner and outer circle"):
        assert A.own_title(name) == ""
        assert A.kept_record({"date": T0, "title": name}) == {"date": T0, "title": ""}
    assert A.kept_record({"date": T0, "title": "Onze kring"})["title"] == "Onze kring"
    assert A.kept_record({"date": T0}) == {"date": T0}


# ---- stored form -------------------------------------------------------------------------------


@SETTINGS
@given(st.integers(0, 25), ops, st.booleans())
def test_encode_decode_round_trip(n: int, steps: list[tuple[str, int]], hide: bool) -> None:
    players = ids(n)
    inputs = {p: entry("veiligheid", 1 + i % 10, f"r{i}") for i, p in enumerate(players)}
    state = locked(players, inputs)
    A.command(state, {}, "privacy", ctx(players, args={"hide_names": hide}))
    state.seats = play(n, steps) if n else state.seats
    stored = unpackb(packb(A.encode(state), use_bin_type=True), raw=False)
    back = A.decode(stored)
    assert back == state
    assert A.encode(back) == A.encode(state)
    assert A.copy(state) == state
    copied = A.copy(state)
    copied.seats.rotate(1)
    copied.entries.clear()
    assert A.decode(stored) == state
    f = facts(players)
    for role in ("screen", "phone", "host"):
        assert A.shared_view(role, back, {}, f, T0) == A.shared_view(role, state, {}, f, T0)
