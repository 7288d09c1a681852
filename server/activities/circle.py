"""Binnen- en buitenkring: everyone grades their own knowledge of one domain, tells it to the
colleague opposite, the outer circle turns, and the team sees its knowledge map per domain (pure).

Phases and host commands (`actions`):

- "entry":  phones choose a domain and a grade 1–10 (with an optional reason), changeable until
            `lock`. `domains` edits the list; `privacy` may be set in any phase.
- "rounds": `lock` closed the gate and took a snapshot of the entries, and (the first time) formed
            the circles; every phone sees its circle, place and partner(s) with their entry and
            the two prompts. `rotate` {"places": 1|2} turns the outer circle; `unlock` goes back
            to "entry" with the circles (and who met whom) kept, so a second `lock` goes on
            where the rounds stopped; `reveal` shows the map.
- "reveal": per domain count, average, distribution over 1–10 and the names of those who gave
            7, 8 or 9 (hidden with `privacy` {"hide_names": true}); the full team overview
            (everyone's grade, also the low ones) only after `privacy` {"overview": true}.
            Hiding or showing the names after the reveal rewrites the team's kept map.

Decisions:
- An entry whose domain was edited away stays in the input table and in the snapshot, but is
  *stale*: the phone shows it as "kies opnieuw", it does not count as entered nor as locked
  (`locked_entries`), and it is left out of the per-domain figures (the export still lists it,
  with valid = false).
- `complete` is only information ("everyone expected has a valid entry"); `complete_action` is
  "", so nothing happens by itself: the facilitator locks.
- The circles are formed at the first `lock` from the room's players in join order (first half
  inside); later joiners and leavers are slotted in and out by `add_player`/`remove_player`
  (see circle_seats.py), and every `lock` reconciles the seats with `ctx.players`.
- `remove_player` drops the player's seat and their entry from the snapshot (a removed player is
  no longer part of the team's map); the facilitator's export is built from the same snapshot.
- A join or a leave (and the reconciling at a later `lock`) may move people: to another place,
  another partner, even the other circle. That is no turn: the view's `reseated` says the circles
  were rearranged since the last rotation, and each phone whose seat changed (its place, circle
  or partners) gets `reseated` in its `me`, until the next rotation.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from server.activities.base import (
    CLOSE_GATE,
    Activity,
    ActivityError,
    Context,
    Effects,
    Facts,
    InputRecord,
)
from server.activities.circle_results import (
    GRADES,
    Entry,
    domain_figures,
    export_data,
    results_csv,
)
from server.activities.circle_seats import Seats, changed_groups

ENTRY = "entry"
ROUNDS = "rounds"
REVEAL = "reveal"

TABLE = "kring:entries"
COLLECTION = "kring"

DEFAULT_DOMAINS = (
    "lichamelijke gezondheid",
    "dagelijks functioneren",
    "inkomen",
    "participatie",
    "opvoeden en opgroeien",
    "veiligheid",
    "psychische gezondheid",
    "generieke competenties",
)
MAX_DOMAINS = 12
MAX_DOMAIN_CHARS = 60
MAX_REASON_CHARS = 280
PROMPTS = ("kring_prompt_lower", "kring_prompt_higher")  # i18n keys
# Lists of names in a view stop here (with a count of the rest): a view stays small in a room of
# 2,000. The export has everyone.
MAX_LISTED = 60


@dataclass
class CircleState:
    phase: str = ENTRY
    domains: list[str] = field(default_factory=lambda: list(DEFAULT_DOMAINS))
    gate: int = 0  # counts the gates opened, so each entry gate differs from the one before
    formed: bool = False  # the circles exist (from the first lock on)
    seats: Seats = field(default_factory=Seats)
    entries: dict[str, Entry] = field(default_factory=dict)  # the snapshot taken at lock
    round: int = 0  # 1 at the first lock, +1 per rotation
    shift: int = 0  # the last rotation's shift (0: none yet or none possible)
    requested: int = 0  # what the facilitator asked for
    hide_names: bool = False
    show_overview: bool = False  # the full team overview (everyone's grade): the host's opt-in
    seq: int = 0  # +1 on every change that a personal view may show
    # Since the last rotation (or the circles' forming): a join or a leave changed the groups
    # (`reseated`), and whose seat it changed (`moved`: place, circle or partners).
    reseated: bool = False
    moved: set[str] = field(default_factory=set)


# ---- checks ------------------------------------------------------------------------------------


def check_domains(raw: Any) -> list[str]:
    """1–12 unique (ignoring case) non-empty texts of at most 60 characters, trimmed."""
    if not isinstance(raw, list | tuple) or not 1 <= len(raw) <= MAX_DOMAINS:
        raise ActivityError("invalid_domains")
    out: list[str] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, str):
            raise ActivityError("invalid_domains")
        text = item.strip()
        if not text or len(text) > MAX_DOMAIN_CHARS or text.casefold() in seen:
            raise ActivityError("invalid_domains")
        seen.add(text.casefold())
        out.append(text)
    return out


def check_entry(payload: Mapping[str, Any], domains: Sequence[str]) -> Entry:
    grade = payload.get("grade")
    if isinstance(grade, bool) or not isinstance(grade, int) or grade not in GRADES:
        raise ActivityError("invalid_grade")
    domain = payload.get("domain")
    if not isinstance(domain, str) or domain not in domains:
        raise ActivityError("invalid_domain")
    reason = payload.get("reason", "")
    if reason is None:
        reason = ""
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise ActivityError("invalid_reason")
    return Entry(domain, grade, reason.strip())


def as_entry(value: Any) -> Entry | None:
    """An entry from a decoded input, a stored record or an Entry; None when it is not one."""
    if isinstance(value, Entry):
        return value
    if isinstance(value, Mapping):
        domain, grade, reason = value.get("domain"), value.get("grade"), value.get("reason", "")
        if (
            isinstance(domain, str)
            and isinstance(grade, int)
            and not isinstance(grade, bool)
            and grade in GRADES
        ):
            return Entry(domain, grade, reason if isinstance(reason, str) else "")
    return None


def _capped(items: list[Any]) -> tuple[list[Any], int]:
    return items[:MAX_LISTED], max(0, len(items) - MAX_LISTED)


# ---- the activity ------------------------------------------------------------------------------


class Circle(Activity[CircleState]):
    kind: ClassVar[str] = "circle"
    complete_action: ClassVar[str] = ""  # "everyone entered" is shown, never acted on
    seats_players: ClassVar[bool] = True
    history_collection: ClassVar[str] = COLLECTION
    names: ClassVar[Mapping[str, str]] = {
        "nl": "Binnen- en buitenkring",
        "en": "Inner and outer circle",
    }
    commands: ClassVar[frozenset[str]] = frozenset(
        {"start", "domains", "lock_grades", "unlock_grades", "rotate", "reveal", "privacy"}
    )

    # ---- state -----------------------------------------------------------------------------
    def check_content(self, content: Mapping[str, Any]) -> dict[str, Any]:
        title = content.get("title", "")
        if not isinstance(title, str) or len(title) > 120:
            raise ActivityError("invalid_content")
        raw = content.get("domains")
        domains = list(DEFAULT_DOMAINS) if raw is None else check_domains(raw)
        return {"title": title.strip(), "domains": domains}

    def new_state(self, content: Mapping[str, Any]) -> CircleState:
        raw = content.get("domains")
        domains = list(DEFAULT_DOMAINS) if raw is None else check_domains(raw)
        return CircleState(domains=domains)

    def encode(self, state: CircleState) -> dict[str, Any]:
        s = state.seats
        return {
            "phase": state.phase,
            "domains": list(state.domains),
            "gate": state.gate,
            "formed": state.formed,
            "inner": list(s.inner),
            "outer": list(s.outer),
            "trio_at": s.trio_at,
            "turned": s.turned,
            "met": [list(pair) for pair in sorted(s.met)],
            "entries": {p: [e.domain, e.grade, e.reason] for p, e in state.entries.items()},
            "round": state.round,
            "shift": state.shift,
            "requested": state.requested,
            "hide_names": state.hide_names,
            "show_overview": state.show_overview,
            "seq": state.seq,
            "reseated": state.reseated,
            "moved": sorted(state.moved),
        }

    def decode(self, data: Mapping[str, Any]) -> CircleState:
        seats = Seats(
            inner=list(data["inner"]),
            outer=list(data["outer"]),
            trio_at=int(data["trio_at"]),
            met={(a, b) for a, b in data["met"]},
            turned=int(data.get("turned", 0)),
        )
        return CircleState(
            phase=data["phase"],
            domains=list(data["domains"]),
            gate=int(data["gate"]),
            formed=bool(data["formed"]),
            seats=seats,
            entries={p: Entry(d, int(g), r) for p, (d, g, r) in data["entries"].items()},
            round=int(data["round"]),
            shift=int(data["shift"]),
            requested=int(data["requested"]),
            hide_names=bool(data["hide_names"]),
            show_overview=bool(data.get("show_overview", False)),
            seq=int(data["seq"]),
            reseated=bool(data.get("reseated", False)),
            moved=set(data.get("moved", ())),
        )

    def copy(self, state: CircleState) -> CircleState:
        s = state.seats
        return CircleState(
            phase=state.phase,
            domains=list(state.domains),
            gate=state.gate,
            formed=state.formed,
            seats=Seats(list(s.inner), list(s.outer), s.trio_at, set(s.met), s.turned),
            entries=dict(state.entries),  # entries are frozen: sharing them is safe
            round=state.round,
            shift=state.shift,
            requested=state.requested,
            hide_names=state.hide_names,
            show_overview=state.show_overview,
            seq=state.seq,
            reseated=state.reseated,
            moved=set(state.moved),
        )

    def phase(self, state: CircleState) -> str:
        return state.phase

    def finished(self, state: CircleState) -> bool:
        return state.phase == REVEAL

    # ---- commands --------------------------------------------------------------------------
    def actions(self, state: CircleState, content: Mapping[str, Any]) -> list[str]:
        if state.phase == ENTRY:
            # "start" opens entry once: base.py has no hook that lets a werkvorm open its gate
            # when it begins, so the host (or the hub, on the host's behalf) starts it.
            return [*(["start"] if state.gate == 0 else []), "lock_grades", "domains", "privacy"]
        if state.phase == ROUNDS:
            return ["rotate", "reveal", "unlock_grades", "privacy"]
        return ["privacy"]

    def begin(self, state: CircleState, content: Mapping[str, Any], ctx: Context) -> Effects:
        """The kring starts: phones may enter their domain and grade."""
        if state.gate == 0:
            effects = self.open_gate(state)
            state.seq += 1
            return effects
        return Effects()

    def collecting(self, state: CircleState) -> bool:
        return state.phase == ENTRY and state.gate > 0

    def needs_inputs(self, state: CircleState, action: str) -> bool:
        return action == "lock_grades" and state.phase == ENTRY

    def gate_of(self, state: CircleState) -> dict[str, Any]:
        """What phones' entries are checked against while entry is open."""
        return {"activity": self.kind, "kring": state.gate, "domains": list(state.domains)}

    def open_gate(self, state: CircleState) -> Effects:
        """Open (or re-open) entry: a new gate, so nothing sent against an older one counts."""
        state.gate += 1
        return Effects(gate=self.gate_of(state))

    def command(
        self, state: CircleState, content: Mapping[str, Any], action: str, ctx: Context
    ) -> Effects:
        if action not in self.actions(state, content):
            raise ActivityError("not_allowed")
        effects = self._apply(state, content, action, ctx)  # checks its args before changing
        state.seq += 1
        return effects

    def _apply(
        self, state: CircleState, content: Mapping[str, Any], action: str, ctx: Context
    ) -> Effects:
        if action == "privacy":
            return self._privacy(state, content, ctx)
        if action == "start":
            return self.open_gate(state)
        if action == "domains":
            state.domains = check_domains(ctx.args.get("domains"))
            # The open gate carries the list: re-open it with the new one (not before start).
            return self.open_gate(state) if state.gate else Effects()
        if action == "lock_grades":
            return self._lock(state, ctx)
        if action == "unlock_grades":
            state.phase = ENTRY
            return self.open_gate(state)
        if action == "rotate":
            places = ctx.args.get("places")
            if isinstance(places, bool) or places not in (1, 2):
                raise ActivityError("invalid_places")
            state.requested = places
            state.shift = state.seats.rotate(places)
            state.round += 1
            state.reseated = False  # everyone is told where the turn put them
            state.moved.clear()
            return Effects()
        # reveal
        state.phase = REVEAL
        return Effects(archive=self._archive(state, content, ctx), collection=COLLECTION)

    def _privacy(self, state: CircleState, content: Mapping[str, Any], ctx: Context) -> Effects:
        """`hide_names` and/or `overview` (booleans, at least one). Names hidden or shown again
        after the reveal rewrite the team's kept map, so the history follows the projector."""
        hide, overview = ctx.args.get("hide_names"), ctx.args.get("overview")
        if hide is None and overview is None:
            raise ActivityError("invalid_privacy")
        for value in (hide, overview):
            if value is not None and not isinstance(value, bool):
                raise ActivityError("invalid_privacy")
        if overview is not None:
            state.show_overview = overview
        if hide is None or hide == state.hide_names:
            return Effects()
        state.hide_names = hide
        if state.phase != REVEAL:
            return Effects()
        return Effects(
            archive=self._archive(state, content, ctx), collection=COLLECTION, replace=True
        )

    def carry_history(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """A map kept again (the names hidden or shown after the reveal) keeps its date."""
        return {**new, "date": old.get("date", new.get("date"))}

    def _lock(self, state: CircleState, ctx: Context) -> Effects:
        players = list(ctx.players)
        present = set(players)
        entries: dict[str, Entry] = {}
        for player, value in ctx.inputs.items():
            entry = as_entry(value)
            if entry is not None and (player in present or not players):
                entries[player] = entry
        state.entries = entries
        if not state.formed:
            state.seats = Seats.form(players)
            state.formed = True
            state.reseated = False
            state.moved.clear()
        else:
            seats = state.seats
            seated = set(seats.people())

            def reconcile() -> None:
                for player in [p for p in seats.people() if p not in present]:
                    seats.remove(player)
                for player in players:
                    if player not in seated:
                        seats.add(player)

            self._reseat(state, reconcile, joined=present - seated)
            state.moved &= present  # who left is no longer moved
        state.round = max(state.round, 1)
        state.phase = ROUNDS
        return Effects(gate=CLOSE_GATE)

    def _archive(
        self, state: CircleState, content: Mapping[str, Any], ctx: Context
    ) -> dict[str, Any]:
        """The team's map as kept per team (like the bokaal history): date = ctx.now (unix
        time), per domain count, sum and the average as the projector shows it (one decimal;
        sum / count is the exact one) and the names with 7–9 (none under privacy)."""
        figures = domain_figures(state.domains, state.entries, ctx.names)
        return {
            "date": ctx.now,
            "title": self.title(content),
            "team": ctx.team,
            "people": sum(f["count"] for f in figures),
            "hide_names": state.hide_names,
            "domains": [
                {
                    "domain": f["domain"],
                    "count": f["count"],
                    "sum": f["sum"],
                    "average": f["shown"],
                    "names": []
                    if state.hide_names
                    else [n for group in f["named"] for n in group["names"]],
                }
                for f in figures
            ],
        }

    def _reseat(
        self, state: CircleState, change: Callable[[], None], joined: Collection[str] = ()
    ) -> None:
        """Apply a join or leave (`change`) to the seats and note whose seat it changed: the
        people of every group that is not the group at its place before (`changed_groups`);
        `joined`: the newcomers, who were not moved."""
        seats = state.seats
        before = seats.arrangement()
        size = len(seats)
        change()
        changed = False
        for group in changed_groups(before, seats):
            changed = True
            state.moved.update(p for p in group if p not in joined)
        if changed or len(seats) != size:
            state.reseated = True

    def remove_player(self, state: CircleState, player: str) -> None:
        self._reseat(state, lambda: state.seats.remove(player))
        state.moved.discard(player)
        state.entries.pop(player, None)
        state.seq += 1

    def holds(self, state: CircleState, player: str) -> bool:
        return player in state.entries or player in state.seats.people()

    def add_player(self, state: CircleState, player: str) -> None:
        if state.formed and player not in state.seats:
            self._reseat(state, lambda: state.seats.add(player), joined=(player,))
            state.seq += 1

    # ---- inputs ----------------------------------------------------------------------------
    def accept(
        self,
        gate: Mapping[str, Any],
        content: Mapping[str, Any],
        player: str,
        payload: Mapping[str, Any],
        now: float,
    ) -> InputRecord:
        if gate.get("activity") != self.kind or gate.get("closed"):
            raise ActivityError("not_open")
        entry = check_entry(payload, gate.get("domains") or ())
        return InputRecord(
            table=TABLE,
            value=entry.as_dict(),
            overwrite=True,
            reply={"domain": entry.domain, "grade": entry.grade},
        )

    def input_table(self, state: CircleState) -> str:
        return TABLE if state.phase == ENTRY else ""

    def decode_input(self, raw: Mapping[str, Any]) -> Any:
        """The stored record as a plain dict (None when it is not an entry)."""
        entry = as_entry(raw)
        return None if entry is None else entry.as_dict()

    def complete(self, state: CircleState, content: Mapping[str, Any], facts: Facts) -> bool:
        if state.phase != ENTRY or not facts.expected:
            return False
        domains = set(state.domains)
        for player in facts.expected:
            entry = as_entry(facts.inputs.get(player))
            if entry is None or entry.domain not in domains:
                return False
        return True

    # ---- views -----------------------------------------------------------------------------
    def _per_domain(self, state: CircleState, facts: Facts) -> tuple[list[int], int]:
        """The valid entries per domain (in the list's order) of the people asked, and how
        many people that is: the facilitator's page warns before a new list drops grades."""
        index = {domain: i for i, domain in enumerate(state.domains)}
        counts = [0] * len(state.domains)
        people = facts.expected or facts.names.keys()
        for player in people:
            entry = as_entry(facts.inputs.get(player))
            if entry is not None and entry.domain in index:
                counts[index[entry.domain]] += 1
        return counts, len(people)

    def _waiting(self, state: CircleState, facts: Facts) -> dict[str, Any]:
        """For the facilitator while entry is open: who has no (valid) grade yet, whom to nudge
        before the lock; the connected first, then by name. Never anyone's grade."""
        domains = set(state.domains)
        rows = []
        for player, name in facts.names.items():
            entry = as_entry(facts.inputs.get(player))
            if entry is None or entry.domain not in domains:
                online = player in facts.online
                rows.append((not online, name.casefold(), {"name": name, "online": online}))
        rows.sort(key=lambda r: r[:2])
        listed, more = _capped([r[2] for r in rows])
        return {"waiting": listed, "more_waiting": more}

    def _valid(self, state: CircleState) -> int:
        """Entries in the snapshot whose domain is still listed (a stale one is no grade)."""
        domains = set(state.domains)
        return sum(1 for e in state.entries.values() if e.domain in domains)

    def _pairs(
        self, state: CircleState, names: Mapping[str, str], ids: bool = False
    ) -> dict[str, Any]:
        """The groups by place; with `ids` (the host's view) also the players' ids, so the host
        page can mark who is offline from the room's `players` list."""
        groups, more = _capped(state.seats.groups())
        listed: list[dict[str, Any]] = []
        for i, group in enumerate(groups):
            item: dict[str, Any] = {"place": i + 1, "names": [names.get(p, "?") for p in group]}
            if ids:
                item["ids"] = list(group)
            listed.append(item)
        return {"pairs": listed, "more_pairs": more}

    def _rounds_common(self, state: CircleState) -> dict[str, Any]:
        seats = state.seats
        return {
            "round": state.round,
            "shift": state.shift,
            "requested": state.requested,
            "inner": len(seats.inner),
            "outer": len(seats.outer),
            "trio": seats.trio_at + 1 if seats.gap is not None and seats.trio_at >= 0 else 0,
            "alone": len(seats) == 1,
            "can_change": len(seats) == 4 or len(seats) >= 6,
            "prompt": list(PROMPTS),
            "reseated": state.reseated,
        }

    def _reveal(self, state: CircleState, facts: Facts, names: bool) -> dict[str, Any]:
        figures = domain_figures(state.domains, state.entries, facts.names)
        shown_names = names and not state.hide_names
        domains = []
        for f in figures:
            item = {
                "domain": f["domain"],
                "count": f["count"],
                "average": f["shown"],
                "distribution": f["distribution"],
            }
            if shown_names:
                item["named"] = [
                    {"grade": g["grade"], "names": g["names"][:MAX_LISTED]} for g in f["named"]
                ]
            domains.append(item)
        listed_domains = set(state.domains)
        stale = sum(1 for e in state.entries.values() if e.domain not in listed_domains)
        view: dict[str, Any] = {
            "domains": domains,
            "hide_names": state.hide_names,
            "stale": stale,
        }
        view["show_overview"] = state.show_overview
        if shown_names and state.show_overview:
            order = {d: i for i, d in enumerate(state.domains)}
            rows = sorted(
                (
                    (order[e.domain], -e.grade, facts.names.get(p, "?"))
                    for p, e in state.entries.items()
                    if e.domain in order
                ),
            )
            listed, more = _capped(rows)
            view["overview"] = [
                {"domain": state.domains[d], "grade": -g, "name": n} for d, g, n in listed
            ]
            view["more_overview"] = more
        return view

    def shared_view(
        self,
        role: str,
        state: CircleState,
        content: Mapping[str, Any],
        facts: Facts,
        now: float,
    ) -> dict[str, Any]:
        view: dict[str, Any] = {"phase": state.phase, "title": self.title(content)}
        if state.phase == ENTRY:
            view["domains"] = list(state.domains)
            if role != "phone":
                counts, view["of"] = self._per_domain(state, facts)
                view["entered"] = sum(counts)
                if role == "host":
                    view["entered_domains"] = counts
        elif state.phase == ROUNDS:
            view.update(self._rounds_common(state))
            if role != "phone":
                view.update(self._pairs(state, facts.names, ids=role == "host"))
        else:
            view.update(self._reveal(state, facts, names=role != "phone"))
        if role == "host":
            # `can` (these actions and the room's) comes with the hub's part of the view.
            view["hide_names"] = state.hide_names
            if state.phase == ENTRY:
                view["domains_editable"] = True
                view.update(self._waiting(state, facts))
            else:
                view["locked_entries"] = self._valid(state)
        return view

    def personal_view(
        self, state: CircleState, content: Mapping[str, Any], facts: Facts, player: str
    ) -> dict[str, Any] | None:
        domains = set(state.domains)

        def shown(entry: Entry | None) -> dict[str, Any] | None:
            if entry is None:
                return None
            return {**entry.as_dict(), "stale": entry.domain not in domains}

        if state.phase == ENTRY:
            return {"entry": shown(as_entry(facts.inputs.get(player)))}
        me: dict[str, Any] = {"entry": shown(state.entries.get(player))}
        if state.phase == REVEAL:
            return me
        seats = state.seats
        where = self._seat_index(state, facts).get(player)
        if where is None:
            me["seated"] = False
            return me
        group = seats.group_of(player, where)
        alone = len(group) == 1
        me.update(
            {
                "seated": True,
                "circle": where[0],
                "place": 0 if alone else where[1] + 1,  # 0 when alone
                # on the gap seat: joins the pair at `place` (never when alone: no pair to join)
                "extra": player == seats.gap and not alone,
                "alone": alone,
                "trio": len(group) == 3,
                "reseated": player in state.moved,
                "partners": [
                    {
                        "name": facts.names.get(p, "?"),
                        "circle": "inner" if p in seats.inner else "outer",
                        "entry": shown(state.entries.get(p)),
                    }
                    for p in group
                    if p != player
                ],
                "prompt": list(PROMPTS),
            }
        )
        return me

    def _seat_index(self, state: CircleState, facts: Facts) -> dict[str, tuple[str, int]]:
        """Everyone's seat, built once per arrangement and kept in the fan-out's cache: a
        rotation in a room of 2,000 renders 2,000 personal frames, each one lookup."""
        key = (state.seq, state.round, len(state.seats))
        cached = facts.cache.get("circle_seats")
        if cached is not None and cached[0] == key:
            index: dict[str, tuple[str, int]] = cached[1]
            return index
        index = state.seats.index()
        facts.cache["circle_seats"] = (key, index)
        return index

    def personal_key(self, state: CircleState) -> Hashable:
        return (state.phase, state.seq)

    # ---- results ---------------------------------------------------------------------------
    def export_tables(self, state: CircleState) -> list[str]:
        return [TABLE]

    def export(
        self,
        state: CircleState,
        content: Mapping[str, Any],
        names: Mapping[str, str],
        tables: Mapping[str, Mapping[str, Any]],
        lang: str,
    ) -> dict[str, Any]:
        """Everyone's entry and the figures per domain (exact averages). While entry is open the
        input table is read (the snapshot is from an earlier lock); after that, the snapshot."""
        if state.phase == ENTRY:
            entries = {
                p: e
                for p, e in ((p, as_entry(v)) for p, v in tables.get(TABLE, {}).items())
                if e is not None
            }
        else:
            entries = dict(state.entries)
        title = self.title_in(content, lang)
        return export_data(title, lang, state.phase, state.domains, entries, names)

    def export_csv(
        self, data: Mapping[str, Any], dialect: str = "rfc4180", lang: str = "nl"
    ) -> str:
        return results_csv(data, dialect)


CIRCLE = Circle()
