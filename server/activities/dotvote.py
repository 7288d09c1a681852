"""Zes stickers prioriteren: dialogue cards on the wall, six stickers per person, a ranking with a
cut line, and the voice of the minority (pure). The protocol is docs/PROTOCOL.md, "Zes stickers
prioriteren".

Phases and host commands (`actions`):

- "cards":   the facilitator adds, edits, merges, removes and imports cards; phones propose cards
             (each phone's whole list of proposals is one overwrite record) which the facilitator
             accepts (`accept_proposals`, which reads the final proposals) or dismisses.
- "voting":  every phone's whole placement `{card id: count}` is one overwrite record, checked
             against the gate (cards, stickers, cap): totals are the sum of the placements by
             construction, and a refused placement stores nothing. `close_voting` closes the
             gate, reads the placements and keeps them in the state.
- "result":  the ranking (ties share a rank) and the cut line (`cut`: top K or a minimum count);
             the players with a sticker below the cut (the minority) may answer the minority
             question (an overwrite record each), shown anonymously unless `show_names`.
- "summary": "wie pakt het op" per prioritised card (`owner`); the outcome is kept for the
             team (`Effects.archive`, rewritten on every change).

The gate carries what an input is checked against, so an input never reads the room: the phase
and a generation (`gen`, +1 whenever inputs open anew), the card ids, stickers and cap while
voting, and the minority's player ids in the result.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from server.activities.base import (
    Activity,
    ActivityError,
    Context,
    Effects,
    Facts,
    InputRecord,
)
from server.activities.circle import DEFAULT_DOMAINS, check_domains
from server.activities.dotvote_cards import (
    DOELGROEPEN,
    KWARTALEN,
    LEERVORMEN,
    MAX_CARDS,
    MAX_PROPOSALS,
    Card,
    check_fields,
    check_proposals,
    parse_cards_file,
    proposal_key,
)
from server.activities.dotvote_results import (
    Cut,
    Outcome,
    export_data,
    history_record,
    mark_taken_up,
    outcome,
    results_csv,
    results_markdown,
)

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
DEFAULT_TITLE = "Zes stickers prioriteren"


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


def _int(value: Any, low: int, high: int, code: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ActivityError(code)
    return value


def _switch(args: Mapping[str, Any], name: str = "show") -> bool:
    value = args.get(name)
    if not isinstance(value, bool):
        raise ActivityError("invalid_switch")
    return value


def check_settings(stickers: Any, cap: Any) -> tuple[int, int]:
    stickers = _int(stickers, 1, MAX_STICKERS, "invalid_settings")
    cap = _int(cap, 0, stickers, "invalid_settings")
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


# ---- the activity ------------------------------------------------------------------------------


class Dotvote(Activity[DotvoteState]):
    kind: ClassVar[str] = "dotvote"
    complete_action: ClassVar[str] = ""  # "everyone placed their stickers" is shown, not acted on
    personal_from_own_input: ClassVar[bool] = True
    render_pause_s: ClassVar[float] = 0.2  # counters follow sticker moves at most 5 times a second
    history_collection: ClassVar[str] = COLLECTION
    upload_action: ClassVar[str] = "import_cards"
    export_formats: ClassVar[frozenset[str]] = frozenset({"json", "csv", "md"})
    gate_errors: ClassVar[frozenset[str]] = frozenset(
        {"not_open", "voting_closed", "unknown_card", "not_minority"}
    )
    commands: ClassVar[frozenset[str]] = frozenset(
        {
            "add_card",
            "edit_card",
            "remove_card",
            "merge_cards",
            "import_cards",
            "accept_proposals",
            "dismiss_proposals",
            "proposals",
            "settings",
            "open_voting",
            "show_totals",
            "show_names",
            "show_answers",
            "close_voting",
            "reopen_voting",
            "cut",
            "summary",
            "owner",
            "back",
        }
    )

    # ---- state -----------------------------------------------------------------------------
    def check_content(self, content: Mapping[str, Any]) -> dict[str, Any]:
        title = content.get("title", "")
        if not isinstance(title, str) or len(title) > 120:
            raise ActivityError("invalid_content")
        raw_domains = content.get("domains")
        domains = list(DEFAULT_DOMAINS) if raw_domains is None else check_domains(raw_domains)
        try:
            stickers, cap = check_settings(content.get("stickers", 6), content.get("cap", 0))
        except ActivityError:
            raise ActivityError("invalid_content") from None
        flags = {}
        for name, default in (("proposals", True), ("show_totals", False)):
            value = content.get(name, default)
            if not isinstance(value, bool):
                raise ActivityError("invalid_content")
            flags[name] = value
        raw_cards = content.get("cards", [])
        if not isinstance(raw_cards, list):
            raise ActivityError("invalid_content")
        if len(raw_cards) > MAX_CARDS:
            raise ActivityError("too_many_cards")
        cards = [check_fields(card, domains) for card in raw_cards]
        return {
            "title": " ".join(title.split()),
            "domains": domains,
            "stickers": stickers,
            "cap": cap,
            "cards": cards,
            **flags,
        }

    def title(self, content: Mapping[str, Any]) -> str:
        return str(content.get("title") or DEFAULT_TITLE)

    def new_state(self, content: Mapping[str, Any]) -> DotvoteState:
        checked = self.check_content(content)
        state = DotvoteState(
            domains=checked["domains"],
            stickers=checked["stickers"],
            cap=checked["cap"],
            proposals_open=checked["proposals"],
            show_totals=checked["show_totals"],
        )
        for fields in checked["cards"]:
            state.new_card(fields, "content")
        return state

    def encode(self, state: DotvoteState) -> dict[str, Any]:
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
            "seq": state.seq,
        }

    def decode(self, data: Mapping[str, Any]) -> DotvoteState:
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
            seq=int(data["seq"]),
        )

    def copy(self, state: DotvoteState) -> DotvoteState:
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
            seq=state.seq,
        )

    def phase(self, state: DotvoteState) -> str:
        return state.phase

    # ---- the gate ------------------------------------------------------------------------------
    def gate_of(self, state: DotvoteState) -> dict[str, Any]:
        """What phones' inputs are checked against now."""
        gate: dict[str, Any] = {"activity": self.kind, "phase": state.phase, "gen": state.gen}
        if state.phase == CARDS:
            gate["open"] = state.proposals_open
            gate["domains"] = list(state.domains)
        elif state.phase == VOTING:
            gate["cards"] = [c.id for c in state.cards]
            gate["stickers"] = state.stickers
            gate["cap"] = state.cap
        else:
            gate["minority"] = sorted(self._outcome(state, {}).minority)
        return gate

    def closed_gate(self, state: DotvoteState) -> Mapping[str, Any]:
        return {"activity": self.kind, "phase": state.phase, "closed": True}

    def begin(self, state: DotvoteState, content: Mapping[str, Any], ctx: Context) -> Effects:
        """The item starts (or runs again): inputs open as the phase allows."""
        if state.gen == 0:
            state.gen = 1
            state.seq += 1
        return Effects(gate=self.gate_of(state))

    def collecting(self, state: DotvoteState) -> bool:
        return state.phase == VOTING

    # ---- commands --------------------------------------------------------------------------
    def actions(self, state: DotvoteState, content: Mapping[str, Any]) -> list[str]:
        if state.phase == CARDS:
            return [
                "add_card",
                "edit_card",
                "remove_card",
                "merge_cards",
                "import_cards",
                "accept_proposals",
                "dismiss_proposals",
                "proposals",
                "settings",
                "open_voting",
                "show_totals",
                "show_names",
            ]
        if state.phase == VOTING:
            return ["add_card", "edit_card", "close_voting", "show_totals", "show_names"]
        if state.phase == RESULT:
            return [
                "cut",
                "summary",
                "reopen_voting",
                "show_answers",
                "show_names",
                "show_totals",
                "edit_card",
            ]
        return ["owner", "back", "show_answers", "show_names", "show_totals", "edit_card"]

    def needs_inputs(self, state: DotvoteState, action: str) -> bool:
        return (action, state.phase) in (("close_voting", VOTING), ("accept_proposals", CARDS))

    def command(
        self, state: DotvoteState, content: Mapping[str, Any], action: str, ctx: Context
    ) -> Effects:
        if action not in self.actions(state, content):
            raise ActivityError("not_allowed")
        before = self.gate_of(state)
        effects = self._apply(state, content, action, ctx)  # checks its args before changing
        state.seq += 1
        after = self.gate_of(state)
        # A `needs_inputs` command found the gate closed by the hub: it is always written again.
        if after != before or action in ("close_voting", "accept_proposals"):
            effects.gate = after
        return effects

    def _apply(
        self, state: DotvoteState, content: Mapping[str, Any], action: str, ctx: Context
    ) -> Effects:
        args = ctx.args
        if action == "add_card":
            state.room_for(1)
            state.new_card(check_fields(args.get("card"), state.domains), "host")
        elif action == "edit_card":
            old = state.card(args.get("card_id"))
            fields = check_fields(args.get("card"), state.domains)
            new = Card(id=old.id, origin=old.origin, **fields)
            state.cards = [new if c.id == old.id else c for c in state.cards]
        elif action == "remove_card":
            gone = state.card(args.get("card_id"))
            state.cards = [c for c in state.cards if c.id != gone.id]
            state.owners.pop(gone.id, None)
        elif action == "merge_cards":
            gone, into = state.card(args.get("card_id")), state.card(args.get("into"))
            if gone.id == into.id:
                raise ActivityError("unknown_card")
            state.cards = [c for c in state.cards if c.id != gone.id]
            for status in state.handled.values():  # an accepted proposal now lives in `into`
                if status[1] == gone.id:
                    status[1] = into.id
        elif action == "import_cards":
            self._import(state, args.get("cards"), "import")
        elif action == "accept_proposals":
            self._accept_proposals(state, args.get("keys"), ctx)
        elif action == "dismiss_proposals":
            keys = args.get("keys")
            if not isinstance(keys, list) or len(keys) > MAX_KEYS:
                raise ActivityError("bad_frame")
            for key in keys:
                if isinstance(key, str) and key not in state.handled and len(key) <= 80:
                    state.handled[key] = ["dismissed", ""]
        elif action == "proposals":
            state.proposals_open = _switch(args, "open")
        elif action == "settings":
            state.stickers, state.cap = check_settings(
                args.get("stickers", state.stickers), args.get("cap", state.cap)
            )
        elif action == "open_voting":
            if not state.cards:
                raise ActivityError("no_cards")
            state.phase = VOTING
            state.gen += 1
            return Effects(opens=True)
        elif action == "show_totals":
            state.show_totals = _switch(args)
        elif action == "show_names":
            state.show_names = _switch(args)
        elif action == "show_answers":
            state.show_answers = _switch(args)
        elif action == "close_voting":
            self._close(state, ctx)
        elif action == "reopen_voting":
            state.phase = VOTING
            state.votes = {}
            state.gen += 1
            return Effects(opens=True)
        elif action == "cut":
            state.cut = self._check_cut(args)
        elif action == "summary":
            state.phase = SUMMARY
            return self._archive(state, content, ctx)
        elif action == "owner":
            card = state.card(args.get("card_id"))
            if card.id not in self._outcome(state, {}).prioritised:
                raise ActivityError("unknown_card")
            owner = args.get("owner")
            if not isinstance(owner, str) or len(owner) > MAX_OWNER:
                raise ActivityError("invalid_owner")
            state.owners[card.id] = " ".join(owner.split())
            return self._archive(state, content, ctx)
        else:  # back
            state.phase = RESULT
        return Effects()

    def _import(self, state: DotvoteState, raw: Any, origin: str) -> None:
        if not isinstance(raw, list):
            raise ActivityError("invalid_card")
        state.room_for(len(raw))
        checked = [check_fields(card, state.domains) for card in raw]  # all or nothing
        for fields in checked:
            state.new_card(fields, origin)

    def _accept_proposals(self, state: DotvoteState, keys: Any, ctx: Context) -> None:
        if keys != "all" and (
            not isinstance(keys, list)
            or len(keys) > MAX_KEYS
            or not all(isinstance(k, str) for k in keys)
        ):
            raise ActivityError("bad_frame")
        pending = self._pending(state, ctx.inputs, ctx.names)
        if keys == "all":
            chosen = pending
        else:
            by_key = {p["key"]: p for p in pending}
            chosen = [by_key[k] for k in dict.fromkeys(keys) if k in by_key]
        state.room_for(len(chosen))
        for proposal in chosen:
            fields = {f: proposal[f] for f in ("domain", "kwartaal", "doelgroep", "onderwerp")}
            fields["leervorm"] = proposal["leervorm"]
            try:
                fields = check_fields(fields, state.domains)
            except ActivityError:
                continue  # checked on the way in; only a changed domain list could refuse it
            card = state.new_card(fields, "phone")
            state.handled[proposal["key"]] = ["accepted", card.id]

    def _pending(
        self, state: DotvoteState, inputs: Mapping[str, Any], names: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Proposals not yet accepted or dismissed, in the order phones sent them, of the
        players still in the room (`names`)."""
        rows: list[tuple[float, int, int, dict[str, Any]]] = []
        order = {p: i for i, p in enumerate(names)}
        for player, record in inputs.items():
            if player not in order:
                continue
            at = record.get("at", 0.0) if isinstance(record, Mapping) else 0.0
            for n, proposal in enumerate(proposals_of(record)):
                key = proposal_key(player, proposal)
                if key in state.handled:
                    continue
                shown = {"key": key, "name": names.get(player, "?"), **proposal}
                rows.append((float(at), order[player], n, shown))
        rows.sort(key=lambda r: r[:3])
        return [r[3] for r in rows]

    def _close(self, state: DotvoteState, ctx: Context) -> None:
        players = set(ctx.players)
        gate = {"cards": [c.id for c in state.cards], "stickers": state.stickers, "cap": state.cap}
        votes: dict[str, dict[str, int]] = {}
        for player, record in ctx.inputs.items():
            if player not in players or player in state.removed:
                continue
            try:  # checked on the way in against this very gate; kept only if still valid
                placement = check_placement(placement_of(record), gate)
            except ActivityError:
                continue
            if placement:
                votes[player] = placement
        state.votes = votes
        state.phase = RESULT
        state.gen += 1

    def _check_cut(self, args: Mapping[str, Any]) -> Cut:
        given = [k for k in ("top", "min") if k in args]
        if len(given) != 1:
            raise ActivityError("invalid_cut")
        mode = given[0]
        high = MAX_CARDS if mode == "top" else MAX_MIN
        return Cut(mode, _int(args.get(mode), 1, high, "invalid_cut"))

    def _archive(self, state: DotvoteState, content: Mapping[str, Any], ctx: Context) -> Effects:
        data = self._export(state, content, ctx.names, {}, "nl")
        record = history_record(data, ctx.now, ctx.team)
        return Effects(archive=record, collection=COLLECTION, replace=True)

    def remove_player(self, state: DotvoteState, player: str) -> None:
        state.votes.pop(player, None)
        if player not in state.removed:
            state.removed.append(player)
        state.seq += 1

    def holds(self, state: DotvoteState, player: str) -> bool:
        return player in state.votes

    # ---- inputs ----------------------------------------------------------------------------
    def accept(
        self,
        gate: Mapping[str, Any],
        content: Mapping[str, Any],
        player: str,
        payload: Mapping[str, Any],
        now: float,
    ) -> InputRecord:
        ours = gate.get("activity") == self.kind and not gate.get("closed")
        phase = gate.get("phase") if ours else None
        if "proposals" in payload:
            if phase != CARDS or not gate.get("open"):
                raise ActivityError("not_open")
            proposals = check_proposals(payload["proposals"], gate.get("domains") or ())
            return InputRecord(
                table=PROPOSALS,
                value={"proposals": proposals, "at": now},
                overwrite=True,
                reply={"proposals": len(proposals)},
            )
        if "stickers" in payload:
            if phase != VOTING:
                raise ActivityError("voting_closed")
            placement = check_placement(payload["stickers"], gate)
            placed = sum(placement.values())
            return InputRecord(
                table=STICKERS,
                value={"stickers": placement},
                overwrite=True,
                reply={
                    "stickers": placement,
                    "placed": placed,
                    "left": int(gate.get("stickers", 0)) - placed,
                },
            )
        if "answer" in payload:
            if phase not in (RESULT, SUMMARY):
                raise ActivityError("not_open")
            if player not in (gate.get("minority") or ()):
                raise ActivityError("not_minority")
            text = payload["answer"]
            if not isinstance(text, str):
                raise ActivityError("invalid_answer")
            text = text.strip()
            if not text or len(text) > MAX_ANSWER:
                raise ActivityError("invalid_answer")
            return InputRecord(
                table=MINORITY, value={"answer": text}, overwrite=True, reply={"answer": text}
            )
        raise ActivityError("bad_frame")

    def closed_error(self, gate: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
        return "voting_closed" if "stickers" in payload else "not_open"

    def input_table(self, state: DotvoteState) -> str:
        if state.phase == CARDS:
            return PROPOSALS
        return STICKERS if state.phase == VOTING else MINORITY

    def decode_input(self, raw: Mapping[str, Any]) -> Any:
        """The stored record without its nonce: `{proposals, at}`, `{stickers}` or `{answer}`."""
        return {k: v for k, v in raw.items() if k != "n"}

    def complete(self, state: DotvoteState, content: Mapping[str, Any], facts: Facts) -> bool:
        if state.phase != VOTING or not facts.expected:
            return False
        full = self._full(state)
        return all(sum(placement_of(facts.inputs.get(p)).values()) >= full for p in facts.expected)

    # ---- derived -------------------------------------------------------------------------------
    def _full(self, state: DotvoteState) -> int:
        """How many stickers a player can place at most (the cap may allow fewer)."""
        if state.cap:
            return min(state.stickers, state.cap * len(state.cards))
        return state.stickers if state.cards else 0

    def _outcome(self, state: DotvoteState, cache: dict[str, Any]) -> Outcome:
        """The result (ranking, cut, minority) of the final placements, memoised per state."""
        key = (state.seq, state.phase, len(state.votes), state.cut)
        hit = cache.get("dotvote_outcome")
        if hit is not None and hit[0] == key:
            result: Outcome = hit[1]
            return result
        result = outcome(state.cards, state.votes, state.cut)
        cache["dotvote_outcome"] = (key, result)
        return result

    def _live(
        self, state: DotvoteState, facts: Facts
    ) -> tuple[dict[str, int], int, int, int, int]:
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
        full = self._full(state)
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
            if count >= full and player in people:
                done += 1
        return shown, placed, done, voters, len(people)

    # ---- views -----------------------------------------------------------------------------
    def shared_view(
        self,
        role: str,
        state: DotvoteState,
        content: Mapping[str, Any],
        facts: Facts,
        now: float,
    ) -> dict[str, Any]:
        view: dict[str, Any] = {
            "phase": state.phase,
            "title": self.title(content),
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
                pending = self._pending(state, facts.inputs, facts.names)
                view["proposed"] = len(pending)
                if role == "host":
                    view["proposals"] = pending[:MAX_LISTED]
                    view["more_proposals"] = max(0, len(pending) - MAX_LISTED)
        elif state.phase == VOTING:
            if role != "phone":
                totals, placed, done, voters, of = self._live(state, facts)
                view.update({"done": done, "voters": voters, "of": of, "placed": placed})
                if role == "host" or state.show_totals:
                    view["totals"] = totals
        else:
            view.update(self._result_view(role, state, facts))
        return view

    def _result_view(self, role: str, state: DotvoteState, facts: Facts) -> dict[str, Any]:
        result = self._outcome(state, facts.cache)
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
            if role == "host" or state.show_answers:
                view["answers"] = answers[:MAX_LISTED]
                view["more_answers"] = max(0, len(answers) - MAX_LISTED)
            if role == "host":
                view["show_answers"] = state.show_answers
        return view

    def personal_view(
        self, state: DotvoteState, content: Mapping[str, Any], facts: Facts, player: str
    ) -> dict[str, Any] | None:
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
            "left": max(0, state.stickers - placed),
            "budget": state.stickers,
            "cap": state.cap,
        }
        if state.phase in (RESULT, SUMMARY):
            below = self._outcome(state, facts.cache).minority.get(player)
            me["minority"] = None if not below else {"cards": below, "answer": answer_of(record)}
        return me

    def personal_key(self, state: DotvoteState) -> Hashable:
        return (state.phase, state.seq)

    # ---- results ---------------------------------------------------------------------------
    def export_tables(self, state: DotvoteState) -> list[str]:
        return [STICKERS, MINORITY]

    def _export(
        self,
        state: DotvoteState,
        content: Mapping[str, Any],
        names: Mapping[str, str],
        tables: Mapping[str, Mapping[str, Any]],
        lang: str,
    ) -> dict[str, Any]:
        if state.phase in (CARDS, VOTING):
            votes = {
                p: placement_of(r)
                for p, r in tables.get(STICKERS, {}).items()
                if p not in state.removed
            }
            cut = None
        else:
            votes, cut = state.votes, state.cut
        answers = {
            p: text
            for p, text in ((p, answer_of(r)) for p, r in tables.get(MINORITY, {}).items())
            if text is not None and p not in state.removed
        }
        return export_data(
            title=self.title(content),
            lang=lang,
            phase=state.phase,
            stickers=state.stickers,
            cap=state.cap,
            domains=state.domains,
            cards=state.cards,
            votes=votes,
            cut=cut,
            owners=state.owners,
            answers=answers,
            names=names,
            show_names=state.show_names,
        )

    def export(
        self,
        state: DotvoteState,
        content: Mapping[str, Any],
        names: Mapping[str, str],
        tables: Mapping[str, Mapping[str, Any]],
        lang: str,
    ) -> dict[str, Any]:
        return self._export(state, content, names, tables, lang)

    def export_csv(
        self, data: Mapping[str, Any], dialect: str = "rfc4180", lang: str = "nl"
    ) -> str:
        return results_csv(data, dialect)

    def export_markdown(self, data: Mapping[str, Any], lang: str = "nl") -> str:
        return results_markdown(data)

    def parse_upload(self, state: DotvoteState, raw: bytes, media: str) -> dict[str, Any]:
        return {"cards": parse_cards_file(raw, media, state.domains)}

    def upload_reply(self, state: DotvoteState, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"imported": len(args.get("cards") or ()), "cards": len(state.cards)}

    def update_history(
        self, record: Mapping[str, Any], change: Mapping[str, Any]
    ) -> dict[str, Any]:
        return mark_taken_up(record, change)


DOTVOTE = Dotvote()
