"""The dotvote's state, its stored form, and the checks of placements and switches (pure)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from server.activities.base import ActivityError
from server.activities.circle import DEFAULT_DOMAINS
from server.activities.dotvote_cards import MAX_CARDS, Card, proposal_key
from server.activities.dotvote_results import Cut, Outcome, outcome

CARDS = "cards"
VOTING = "voting"
RESULT = "result"
SUMMARY = "summary"

PROPOSALS = "dotvote:proposals"
STICKERS = "dotvote:stickers"
MINORITY = "dotvote:minority"
COLLECTION = "dotvote"

MAX_STICKERS = 12
MAX_ANSWER = 280
MAX_OWNER = 80
MAX_MIN = 999
MAX_LISTED = 60  # lists of proposals and answers in a view stop here (with a count of the rest)
MAX_KEYS = 200  # proposal keys in one command
QUESTION = "dotvote_minority_question"  # i18n key


@dataclass
class DotvoteState:
    phase: str = CARDS
    domains: list[str] = field(default_factory=lambda: list(DEFAULT_DOMAINS))
    cards: list[Card] = field(default_factory=list)
    next_id: int = 1
    stickers: int = 6
    cap: int = 0
    proposals_open: bool = True
    handled: dict[str, list[str]] = field(default_factory=dict)  # key → [status, card id]
    gen: int = 0
    show_totals: bool = False
    show_answers: bool = False
    show_names: bool = False
    votes: dict[str, dict[str, int]] = field(default_factory=dict)  # final, from close_voting
    cut: Cut = field(default_factory=Cut)
    owners: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    # player → the subjects of their proposals still waiting when voting opened (not on the wall)
    dropped: dict[str, list[str]] = field(default_factory=dict)
    # The last player (by id) in the room when voting closed: player ids sort in join order, so a
    # player after it joined once the vote was closed. None before the first close.
    closed_last: str | None = None
    team: str = ""  # the room's team and the time of the (last) summary, for the scholingsplan
    summarised: float = 0.0
    seq: int = 0  # +1 on every change

    def card(self, card_id: object) -> Card:
        for card in self.cards:
            if card.id == card_id:
                return card
        raise ActivityError("unknown_card")

    def new_card(self, fields: Mapping[str, str], origin: str) -> Card:
        card = Card(id=f"c{self.next_id}", origin=origin, **fields)
        self.next_id += 1
        self.cards.append(card)
        return card

    def room_for(self, n: int) -> None:
        if len(self.cards) + n > MAX_CARDS:
            raise ActivityError("too_many_cards")


# ---- checks ------------------------------------------------------------------------------------


def check_int(value: Any, low: int, high: int, code: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ActivityError(code)
    return value


def switch(args: Mapping[str, Any], name: str = "show") -> bool:
    value = args.get(name)
    if not isinstance(value, bool):
        raise ActivityError("invalid_switch")
    return value


def check_settings(stickers: Any, cap: Any) -> tuple[int, int]:
    stickers = check_int(stickers, 1, MAX_STICKERS, "invalid_settings")
    cap = check_int(cap, 0, stickers, "invalid_settings")
    return stickers, cap


def check_placement(raw: Any, gate: Mapping[str, Any]) -> dict[str, int]:
    """A phone's whole placement against the open voting gate; the counts > 0, in card order."""
    if not isinstance(raw, dict) or len(raw) > MAX_CARDS:
        raise ActivityError("invalid_stickers")
    for card, count in raw.items():
        if (
            not isinstance(card, str)
            or isinstance(count, bool)
            or not isinstance(count, int)
            or count < 0
        ):
            raise ActivityError("invalid_stickers")
    cards: list[str] = list(gate.get("cards") or ())
    known = set(cards)
    if any(card not in known for card in raw):
        raise ActivityError("unknown_card")
    cap = int(gate.get("cap", 0))
    if cap and any(count > cap for count in raw.values()):
        raise ActivityError("over_cap")
    if sum(raw.values()) > int(gate.get("stickers", 0)):
        raise ActivityError("over_budget")
    return {card: raw[card] for card in cards if raw.get(card)}


def placement_of(record: Any) -> dict[str, int]:
    """The stickers of a decoded placement record ({} for anything else)."""
    if isinstance(record, Mapping):
        stickers = record.get("stickers")
        if isinstance(stickers, Mapping):
            return {str(k): int(v) for k, v in stickers.items() if isinstance(v, int) and v > 0}
    return {}


def answer_of(record: Any) -> str | None:
    if isinstance(record, Mapping) and isinstance(record.get("answer"), str):
        return str(record["answer"])
    return None


def proposals_of(record: Any) -> list[dict[str, str]]:
    if isinstance(record, Mapping) and isinstance(record.get("proposals"), list):
        return [
            {str(k): str(v) for k, v in p.items()}
            for p in record["proposals"]
            if isinstance(p, Mapping)
        ]
    return []


# ---- stored form ----------------------------------------------------------------------------


def encode(state: DotvoteState) -> dict[str, Any]:
    return {
        "phase": state.phase,
        "domains": list(state.domains),
        "cards": [c.encode() for c in state.cards],
        "next_id": state.next_id,
        "stickers": state.stickers,
        "cap": state.cap,
        "proposals_open": state.proposals_open,
        "handled": {k: list(v) for k, v in state.handled.items()},
        "gen": state.gen,
        "show_totals": state.show_totals,
        "show_answers": state.show_answers,
        "show_names": state.show_names,
        "votes": {p: dict(v) for p, v in state.votes.items()},
        "cut": [state.cut.mode, state.cut.value],
        "owners": dict(state.owners),
        "removed": list(state.removed),
        "dropped": {p: list(v) for p, v in state.dropped.items()},
        "closed_last": state.closed_last,
        "team": state.team,
        "summarised": state.summarised,
        "seq": state.seq,
    }


def decode(data: Mapping[str, Any]) -> DotvoteState:
    mode, value = data["cut"]
    return DotvoteState(
        phase=str(data["phase"]),
        domains=list(data["domains"]),
        cards=[Card.decode(c) for c in data["cards"]],
        next_id=int(data["next_id"]),
        stickers=int(data["stickers"]),
        cap=int(data["cap"]),
        proposals_open=bool(data["proposals_open"]),
        handled={k: list(v) for k, v in data["handled"].items()},
        gen=int(data["gen"]),
        show_totals=bool(data["show_totals"]),
        show_answers=bool(data["show_answers"]),
        show_names=bool(data["show_names"]),
        votes={p: {c: int(n) for c, n in v.items()} for p, v in data["votes"].items()},
        cut=Cut(str(mode), int(value)),
        owners=dict(data["owners"]),
        removed=list(data["removed"]),
        dropped={str(p): [str(x) for x in v] for p, v in data.get("dropped", {}).items()},
        closed_last=None if data.get("closed_last") is None else str(data["closed_last"]),
        team=str(data.get("team", "")),
        summarised=float(data.get("summarised", 0.0)),
        seq=int(data["seq"]),
    )


def copy(state: DotvoteState) -> DotvoteState:
    return DotvoteState(
        phase=state.phase,
        domains=list(state.domains),
        cards=list(state.cards),  # cards are frozen: sharing them is safe
        next_id=state.next_id,
        stickers=state.stickers,
        cap=state.cap,
        proposals_open=state.proposals_open,
        handled={k: list(v) for k, v in state.handled.items()},
        gen=state.gen,
        show_totals=state.show_totals,
        show_answers=state.show_answers,
        show_names=state.show_names,
        votes={p: dict(v) for p, v in state.votes.items()},
        cut=state.cut,
        owners=dict(state.owners),
        removed=list(state.removed),
        dropped={p: list(v) for p, v in state.dropped.items()},
        closed_last=state.closed_last,
        team=state.team,
        summarised=state.summarised,
        seq=state.seq,
    )


# ---- derived -----------------------------------------------------------------------------------


def placeable(stickers: int, cap: int, cards: int) -> int:
    """How many of `stickers` a player can place on `cards` cards with at most `cap` on each
    (0: no cap)."""
    if not cards:
        return 0
    return min(stickers, cap * cards) if cap else stickers


def full(state: DotvoteState) -> int:
    """How many stickers a player can place at most (the cap may allow fewer)."""
    return placeable(state.stickers, state.cap, len(state.cards))


def joined_late(state: DotvoteState, player: str) -> bool:
    """After the close: whether `player` has no stickers because they joined once voting was
    closed (not because they placed none)."""
    if state.phase not in (RESULT, SUMMARY) or state.closed_last is None:
        return False
    return player not in state.votes and player > state.closed_last


def outcome_of(state: DotvoteState, cache: dict[str, Any]) -> Outcome:
    """The result (ranking, cut, minority) of the final placements, memoised per state."""
    key = (state.seq, state.phase, len(state.votes), state.cut)
    hit = cache.get("dotvote_outcome")
    if hit is not None and hit[0] == key:
        result: Outcome = hit[1]
        return result
    result = outcome(state.cards, state.votes, state.cut)
    cache["dotvote_outcome"] = (key, result)
    return result


def _waiting(
    state: DotvoteState, inputs: Mapping[str, Any], names: Mapping[str, str]
) -> Iterator[tuple[str, int, Mapping[str, Any], str]]:
    """(player, index, proposal, key) of every proposal not yet accepted or dismissed, of the
    players still in the room (`names`)."""
    for player, record in inputs.items():
        if player not in names:
            continue
        for n, proposal in enumerate(proposals_of(record)):
            key = proposal_key(player, proposal)
            if key not in state.handled:
                yield player, n, proposal, key


def pending(
    state: DotvoteState, inputs: Mapping[str, Any], names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Proposals not yet accepted or dismissed, in the order phones sent them, of the
    players still in the room (`names`)."""
    rows: list[tuple[float, int, int, dict[str, Any]]] = []
    order = {p: i for i, p in enumerate(names)}
    for player, n, proposal, key in _waiting(state, inputs, names):
        record = inputs[player]
        at = record.get("at", 0.0) if isinstance(record, Mapping) else 0.0
        shown = {"key": key, "name": names.get(player, "?"), **proposal}
        rows.append((float(at), order[player], n, shown))
    rows.sort(key=lambda r: r[:3])
    return [r[3] for r in rows]


def waiting_by_player(
    state: DotvoteState, inputs: Mapping[str, Any], names: Mapping[str, str]
) -> dict[str, list[str]]:
    """The subjects of the proposals not yet accepted or dismissed, per player still in the room."""
    out: dict[str, list[str]] = {}
    for player, _, proposal, _ in _waiting(state, inputs, names):
        out.setdefault(player, []).append(proposal.get("onderwerp", ""))
    return out
