"""Zes stickers prioriteren (server/activities/dotvote*.py): cards, proposals, placements and
their checks, ranking with ties, the cut and the minority, views, exports, import, history.

Pure: no hub. The hub's part (per-player overwrite records, the gate) is played here by a dict
that takes `accept`'s record or, when `accept` refuses, stays as it was. Hypothesis plays random
sequences of place / move / remove.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgpack import packb, unpackb

from server.activities import dotvote as d
from server.activities import dotvote_results as r
from server.activities.base import ActivityError, Context, Facts, get
from server.activities.dotvote_cards import parse_cards_file, proposal_key
from server.activities.dotvote_state import MAX_LISTED
from server.messages import ERRORS

T0 = 1_700_000_000.0
A = d.DOTVOTE
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DOMAIN = "inkomen"


def ids(n: int) -> list[str]:
    return [f"p{i:04d}" for i in range(n)]


def names_of(players: list[str]) -> dict[str, str]:
    return {p: f"Naam {p}" for p in players}


def ctx(players: list[str], **kw: Any) -> Context:
    kw.setdefault("names", names_of(players))
    return Context(now=kw.pop("now", T0), players=players, **kw)


def facts(players: list[str], inputs: Mapping[str, Any] | None = None, **kw: Any) -> Facts:
    return Facts(
        code="123456",
        join_url="https://example/join/123456",
        team="team",
        locked=False,
        lang="nl",
        names=kw.pop("names", names_of(players)),
        online=frozenset(players),
        inputs=dict(inputs or {}),
        **kw,
    )


def card(onderwerp: str = "Schulden herkennen", **kw: str) -> dict[str, str]:
    return {"domain": kw.pop("domain", DOMAIN), "onderwerp": onderwerp, **kw}


def content(n_cards: int = 4, **kw: Any) -> dict[str, Any]:
    return A.check_content({"cards": [card(f"Thema {i + 1}") for i in range(n_cards)], **kw})


def run(state: d.DotvoteState, action: str, players: list[str] | None = None, **kw: Any) -> Any:
    inputs = kw.pop("inputs", {})
    return A.command(state, {}, action, ctx(players or [], args=kw, inputs=inputs))


def voting(n_cards: int = 4, **kw: Any) -> tuple[d.DotvoteState, dict[str, Any]]:
    c = content(n_cards, **kw)
    state = A.new_state(c)
    gate = A.begin(state, c, ctx([])).gate
    assert gate is not None
    effects = run(state, "open_voting")
    assert effects.gate is not None and effects.opens
    return state, dict(effects.gate)


def place(gate: Mapping[str, Any], stickers: Mapping[str, Any], player: str = "p0000") -> Any:
    return A.accept(gate, {}, player, {"stickers": dict(stickers)}, T0)


# ---- content and cards ---------------------------------------------------------------------------


def test_registered_and_default_content() -> None:
    assert get("dotvote") is A
    c = A.check_content({})
    assert c["stickers"] == 6 and c["cap"] == 0 and c["cards"] == [] and c["proposals"] is True
    assert "lichamelijke gezondheid" in c["domains"] and len(c["domains"]) == 8
    assert A.title(c) == ""  # none of its own: each page names the werkvorm in its language


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ({"title": 5}, "invalid_content"),
        ({"stickers": 0}, "invalid_content"),
        ({"stickers": 13}, "invalid_content"),
        ({"stickers": True}, "invalid_content"),
        ({"stickers": 3, "cap": 4}, "invalid_content"),
        ({"proposals": "ja"}, "invalid_content"),
        ({"cards": "x"}, "invalid_content"),
        ({"cards": [card(domain="sterrenkunde")]}, "invalid_domain"),
        ({"cards": [card("")]}, "invalid_card"),
        ({"cards": [card("x" * 121)]}, "invalid_card"),
        ({"cards": [card(kwartaal="Q5")]}, "invalid_card"),
        ({"cards": [card(doelgroep="iedereen")]}, "invalid_card"),
        ({"cards": [card()] * 61}, "too_many_cards"),
        ({"domains": []}, "invalid_domains"),
    ],
)
def test_bad_content(bad: dict[str, Any], code: str) -> None:
    with pytest.raises(ActivityError) as exc:
        A.check_content(bad)
    assert exc.value.code == code


def test_card_fields_are_normalised() -> None:
    c = A.check_content(
        {
            "cards": [
                card("  Schulden   herkennen ", kwartaal="q2", doelgroep="Team", domain="INKOMEN")
            ]
        }
    )
    assert c["cards"][0] == {
        "domain": "inkomen",
        "kwartaal": "Q2",
        "doelgroep": "team",
        "onderwerp": "Schulden herkennen",
        "leervorm": "",
    }


def test_host_card_commands() -> None:
    c = content(2)
    state = A.new_state(c)
    A.begin(state, c, ctx([]))
    assert [x.id for x in state.cards] == ["c1", "c2"]
    run(state, "add_card", card=card("Nieuw", leervorm="intervisie"))
    assert state.cards[-1].id == "c3" and state.cards[-1].origin == "host"
    run(state, "edit_card", card_id="c3", card=card("Anders", kwartaal="Q1"))
    assert state.cards[-1].onderwerp == "Anders" and state.cards[-1].kwartaal == "Q1"
    run(state, "merge_cards", card_id="c3", into="c1")
    run(state, "remove_card", card_id="c2")
    assert [x.id for x in state.cards] == ["c1"]
    run(state, "add_card", card=card("Weer een"))
    assert state.cards[-1].id == "c4"  # ids are never reused
    for action, args, code in [
        ("edit_card", {"card_id": "c9", "card": card()}, "unknown_card"),
        ("remove_card", {"card_id": "c2"}, "unknown_card"),
        ("merge_cards", {"card_id": "c1", "into": "c1"}, "unknown_card"),
        ("add_card", {"card": {"domain": DOMAIN}}, "invalid_card"),
        ("add_card", {"card": "tekst"}, "invalid_card"),
        ("settings", {"stickers": 2, "cap": 3}, "invalid_settings"),
        ("proposals", {"open": 1}, "invalid_switch"),
        ("close_voting", {}, "not_allowed"),
        ("owner", {"card_id": "c1", "owner": "x"}, "not_allowed"),
    ]:
        before = A.encode(state)
        with pytest.raises(ActivityError) as exc:
            run(state, action, **args)
        assert exc.value.code == code, action
        assert A.encode(state) == before  # a refused command changes nothing


def test_too_many_cards_and_no_cards() -> None:
    state = A.new_state(content(0))
    with pytest.raises(ActivityError, match="no_cards"):
        run(state, "open_voting")
    run(state, "import_cards", cards=[card(f"k{i}") for i in range(60)])
    with pytest.raises(ActivityError, match="too_many_cards"):
        run(state, "add_card", card=card())
    assert len(state.cards) == 60


def test_round_trip_encode_decode() -> None:
    state, _gate = voting(3, cap=2)
    A.command(state, {}, "close_voting", ctx(["p0000"], inputs={"p0000": {"stickers": {"c1": 2}}}))
    run(state, "cut", top=1)
    run(state, "summary")
    run(state, "owner", card_id="c1", owner="Anna")
    data = unpackb(packb(A.encode(state)), strict_map_key=False)
    assert A.encode(A.decode(data)) == A.encode(state)
    assert A.encode(A.copy(state)) == A.encode(state)


# ---- proposals -----------------------------------------------------------------------------------


def test_proposals_flow() -> None:
    c = content(1)
    state = A.new_state(c)
    gate = dict(A.begin(state, c, ctx([])).gate or {})
    players = ids(2)
    rec = A.accept(gate, {}, "p0000", {"proposals": [card("Voorstel A"), card("Voorstel B")]}, T0)
    assert rec.overwrite and rec.table == d.PROPOSALS and rec.reply == {"proposals": 2}
    rec2 = A.accept(gate, {}, "p0001", {"proposals": [card("Voorstel C")]}, T0 + 1)
    inputs = {"p0000": A.decode_input(dict(rec.value)), "p0001": A.decode_input(dict(rec2.value))}
    host = A.shared_view("host", state, c, facts(players, inputs), T0)
    assert host["proposed"] == 3 and [p["onderwerp"] for p in host["proposals"]] == [
        "Voorstel A",
        "Voorstel B",
        "Voorstel C",
    ]
    assert "proposals" not in A.shared_view("screen", state, c, facts(players, inputs), T0)
    key_b = proposal_key("p0000", inputs["p0000"]["proposals"][1])
    key_c = proposal_key("p0001", inputs["p0001"]["proposals"][0])
    effects = run(state, "accept_proposals", players, keys=[key_b], inputs=inputs)
    assert effects.gate is not None  # the gate closed for it opens again
    assert state.cards[-1].onderwerp == "Voorstel B" and state.cards[-1].origin == "phone"
    run(state, "dismiss_proposals", keys=[key_c])
    me = A.personal_view(state, c, facts(players, inputs), "p0000")
    assert me is not None
    assert [(p["onderwerp"], p["status"]) for p in me["proposals"]] == [
        ("Voorstel A", "pending"),
        ("Voorstel B", "accepted"),
    ]
    assert me["proposals"][1]["card_id"] == state.cards[-1].id
    run(state, "accept_proposals", players, keys="all", inputs=inputs)
    assert [x.onderwerp for x in state.cards][-2:] == ["Voorstel B", "Voorstel A"]
    host = A.shared_view("host", state, c, facts(players, inputs), T0)
    assert host["proposed"] == 0
    # proposals closed: refused
    effects = run(state, "proposals", open=False)
    assert effects.gate is not None and effects.gate["open"] is False
    with pytest.raises(ActivityError, match="not_open"):
        A.accept(effects.gate, {}, "p0000", {"proposals": []}, T0)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"proposals": "x"}, "bad_frame"),
        ({"proposals": [card()] * 4}, "too_many_proposals"),
        ({"proposals": [card(domain="nope")]}, "invalid_domain"),
        ({"proposals": [{"domain": DOMAIN}]}, "invalid_card"),
        ({"stickers": {}}, "voting_closed"),
        ({"answer": "x"}, "not_open"),
        ({"iets": 1}, "bad_frame"),
    ],
)
def test_bad_inputs_in_cards(payload: dict[str, Any], code: str) -> None:
    c = content(1)
    state = A.new_state(c)
    gate = dict(A.begin(state, c, ctx([])).gate or {})
    with pytest.raises(ActivityError) as exc:
        A.accept(gate, {}, "p0000", payload, T0)
    assert exc.value.code == code


def test_accept_proposals_that_do_not_fit_adds_none() -> None:
    state = A.new_state(content(59))
    inputs = {"p0000": {"proposals": [card("a"), card("b")], "at": T0}}
    with pytest.raises(ActivityError, match="too_many_cards"):
        run(state, "accept_proposals", ["p0000"], keys="all", inputs=inputs)
    assert len(state.cards) == 59


# ---- placements ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stickers", "code"),
    [
        ({"c1": -1}, "invalid_stickers"),
        ({"c1": True}, "invalid_stickers"),
        ({"c1": 1.0}, "invalid_stickers"),
        ({1: 1}, "invalid_stickers"),
        ("c1", "invalid_stickers"),
        ({"c99": 1}, "unknown_card"),
        ({"c1": 3}, "over_cap"),
        ({"c1": 2, "c2": 2, "c3": 2, "c4": 1}, "over_budget"),
    ],
)
def test_refused_placements(stickers: Any, code: str) -> None:
    _, gate = voting(4, cap=2)
    with pytest.raises(ActivityError) as exc:
        A.accept(gate, {}, "p0000", {"stickers": stickers}, T0)
    assert exc.value.code == code


def test_placement_record_and_ack() -> None:
    _, gate = voting(4)
    rec = place(gate, {"c3": 2, "c1": 1, "c2": 0})
    assert rec.overwrite and rec.table == d.STICKERS
    assert rec.value == {"stickers": {"c1": 1, "c3": 2}}
    assert rec.reply == {"stickers": {"c1": 1, "c3": 2}, "placed": 3, "left": 3}
    closed = A.closed_gate(A.new_state({}))
    with pytest.raises(ActivityError, match="voting_closed"):
        place(closed, {"c1": 1})
    assert A.closed_error(gate, {"stickers": {}}) == "voting_closed"


def test_voting_views_hide_totals_from_phones_and_screen_by_default() -> None:
    state, _gate = voting(3)
    c = content(3)
    players = ids(3)
    inputs = {
        "p0000": {"stickers": {"c1": 6}},
        "p0001": {"stickers": {"c2": 2, "c3": 1}},
        "gone": {"stickers": {"c3": 6}},  # a removed player's record is not counted
    }
    f = facts(players, inputs, expected=frozenset(players))
    screen = A.shared_view("screen", state, c, f, T0)
    assert (screen["done"], screen["voters"], screen["of"], screen["placed"]) == (1, 2, 3, 9)
    assert "totals" not in screen and screen["show_totals"] is False
    host = A.shared_view("host", state, c, f, T0)
    assert host["totals"] == {"c1": 6, "c2": 2, "c3": 1}
    phone = A.shared_view("phone", state, c, f, T0)
    assert "totals" not in phone and "done" not in phone
    run(state, "show_totals", show=True)
    assert A.shared_view("screen", state, c, f, T0)["totals"] == host["totals"]
    assert "totals" not in A.shared_view("phone", state, c, f, T0)
    me = A.personal_view(state, c, f, "p0001")
    assert me == {"stickers": {"c2": 2, "c3": 1}, "placed": 3, "left": 3, "budget": 6, "cap": 0}


def test_the_host_sees_who_still_has_stickers_in_hand_and_nobody_else_does() -> None:
    """Whom to wait for: the connected ones first (most left first, then by name), then the
    offline ones; names and how many, never where; only on the host's view."""
    state, _gate = voting(3)
    c = content(3)
    names = {"p1": "bert", "p2": "An", "p3": "Cees", "p4": "Daan", "p5": "Eva", "p6": "Fien"}
    inputs = {
        "p1": {"stickers": {"c1": 6}},  # done
        "p2": {"stickers": {"c2": 4}},  # 2 left
        "p3": {"stickers": {"c3": 1}},  # 5 left, offline
        "gone": {"stickers": {"c3": 2}},  # removed: not listed
    }
    online = frozenset({"p1", "p2", "p4", "p5"})
    f = facts(list(names), inputs, names=names, expected=online)
    f.online = online
    host = A.shared_view("host", state, c, f, T0)
    assert host["hands"] == [
        {"name": "Daan", "left": 6, "online": True},
        {"name": "Eva", "left": 6, "online": True},
        {"name": "An", "left": 2, "online": True},
        {"name": "Fien", "left": 6, "online": False},
        {"name": "Cees", "left": 5, "online": False},
    ]
    assert host["more_hands"] == 0
    for role in ("screen", "phone"):
        assert "hands" not in A.shared_view(role, state, c, f, T0)
    # everybody placed: the list is empty
    full_inputs = {p: {"stickers": {"c1": 3, "c2": 3}} for p in names}
    done = A.shared_view("host", state, c, facts(list(names), full_inputs, names=names), T0)
    assert done["hands"] == [] and done["done"] == 6
    # a cap that leaves fewer places than stickers: "left" is what can still be placed
    capped, _ = voting(2, cap=2)
    me = {"p1": {"stickers": {"c1": 2, "c2": 1}}}
    view = A.shared_view("host", capped, content(2, cap=2), facts(["p1"], me), T0)
    assert view["hands"] == [{"name": "Naam p1", "left": 1, "online": True}]


def test_the_host_list_of_hands_stops_at_sixty() -> None:
    state, _gate = voting(2)
    players = [f"p{i:04d}" for i in range(75)]
    host = A.shared_view("host", state, content(2), facts(players, {}), T0)
    assert len(host["hands"]) == 60 and host["more_hands"] == 15


def test_adding_a_card_during_voting_changes_the_gate() -> None:
    state, gate = voting(2)
    effects = run(state, "add_card", card=card("Laat"))
    assert effects.gate is not None and "c3" in effects.gate["cards"]
    place(effects.gate, {"c3": 1})
    with pytest.raises(ActivityError, match="unknown_card"):
        place(gate, {"c3": 1})  # the old gate: the hub retries with the new one
    assert "unknown_card" in A.gate_errors


# ---- ranking, cut, minority ------------------------------------------------------------------------


def test_ranking_with_ties_and_cut() -> None:
    state, _gate = voting(5)
    inputs = {
        "a": {"stickers": {"c1": 3, "c2": 3}},
        "b": {"stickers": {"c2": 1, "c3": 4, "c5": 1}},
        "c": {"stickers": {"c1": 1, "c4": 1}},
    }
    run(state, "close_voting", ["a", "b", "c"], inputs=inputs)
    c = content(5)
    f = facts(["a", "b", "c"])
    view = A.shared_view("screen", state, c, f, T0)
    ranks = [(x["card_id"], x["rank"], x["stickers"]) for x in view["ranking"]]
    assert ranks == [("c1", 1, 4), ("c2", 1, 4), ("c3", 1, 4), ("c4", 4, 1), ("c5", 4, 1)]
    # top 3 by default: c1–c3; minority: c (c4) and b (c5)
    assert view["cut"] == {"top": 3} and not view["tie"]
    assert A.personal_view(state, c, f, "c")["minority"] == {"cards": ["c4"], "answer": None}
    assert A.personal_view(state, c, f, "b")["minority"] == {"cards": ["c5"], "answer": None}
    assert A.personal_view(state, c, f, "a")["minority"] is None
    # top 1: a tie on place 1 is never split
    effects = run(state, "cut", top=1)
    view = A.shared_view("screen", state, c, f, T0)
    assert view["tie"] and sum(x["prioritised"] for x in view["ranking"]) == 3
    assert effects.gate is None  # the minority did not change
    effects = run(state, "cut", min=5)
    assert effects.gate is not None and effects.gate["minority"] == ["a", "b", "c"]
    for bad in ({}, {"top": 1, "min": 1}, {"top": 0}, {"min": 1000}, {"top": "3"}):
        with pytest.raises(ActivityError, match="invalid_cut"):
            run(state, "cut", **bad)


def test_minority_answers() -> None:
    state, _ = voting(3)
    inputs = {"a": {"stickers": {"c1": 6}}, "b": {"stickers": {"c1": 1, "c2": 5}}}
    effects = run(state, "close_voting", ["a", "b"], inputs=inputs)
    gate = dict(effects.gate or {})
    run(state, "cut", top=1)
    gate = A.gate_of(state)
    assert gate["minority"] == ["b"]
    with pytest.raises(ActivityError, match="not_minority"):
        A.accept(gate, {}, "a", {"answer": "niets"}, T0)
    for bad in ("", "  ", "x" * 281, 5):
        with pytest.raises(ActivityError, match="invalid_answer"):
            A.accept(gate, {}, "b", {"answer": bad}, T0)
    with pytest.raises(ActivityError, match="voting_closed"):
        A.accept(gate, {}, "b", {"stickers": {"c1": 1}}, T0)
    rec = A.accept(gate, {}, "b", {"answer": " Een training in Q3 "}, T0)
    assert rec.value == {"answer": "Een training in Q3"} and rec.overwrite
    answers = {"b": {"answer": "Een training in Q3"}}
    c = content(3)
    f = facts(["a", "b"], answers)
    host = A.shared_view("host", state, c, f, T0)
    assert host["answers"] == [{"text": "Een training in Q3", "cards": ["c2"]}]
    assert host["minority"] == {"count": 1, "answered": 1}
    screen = A.shared_view("screen", state, c, f, T0)
    assert "answers" not in screen and screen["minority"]["answered"] == 1
    run(state, "show_answers", show=True)
    # anonymous on the projector: the text alone, not the cards its writer voted on
    screen = A.shared_view("screen", state, c, f, T0)
    assert screen["answers"] == [{"text": "Een training in Q3"}]
    run(state, "show_names", show=True)
    screen = A.shared_view("screen", state, c, f, T0)
    assert screen["answers"] == [{"text": "Een training in Q3", "cards": ["c2"], "name": "Naam b"}]
    assert A.personal_view(state, c, f, "b")["minority"]["answer"] == "Een training in Q3"


def test_anonymous_answers_on_the_projector_are_in_text_order_without_cards() -> None:
    """Shown anonymously, the projector's answers carry no cards and come in the order of their
    texts, not in join order; the facilitator still sees the cards."""
    state, _ = voting(3)
    players = ["p0001", "p0002", "p0003", "p0004", "p0005"]
    inputs = {p: {"stickers": {"c3": 2}} for p in players[:3]}
    inputs |= {p: {"stickers": {"c1": 6}} for p in players[3:]}  # c1 on top
    run(state, "close_voting", players, inputs=inputs)
    run(state, "cut", top=1)
    texts = {"p0001": "Zelf oefenen", "p0002": "een korte training", "p0003": "Meer tijd"}
    f = facts(players, {p: {"answer": t} for p, t in texts.items()})
    run(state, "show_answers", show=True)
    screen = A.shared_view("screen", state, content(3), f, T0)
    assert screen["answers"] == [
        {"text": "een korte training"},
        {"text": "Meer tijd"},
        {"text": "Zelf oefenen"},
    ]
    host = A.shared_view("host", state, content(3), f, T0)
    assert [a["text"] for a in host["answers"]] == list(texts.values())
    assert all(a["cards"] == ["c3"] for a in host["answers"])


def test_the_same_answer_from_several_people_is_one_row_on_the_projector() -> None:
    """Anonymous on the projector, answers the same but for case, spacing or a full stop are
    one row with how many gave it, so that a few repeated answers do not push the rest off
    the screen; the facilitator still sees every answer; "en nog N" counts answers, not rows."""
    state, _ = voting(3)
    players = [f"p{n:04d}" for n in range(1, 41)]
    inputs = {p: {"stickers": {"c3": 1}} for p in players[:27]}
    inputs |= {p: {"stickers": {"c1": 6}} for p in players[27:]}  # c1 on top: 27 below the cut
    run(state, "close_voting", players, inputs=inputs)
    run(state, "cut", top=1)
    texts = ["Meer uitleg", "meer  uitleg.", "Meer uitleg", "Zelf oefenen"]
    texts += [f"Antwoord {n:02d}" for n in range(23)]
    f = facts(players, {p: {"answer": t} for p, t in zip(players, texts, strict=False)})
    run(state, "show_answers", show=True)
    screen = A.shared_view("screen", state, content(3), f, T0)
    assert {"text": "Meer uitleg", "count": 3} in screen["answers"]
    assert {"text": "Zelf oefenen"} in screen["answers"]
    rows = 2 + 23
    shown = screen["answers"]
    assert len(shown) == min(rows, MAX_LISTED)
    assert sum(a.get("count", 1) for a in shown) + screen["more_answers"] == len(texts)
    assert screen["minority"] == {"count": 27, "answered": 27}
    host = A.shared_view("host", state, content(3), f, T0)
    assert len(host["answers"]) + host["more_answers"] == len(texts)


def test_reopen_keeps_placements_and_remove_player() -> None:
    state, _ = voting(2)
    inputs = {"a": {"stickers": {"c1": 6}}, "b": {"stickers": {"c2": 1}}}
    run(state, "close_voting", ["a", "b"], inputs=inputs)
    assert A.holds(state, "a")
    A.remove_player(state, "b")
    assert "b" not in state.votes
    effects = run(state, "reopen_voting")
    assert state.phase == d.VOTING and effects.gate is not None and effects.opens
    assert effects.gate["gen"] > 2 and state.votes == {}
    # removed players' records are not counted at the next close
    run(state, "close_voting", ["a", "b"], inputs=inputs)
    assert set(state.votes) == {"a"}


def test_me_says_who_joined_after_voting_closed() -> None:
    """`joined_late` in `me`: only for a player who joined once voting closed (ids sort in join
    order), not for one who was there and placed nothing; a reopened vote asks again."""
    state, _ = voting(2)
    c = content(2)
    inputs = {"p0001": {"stickers": {"c1": 6}}}
    run(state, "close_voting", ["p0001", "p0002"], inputs=inputs)
    players = ["p0001", "p0002", "p0003"]  # p0003 joined after the close
    f = facts(players)
    late = {p: A.personal_view(state, c, f, p).get("joined_late") for p in players}
    assert late == {"p0001": None, "p0002": None, "p0003": True}
    assert A.personal_view(state, c, f, "p0003")["stickers"] == {}
    # the state keeps it (a room document stored and read again)
    again = A.decode(unpackb(packb(A.encode(state))))
    assert A.personal_view(again, c, f, "p0003")["joined_late"] is True
    run(state, "cut", top=1)
    assert A.personal_view(state, c, f, "p0003")["joined_late"] is True
    # voting opens again: p0003 may place now; after the next close only a newer player is late
    run(state, "reopen_voting")
    assert "joined_late" not in A.personal_view(state, c, facts(players, inputs), "p0003")
    run(state, "close_voting", players, inputs=inputs)
    f = facts([*players, "p0004"])
    assert "joined_late" not in A.personal_view(state, c, f, "p0003")
    assert A.personal_view(state, c, f, "p0004")["joined_late"] is True
    # nobody in the room at the close: whoever comes later joined late
    empty, _ = voting(2)
    run(empty, "close_voting", [])
    assert A.personal_view(empty, c, facts(["p0001"]), "p0001")["joined_late"] is True
    # a state stored before the field existed: nobody is told they were late
    old = A.encode(state)
    del old["closed_last"]
    assert "joined_late" not in A.personal_view(A.decode(old), c, f, "p0004")


# ---- hypothesis: random place / move / remove ------------------------------------------------------

N_CARDS = 5
PLAYERS = ids(6)
CARD_IDS = [f"c{i + 1}" for i in range(N_CARDS)]

op = st.one_of(
    st.tuples(st.just("place"), st.sampled_from(PLAYERS), st.sampled_from(CARD_IDS)),
    st.tuples(st.just("remove"), st.sampled_from(PLAYERS), st.sampled_from(CARD_IDS)),
    st.tuples(
        st.just("move"),
        st.sampled_from(PLAYERS),
        st.tuples(st.sampled_from(CARD_IDS), st.sampled_from(CARD_IDS)),
    ),
    st.tuples(
        st.just("raw"),
        st.sampled_from(PLAYERS),
        st.dictionaries(
            st.sampled_from([*CARD_IDS, "c99", "x"]),
            st.one_of(st.integers(-2, 8), st.booleans()),
            max_size=4,
        ),
    ),
)


@SETTINGS
@given(
    ops=st.lists(op, max_size=60),
    budget=st.integers(1, 8),
    cap_raw=st.integers(0, 8),
    cut=st.one_of(
        st.tuples(st.just("top"), st.integers(1, N_CARDS + 1)),
        st.tuples(st.just("min"), st.integers(1, 12)),
    ),
)
def test_random_sticker_moves(
    ops: list[tuple[str, str, Any]], budget: int, cap_raw: int, cut: tuple[str, int]
) -> None:
    cap = min(cap_raw, budget)
    state, gate = voting(N_CARDS, stickers=budget, cap=cap)
    table: dict[str, dict[str, Any]] = {}  # what the hub stores: one overwrite record each
    memo: dict[str, Any] = {}  # the fan-out's Facts.cache, kept between renders
    c = content(N_CARDS, stickers=budget, cap=cap)

    def mine(player: str) -> dict[str, int]:
        return dict(table.get(player, {}).get("stickers", {}))

    for kind, player, arg in ops:
        placement = mine(player)
        if kind == "place":
            placement[arg] = placement.get(arg, 0) + 1
        elif kind == "remove":
            placement[arg] = max(0, placement.get(arg, 0) - 1)
        elif kind == "move":
            src, dst = arg
            if placement.get(src, 0) > 0:
                placement[src] -= 1
                placement[dst] = placement.get(dst, 0) + 1
        else:
            placement = arg
        before = dict(table)
        try:
            rec = place(gate, placement, player)
        except ActivityError as exc:
            assert exc.code in ("invalid_stickers", "unknown_card", "over_cap", "over_budget")
            assert table == before  # refused: nothing changes
            continue
        table[player] = A.decode_input(dict(rec.value))
        # the live totals, kept incrementally between renders, are the sum of the placements
        live = A.shared_view("host", state, c, facts(PLAYERS, dict(table), cache=memo), T0)
        assert live["totals"] == {
            cid: sum(mine(p).get(cid, 0) for p in PLAYERS) for cid in CARD_IDS
        }
        stored = table[player]["stickers"]
        assert sum(stored.values()) <= budget
        assert all(n > 0 and (not cap or n <= cap) for n in stored.values())
        most = min(budget, cap * N_CARDS) if cap else budget  # a cap may allow fewer
        assert rec.reply["left"] == most - sum(stored.values())
        assert A.personal_view(state, c, facts(PLAYERS, dict(table)), player)["left"] == (
            most - sum(stored.values())
        )
    # the live totals are the sum of the placements
    f = facts(PLAYERS, table, expected=frozenset(PLAYERS))
    host = A.shared_view("host", state, c, f, T0)
    expected_totals = {cid: sum(mine(p).get(cid, 0) for p in PLAYERS) for cid in CARD_IDS}
    assert host["totals"] == expected_totals
    assert host["placed"] == sum(expected_totals.values())
    full = min(budget, cap * N_CARDS) if cap else budget
    assert host["done"] == sum(1 for p in PLAYERS if sum(mine(p).values()) >= full)
    # close, cut: the minority is exactly those with a sticker below the cut
    run(state, "close_voting", PLAYERS, inputs=table)
    run(state, "cut", **{cut[0]: cut[1]})
    view = A.shared_view("host", state, c, facts(PLAYERS), T0)
    assert sum(row["stickers"] for row in view["ranking"]) == sum(expected_totals.values())
    prioritised = {row["card_id"] for row in view["ranking"] if row["prioritised"]}
    if cut[0] == "min":
        assert prioritised == {k for k, n in expected_totals.items() if n >= cut[1]}
    else:
        ranks = {row["card_id"]: row["rank"] for row in view["ranking"]}
        assert prioritised == {k for k, n in expected_totals.items() if n and ranks[k] <= cut[1]}
    minority = {
        p for p in PLAYERS if any(n > 0 and k not in prioritised for k, n in mine(p).items())
    }
    assert set(A.gate_of(state)["minority"]) == minority
    assert view["minority"]["count"] == len(minority)
    for player in PLAYERS:
        me = A.personal_view(state, c, facts(PLAYERS), player)
        assert me is not None
        assert (me["minority"] is not None) == (player in minority)
        assert me["stickers"] == mine(player)


# ---- summary, exports, history -------------------------------------------------------------------


def finished() -> tuple[d.DotvoteState, dict[str, Any]]:
    c = A.check_content(
        {
            "title": "Scholingsplan 2027",
            "cards": [
                card("Schulden", kwartaal="Q1", doelgroep="team", leervorm="training"),
                card("Huiselijk geweld", domain="veiligheid", doelgroep="kennisgroep"),
                card("=1+1 formule", domain="participatie"),
            ],
        }
    )
    state = A.new_state(c)
    A.begin(state, c, ctx([]))
    run(state, "open_voting")
    inputs = {
        "a": {"stickers": {"c1": 4, "c2": 2}},
        "b": {"stickers": {"c1": 2, "c3": 4}},
        "c": {"stickers": {"c2": 6}},
    }
    run(state, "close_voting", ["a", "b", "c"], inputs=inputs)
    run(state, "cut", top=2)
    return state, c


def test_summary_archive_and_owner() -> None:
    state, c = finished()
    with pytest.raises(ActivityError, match="not_allowed"):
        run(state, "owner", card_id="c1", owner="x")
    effects = A.command(state, c, "summary", ctx(["a", "b", "c"], team="Wijkteam Noord"))
    assert effects.collection == "dotvote" and effects.replace and effects.archive is not None
    record = effects.archive
    assert [t["onderwerp"] for t in record["themes"]] == ["Huiselijk geweld", "Schulden"]
    assert record["others"][0]["onderwerp"] == "=1+1 formule" and record["team"] == "Wijkteam Noord"
    with pytest.raises(ActivityError, match="unknown_card"):
        run(state, "owner", card_id="c3", owner="Piet")  # not prioritised
    with pytest.raises(ActivityError, match="invalid_owner"):
        run(state, "owner", card_id="c1", owner="x" * 81)
    effects = run(state, "owner", card_id="c1", owner=" Anna  de Vries ")
    assert effects.archive is not None and effects.archive["themes"][1]["owner"] == "Anna de Vries"
    view = A.shared_view("phone", state, c, facts(["a", "b", "c"]), T0)
    assert view["owners"] == {"c1": "Anna de Vries", "c2": ""}
    marked = A.update_history(effects.archive, {"card_id": "c1", "taken_up": True, "note": "mei"})
    assert marked["themes"][1]["taken_up"] is True and marked["themes"][1]["taken_up_note"] == "mei"
    for bad in ({"card_id": "c1"}, {"card_id": 1, "taken_up": True}):
        with pytest.raises(ActivityError, match="invalid_history"):
            A.update_history(effects.archive, bad)
    with pytest.raises(ActivityError, match="not_found"):
        A.update_history(effects.archive, {"card_id": "c3", "taken_up": True})
    run(state, "back")
    assert state.phase == d.RESULT


def test_exports() -> None:
    state, c = finished()
    run(state, "summary")
    run(state, "owner", card_id="c2", owner="Team Veiligheid")
    names = {"a": "Anna", "b": "Bram", "c": "Cas"}
    tables = {d.MINORITY: {"b": {"answer": "Een e-learning erbij"}, "a": {"answer": "nvt"}}}
    data = A.export(state, c, names, tables, "nl")
    json.dumps(data)
    assert [row["card_id"] for row in data["ranking"]] == ["c2", "c1", "c3"]
    assert [row["prioritised"] for row in data["ranking"]] == [True, True, False]
    assert data["minority"] == [{"cards": ["c3"], "answer": "Een e-learning erbij"}]  # not a's
    assert data["ranking"][2]["answers"] == [{"text": "Een e-learning erbij"}]
    assert data["voters"] == 3 and data["cut"] == {"top": 2}
    text = A.export_csv(data, "excel-nl")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["rang", "domein", "onderwerp"]
    assert rows[1][:9] == [
        "1",
        "veiligheid",
        "Huiselijk geweld",
        "Kennisgroep",
        "",
        "",
        "8",
        "2",
        "ja",
    ]
    assert rows[1][9] == "Team Veiligheid"
    assert rows[3][2] == "'=1+1 formule"  # formula-like cells are defused
    assert rows[5] == ["kaarten", "antwoord", "naam"]
    assert rows[6] == ["'=1+1 formule", "Een e-learning erbij", ""]
    rfc = list(csv.reader(io.StringIO(A.export_csv(data).lstrip("\ufeff"))))
    assert rfc[1][2] == "Huiselijk geweld"
    with pytest.raises(ActivityError):
        A.export_csv(data, "tsv")
    md = A.export_markdown(data)
    assert md.startswith("# Scholingsplan 2027")
    assert "| veiligheid | Huiselijk geweld | Kennisgroep |  |  | 8 | Team Veiligheid |" in md
    assert "## Wat de minderheid nodig heeft" in md and "- Een e-learning erbij" in md
    # trial 9: an answer stands under each of its writer's cards below the cut, so the
    # heading says how many answers there are, each counted once
    assert (
        "_1 antwoord in totaal, hieronder per kaart onder de grens: een antwoord staat bij "
        "elke kaart waarop de schrijver een sticker plakte._" in md
    )
    run(state, "show_names", show=True)
    data = A.export(state, c, names, tables, "en")
    assert data["minority"][0]["name"] == "Bram"
    assert "Prioritised themes" in A.export_markdown(data)
    assert A.export_csv(data).splitlines()[0].lstrip("\ufeff").startswith("rank,domain,subject")


def test_a_dotvote_without_a_title_of_its_own_is_named_in_each_language() -> None:
    """No title given: the views and the team's record carry none (each page shows the
    werkvorm's name in its own language), the exports the name in their language. A title given
    is shown as given, and a record kept with the Dutch name written out reads as having none."""
    for typed, own in (({}, ""), ({"title": " Scholingsplan  2027 "}, "Scholingsplan 2027")):
        c = content(2, **typed)
        assert A.title(c) == own
        state = A.new_state(c)
        A.begin(state, c, ctx([]))
        for role in ("screen", "phone", "host"):
            assert A.shared_view(role, state, c, facts(["a"]), T0)["title"] == own
        A.command(state, c, "open_voting", ctx(["a"]))
        A.command(state, c, "close_voting", ctx(["a"], inputs={"a": {"stickers": {"c1": 2}}}))
        for lang, name in (
            ("nl", "Zes stickers prioriteren"),
            ("en", "Six stickers: set priorities"),
        ):
            data = A.export(state, c, {}, {}, lang)
            assert data["title"] == (own or name)
            assert A.export_markdown(data, lang).startswith(f"# {own or name}\n")
        effects = A.command(state, c, "summary", ctx(["a"], team="Wijkteam Oost"))
        assert effects.archive is not None and effects.archive["title"] == own
    old = {"title": "Zes stickers prioriteren", "themes": []}
    assert A.kept_record(old) == {"title": "", "themes": []}
    assert A.kept_record({"title": "Scholingsplan 2027"})["title"] == "Scholingsplan 2027"


def test_export_during_voting_reads_the_table() -> None:
    state, _ = voting(2)
    tables = {d.STICKERS: {"a": {"stickers": {"c2": 3}}}}
    data = A.export(state, content(2), {"a": "Anna"}, tables, "nl")
    assert data["cut"] is None and data["ranking"][0]["card_id"] == "c2"
    assert not any(row["prioritised"] for row in data["ranking"])
    assert "Het stemmen loopt nog" in A.export_markdown(data)


# ---- import --------------------------------------------------------------------------------------

DOMAINS = list(A.check_content({})["domains"])


def test_import_json_and_csv() -> None:
    raw = json.dumps(
        {"cards": [{"domein": "Inkomen", "onderwerp": "Schulden", "kwartaal": "q3"}]}
    ).encode()
    assert parse_cards_file(raw, "application/json", DOMAINS)[0]["kwartaal"] == "Q3"
    text = "\ufeffDomein;Kwartaal;Doelgroep;Onderwerp;Leervorm\r\n"
    text += "veiligheid;Q1;Team;Meldcode;training\r\n;;;;\r\ninkomen;;;Toeslagen;\r\n"
    cards = parse_cards_file(text.encode(), "text/csv", DOMAINS)
    assert [x["onderwerp"] for x in cards] == ["Meldcode", "Toeslagen"]
    assert cards[0]["doelgroep"] == "team"
    state = A.new_state(content(1))
    args = A.parse_upload(state, text.encode(), "text/csv")
    run(state, "import_cards", **args)
    assert [x.origin for x in state.cards] == ["content", "import", "import"]
    assert A.upload_reply(state, args) == {"imported": 2, "cards": 3}


@pytest.mark.parametrize(
    ("raw", "errors"),
    [
        (b"\xff\xfe", [(0, "", "not_utf8")]),
        (b"[1, ", [(0, "", "not_json")]),
        (b'{"kaarten": []}', [(0, "cards", "not_a_list")]),
        (b"[]", [(0, "", "empty")]),
        (b"domein,leervorm\ninkomen,x\n", [(0, "onderwerp", "missing_column")]),
        (
            b"domein,onderwerp,kwartaal\ninkomen,ok,Q1\nmaan,x,Q1\ninkomen,y,Q7\ninkomen,,\n",
            [
                (2, "domain", "invalid_domain"),
                (3, "kwartaal", "invalid_kwartaal"),
                (4, "onderwerp", "invalid_onderwerp"),
            ],
        ),
        (  # every wrong field of a row at once, not only its first
            b"domein,onderwerp,doelgroep,kwartaal\nmaan,x,klas,Q9\n",
            [
                (1, "domain", "invalid_domain"),
                (1, "kwartaal", "invalid_kwartaal"),
                (1, "doelgroep", "invalid_doelgroep"),
            ],
        ),
        (b'[{"domain": "inkomen", "onderwerp": "a"}, 5]', [(2, "", "invalid_card")]),
    ],
)
def test_invalid_import_files(raw: bytes, errors: list[tuple[int, str, str]]) -> None:
    with pytest.raises(ActivityError) as exc:
        parse_cards_file(raw, "", DOMAINS)
    assert exc.value.code == "invalid_import"
    assert [(e["row"], e["field"], e["code"]) for e in exc.value.details] == errors
    for e in exc.value.details:
        assert e["code"] in ERRORS["nl"] and e["code"] in ERRORS["en"]
    if errors[-1][2] == "invalid_doelgroep":  # the wrong values are named
        assert [e.get("value") for e in exc.value.details] == ["maan", "Q9", "klas"]


def test_every_error_code_has_a_message() -> None:
    codes = {
        "invalid_card", "invalid_domain", "unknown_card", "too_many_cards", "no_cards",
        "too_many_proposals", "invalid_settings", "invalid_switch", "invalid_cut",
        "invalid_owner", "voting_closed", "invalid_stickers", "over_budget", "over_cap",
        "not_minority", "invalid_answer", "invalid_import", "invalid_history", "too_large",
    }  # fmt: skip
    for lang in ("nl", "en"):
        assert codes <= set(ERRORS[lang])
    assert set(ERRORS["nl"]) == set(ERRORS["en"])
    assert r.Cut().as_dict() == {"top": 3}


# ---- trial fixes: proposals dropped by open_voting, the scholingsplan's Markdown ------------------


def test_open_voting_tells_phones_their_waiting_proposals_were_not_added() -> None:
    """A proposal still waiting when voting opens does not go up on the wall: the phone that sent
    it is told so in its `me` (the command reads the proposals, as `accept_proposals` does)."""
    c = content(1)
    state = A.new_state(c)
    gate = dict(A.begin(state, c, ctx([])).gate or {})
    players = ids(3)
    sent = {
        "p0000": [card("Voorstel A"), card("Voorstel B")],
        "p0001": [card("Voorstel C")],
    }
    inputs = {
        p: A.decode_input(dict(A.accept(gate, {}, p, {"proposals": ps}, T0).value))
        for p, ps in sent.items()
    }
    run(
        state,
        "accept_proposals",
        players,
        keys=[proposal_key("p0001", inputs["p0001"]["proposals"][0])],
        inputs=inputs,
    )
    assert A.needs_inputs(state, "open_voting")
    effects = run(state, "open_voting", players, inputs=inputs)
    assert effects.gate is not None and effects.gate["phase"] == d.VOTING
    mine = A.personal_view(state, c, facts(players), "p0000")
    assert mine is not None and mine["dropped"] == ["Voorstel A", "Voorstel B"]
    for other in ("p0001", "p0002"):  # accepted, or proposed nothing
        me = A.personal_view(state, c, facts(players), other)
        assert me is not None and "dropped" not in me
    data = unpackb(packb(A.encode(state)), strict_map_key=False)
    assert A.decode(data).dropped == {"p0000": ["Voorstel A", "Voorstel B"]}
    assert A.copy(state).dropped == state.dropped
    # a state stored before this field existed still loads
    del data["dropped"]
    assert A.decode(data).dropped == {}


def test_markdown_escapes_participants_text() -> None:
    state, c = finished()
    run(state, "edit_card", card_id="c3", card=card("# Kop <b>vet</b>", domain="participatie"))
    names = {"a": "Anna", "b": "Bram", "c": "Cas"}
    answer = "*vet* en _schuin_ met [link](http://x) en `code` | pipe"
    tables = {d.MINORITY: {"b": {"answer": answer}}}
    run(state, "summary")
    run(state, "owner", card_id="c1", owner="- Anna")
    md = A.export_markdown(A.export(state, c, names, tables, "nl"))
    assert "- \\# Kop \\<b\\>vet\\</b\\> (participatie): 4 stickers" in md
    assert "### \\# Kop \\<b\\>vet\\</b\\> (participatie)" in md
    assert "- \\*vet\\* en \\_schuin\\_ met \\[link\\](http://x) en \\`code\\` \\| pipe" in md
    assert "| \\- Anna |" in md  # a list marker at the start of a cell stays text
    assert not any(line.startswith("# #") for line in md.splitlines())


def test_markdown_header_has_team_date_and_a_tie_note() -> None:
    c = content(3, title="Scholingsplan")
    state = A.new_state(c)
    A.begin(state, c, ctx([]))
    run(state, "open_voting")
    inputs = {
        "a": {"stickers": {"c1": 3}},
        "b": {"stickers": {"c2": 3}},
        "c": {"stickers": {"c3": 1}},
    }
    run(state, "close_voting", ["a", "b", "c"], inputs=inputs)
    run(state, "cut", top=1)
    md = A.export_markdown(A.export(state, c, {}, {}, "nl"))
    assert "Team:" not in md and "Datum:" not in md  # not known before the summary
    when = 1_780_000_000.0  # 28 May 2026
    A.command(state, c, "summary", ctx(["a", "b", "c"], team="Wijkteam Zuid", now=when))
    data = A.export(state, c, {}, {}, "nl")
    assert data["team"] == "Wijkteam Zuid" and data["date"] == when and data["tie"] is True
    md = A.export_markdown(data)
    assert md.splitlines()[2] == "Team: Wijkteam Zuid · Datum: 28-5-2026"
    assert "_Gelijke stand op de grens: bij een top 1 zijn 2 thema's gekozen._" in md
    others = [line for line in md.splitlines() if line.startswith("- ")]
    assert len(others) == 1 and others[0].endswith("): 1 sticker"), others  # not "1 stickers"
    en = A.export_markdown(A.export(state, c, {}, {}, "en"))
    assert "Team: Wijkteam Zuid · Date: 2026-05-28" in en
    assert "A tie at the cut: 2 themes were chosen for a top 1." in en
    run(state, "back")
    run(state, "cut", top=2)
    assert "Gelijke stand" not in A.export_markdown(A.export(state, c, {}, {}, "nl"))


def test_an_import_names_the_wrong_domain() -> None:
    with pytest.raises(ActivityError) as exc:
        parse_cards_file(b"domein,onderwerp\ninkomen,ok\n  Maan  ,x\n", "", DOMAINS)
    assert exc.value.details == [
        {"row": 2, "field": "domain", "code": "invalid_domain", "value": "Maan"}
    ]
