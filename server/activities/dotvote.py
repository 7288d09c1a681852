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
from typing import Any, ClassVar

from server.activities import dotvote_views as views
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
    MAX_CARDS,
    Card,
    check_fields,
    check_proposals,
    parse_cards_file,
)
from server.activities.dotvote_results import (
    Cut,
    export_data,
    history_record,
    mark_taken_up,
    results_csv,
    results_markdown,
)
from server.activities.dotvote_state import (
    CARDS,
    COLLECTION,
    MAX_ANSWER,
    MAX_KEYS,
    MAX_MIN,
    MAX_OWNER,
    MINORITY,
    PROPOSALS,
    RESULT,
    STICKERS,
    SUMMARY,
    VOTING,
    DotvoteState,
    answer_of,
    check_int,
    check_placement,
    check_settings,
    copy,
    decode,
    encode,
    full,
    outcome_of,
    pending,
    placeable,
    placement_of,
    switch,
    waiting_by_player,
)


class Dotvote(Activity[DotvoteState]):
    kind: ClassVar[str] = "dotvote"
    complete_action: ClassVar[str] = ""  # "everyone placed their stickers" is shown, not acted on
    personal_from_own_input: ClassVar[bool] = True
    render_pause_s: ClassVar[float] = 0.2  # counters follow sticker moves at most 5 times a second
    history_collection: ClassVar[str] = COLLECTION
    upload_action: ClassVar[str] = "import_cards"
    export_formats: ClassVar[frozenset[str]] = frozenset({"json", "csv", "md"})
    names: ClassVar[Mapping[str, str]] = {
        "nl": "Zes stickers prioriteren",
        "en": "Six stickers: set priorities",
    }
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
        return encode(state)

    def decode(self, data: Mapping[str, Any]) -> DotvoteState:
        return decode(data)

    def copy(self, state: DotvoteState) -> DotvoteState:
        return copy(state)

    def phase(self, state: DotvoteState) -> str:
        return state.phase

    def finished(self, state: DotvoteState) -> bool:
        return state.phase == SUMMARY

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
            gate["minority"] = sorted(outcome_of(state, {}).minority)
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
        # open_voting reads the proposals still waiting: their phones are told they were not added.
        return (action, state.phase) in (
            ("close_voting", VOTING),
            ("accept_proposals", CARDS),
            ("open_voting", CARDS),
        )

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
        if after != before or action in ("close_voting", "accept_proposals", "open_voting"):
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
            state.proposals_open = switch(args, "open")
        elif action == "settings":
            state.stickers, state.cap = check_settings(
                args.get("stickers", state.stickers), args.get("cap", state.cap)
            )
        elif action == "open_voting":
            if not state.cards:
                raise ActivityError("no_cards")
            state.dropped = waiting_by_player(state, ctx.inputs, ctx.names)
            state.phase = VOTING
            state.gen += 1
            return Effects(opens=True)
        elif action == "show_totals":
            state.show_totals = switch(args)
        elif action == "show_names":
            state.show_names = switch(args)
        elif action == "show_answers":
            state.show_answers = switch(args)
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
            state.team, state.summarised = ctx.team, ctx.now
            return self._archive(state, content, ctx)
        elif action == "owner":
            card = state.card(args.get("card_id"))
            if card.id not in outcome_of(state, {}).prioritised:
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
        waiting = pending(state, ctx.inputs, ctx.names)
        if keys == "all":
            chosen = waiting
        else:
            by_key = {p["key"]: p for p in waiting}
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
        state.closed_last = max(ctx.players, default="")
        state.phase = RESULT
        state.gen += 1

    def _check_cut(self, args: Mapping[str, Any]) -> Cut:
        given = [k for k in ("top", "min") if k in args]
        if len(given) != 1:
            raise ActivityError("invalid_cut")
        mode = given[0]
        high = MAX_CARDS if mode == "top" else MAX_MIN
        return Cut(mode, check_int(args.get(mode), 1, high, "invalid_cut"))

    def _archive(self, state: DotvoteState, content: Mapping[str, Any], ctx: Context) -> Effects:
        data = self._export(state, content, ctx.names, {}, "nl")
        record = history_record(data, ctx.now, ctx.team, self.title(content))
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
                    "left": placeable(
                        int(gate.get("stickers", 0)),
                        int(gate.get("cap", 0)),
                        len(gate.get("cards") or ()),
                    )
                    - placed,
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
        most = full(state)
        return all(sum(placement_of(facts.inputs.get(p)).values()) >= most for p in facts.expected)

    # ---- views -----------------------------------------------------------------------------
    def shared_view(
        self,
        role: str,
        state: DotvoteState,
        content: Mapping[str, Any],
        facts: Facts,
        now: float,
    ) -> dict[str, Any]:
        return views.shared_view(role, state, self.title(content), facts)

    def personal_view(
        self, state: DotvoteState, content: Mapping[str, Any], facts: Facts, player: str
    ) -> dict[str, Any] | None:
        return views.personal_view(state, facts, player)

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
            title=self.title_in(content, lang),
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
            team=state.team,
            date=state.summarised or None,
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

    def carry_history(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """A summary kept again (after `back`) keeps the themes' taken-up marks."""
        marks = {t.get("card_id"): t for t in old.get("themes", []) if "taken_up" in t}
        themes = []
        for theme in new.get("themes", []):
            mark = marks.get(theme.get("card_id"))
            if mark is not None:
                theme = {
                    **theme,
                    "taken_up": mark["taken_up"],
                    "taken_up_note": mark.get("taken_up_note", ""),
                }
            themes.append(theme)
        return {**new, "themes": themes}

    def update_history(
        self, record: Mapping[str, Any], change: Mapping[str, Any]
    ) -> dict[str, Any]:
        return mark_taken_up(record, change)


DOTVOTE = Dotvote()
