"""What the dotvote shows each role, and the live tally of the placements (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from server.activities.base import Facts
from server.activities.dotvote_cards import (
    DOELGROEPEN,
    KWARTALEN,
    LEERVORMEN,
    MAX_PROPOSALS,
    proposal_key,
)
from server.activities.dotvote_state import (
    CARDS,
    MAX_LISTED,
    QUESTION,
    RESULT,
    SUMMARY,
    VOTING,
    DotvoteState,
    answer_of,
    full,
    joined_late,
    outcome_of,
    pending,
    placement_of,
    proposals_of,
)


def live(state: DotvoteState, facts: Facts) -> tuple[dict[str, int], int, int, int, int]:
    """During voting: totals per card, stickers placed, players done, voters, of.

    Kept up to date in the fan-out's memo (`Facts.cache`): a render looks again only at the
    records that are new or replaced since the last one (the hub decodes each stored
    record once, so an unchanged one is the same object), not at 2,000 placements."""
    key = (state.seq, state.phase, len(state.cards))
    memo = facts.cache.get("dotvote_live")
    if memo is None or memo[0] != key:
        memo = (key, {}, {}, {c.id: 0 for c in state.cards})
        facts.cache["dotvote_live"] = memo
    records: dict[str, Any] = memo[1]
    per: dict[str, tuple[int, dict[str, int]]] = memo[2]
    totals: dict[str, int] = memo[3]

    def drop(player: str) -> None:
        records.pop(player, None)
        _, old = per.pop(player, (0, {}))
        for card, n in old.items():
            totals[card] -= n

    inputs = facts.inputs
    for player in [p for p in records if p not in inputs]:
        drop(player)
    for player, record in inputs.items():
        if records.get(player) is record:
            continue
        drop(player)
        mine = {c: n for c, n in placement_of(record).items() if c in totals}
        for card, n in mine.items():
            totals[card] += n
        records[player] = record
        per[player] = (sum(mine.values()), mine)
    most = full(state)
    people = facts.expected if facts.expected is not None else facts.names.keys()
    names = facts.names
    placed = done = voters = 0
    shown = dict(totals)
    for player, (count, mine) in per.items():
        if player not in names:  # removed: their stickers do not count
            for card, n in mine.items():
                shown[card] -= n
            continue
        if not count:
            continue
        placed += count
        voters += 1
        if count >= most and player in people:
            done += 1
    return shown, placed, done, voters, len(people)


def in_hand(state: DotvoteState, facts: Facts) -> list[dict[str, Any]]:
    """During voting, for the facilitator only: who still has stickers in hand and how many,
    whom to wait for first — the connected ones, most stickers left first, then by name; the
    offline ones after them. Never where anyone put a sticker (the votes stay anonymous).

    Reads the tally `live` keeps (call `live` first in the same render)."""
    per: dict[str, tuple[int, dict[str, int]]] = facts.cache["dotvote_live"][2]
    most = full(state)
    rows: list[tuple[bool, int, str, dict[str, Any]]] = []
    for player, name in facts.names.items():
        left = most - per.get(player, (0, {}))[0]
        if left <= 0:
            continue
        online = player in facts.online
        rows.append(
            (not online, -left, name.casefold(), {"name": name, "left": left, "online": online})
        )
    rows.sort(key=lambda r: r[:3])
    return [r[3] for r in rows]


def shared_view(role: str, state: DotvoteState, title: str, facts: Facts) -> dict[str, Any]:
    """What every client of `role` sees (docs/PROTOCOL.md, "The dotvote's part of the view")."""
    view: dict[str, Any] = {
        "phase": state.phase,
        "title": title,
        "domains": list(state.domains),
        "cards": [c.as_dict() for c in state.cards],
        "stickers": state.stickers,
        "cap": state.cap,
    }
    if state.phase in (CARDS, VOTING):
        view["leervormen"] = list(LEERVORMEN)
        view["kwartalen"] = list(KWARTALEN)
        view["doelgroepen"] = list(DOELGROEPEN)
    if role == "host" or state.phase == VOTING:
        view["show_totals"] = state.show_totals
    if role == "host":
        view["show_names"] = state.show_names
    if state.phase == CARDS:
        view["proposals_open"] = state.proposals_open
        if role != "phone":
            waiting = pending(state, facts.inputs, facts.names)
            view["proposed"] = len(waiting)
            if role == "host":
                view["proposals"] = waiting[:MAX_LISTED]
                view["more_proposals"] = max(0, len(waiting) - MAX_LISTED)
    elif state.phase == VOTING:
        if role != "phone":
            totals, placed, done, voters, of = live(state, facts)
            view.update({"done": done, "voters": voters, "of": of, "placed": placed})
            if role == "host" or state.show_totals:
                view["totals"] = totals
            if role == "host":
                hands = in_hand(state, facts)
                view["hands"] = hands[:MAX_LISTED]
                view["more_hands"] = max(0, len(hands) - MAX_LISTED)
    else:
        view.update(result_view(role, state, facts))
    return view


def result_view(role: str, state: DotvoteState, facts: Facts) -> dict[str, Any]:
    result = outcome_of(state, facts.cache)
    view: dict[str, Any] = {
        "totals": result.totals,
        "ranking": result.ranking,
        "cut": state.cut.as_dict(),
        "tie": result.tie,
        "question": QUESTION,
    }
    if state.phase == SUMMARY:
        view["owners"] = {c: state.owners.get(c, "") for c in sorted(result.prioritised)}
    if role != "phone":
        minority = {p: cards for p, cards in result.minority.items() if p in facts.names}
        answers: list[dict[str, Any]] = []
        for player in facts.names:  # join order
            text = answer_of(facts.inputs.get(player))
            if text is None or player not in minority:
                continue
            row: dict[str, Any] = {"text": text, "cards": minority[player]}
            if state.show_names:
                row["name"] = facts.names[player]
            answers.append(row)
        view["minority"] = {"count": len(minority), "answered": len(answers)}
        if role == "screen" and not state.show_names:
            # Anonymous on the projector: beside the cards' totals, the cards an answer's writer
            # voted on (or the join order) can point at that person in a small team. The same
            # answer from several people is one row with its count.
            answers = _grouped(answers)
        if role == "host" or state.show_answers:
            view["answers"] = answers[:MAX_LISTED]
            view["more_answers"] = sum(a.get("count", 1) for a in answers[MAX_LISTED:])
        if role == "host":
            view["show_answers"] = state.show_answers
    return view


def _text_order(answer: Mapping[str, Any]) -> tuple[str, str]:
    return (str(answer["text"]).casefold(), str(answer["text"]))


def _grouped(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Anonymous answers in text order, the same text (case, spacing and a closing full stop
    aside) once, with `count` when more than one gave it."""
    groups: dict[str, dict[str, Any]] = {}
    for answer in answers:
        key = " ".join(str(answer["text"]).split()).rstrip(".").casefold()
        group = groups.setdefault(key, {"text": answer["text"]})
        group["count"] = group.get("count", 0) + 1
    rows = [
        {"text": g["text"], **({"count": g["count"]} if g["count"] > 1 else {})}
        for g in groups.values()
    ]
    return sorted(rows, key=_text_order)


def personal_view(state: DotvoteState, facts: Facts, player: str) -> dict[str, Any]:
    """A phone's `me`: its proposals, or its stickers and, after the close, the minority
    question with its cards below the cut."""
    record = facts.inputs.get(player)
    if state.phase == CARDS:
        mine = []
        for proposal in proposals_of(record):
            key = proposal_key(player, proposal)
            status, card = state.handled.get(key, ["pending", ""])
            row = {"key": key, **proposal, "status": status}
            if status == "accepted":
                row["card_id"] = card
            mine.append(row)
        return {"proposals": mine, "max_proposals": MAX_PROPOSALS}
    if state.phase == VOTING:
        stickers = placement_of(record)
    else:
        stickers = dict(state.votes.get(player, {}))
    placed = sum(stickers.values())
    me: dict[str, Any] = {
        "stickers": stickers,
        "placed": placed,
        "left": max(0, full(state) - placed),  # a cap per card may allow fewer than `budget`
        "budget": state.stickers,
        "cap": state.cap,
    }
    if state.phase == VOTING and state.dropped.get(player):
        me["dropped"] = list(state.dropped[player])
    if state.phase in (RESULT, SUMMARY):
        below = outcome_of(state, facts.cache).minority.get(player)
        me["minority"] = None if not below else {"cards": below, "answer": answer_of(record)}
        if joined_late(state, player):
            me["joined_late"] = True
    return me
