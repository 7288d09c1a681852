"""The one interface every werkvorm implements, and the registry that maps kinds to them.

A werkvorm (activity) is a pure state machine, like the websockets tutorial's connect4.py: it gets
its state, a command or a player's input and `now`, and returns the new state plus what the hub
must do (a deadline to keep, a gate to open or close). It never touches sockets, Redis, asyncio or
the wall clock, and raises `ActivityError` on an illegal move.

The hub knows rooms, players, versions, deadlines, gated per-player writes and fan-out. It asks
the activity everything else:

- `new_state(content)`           the state a werkvorm starts in (content: a quiz, domains, cards)
- `title(content)`, `names`      the item's own title ("" = none: each page shows the werkvorm's
                                 name in its own language, an export the one of its language)
- `command(state, …, action)`    a host's step; returns `Effects` (deadline, gate, archive)
- `needs_inputs(state, action)`  whether that step must see the final inputs (the hub closes the
                                 gate first, reads the input table, and passes it in)
- `accept(…)`                    check one player's input against the open gate → `InputRecord`
                                 (the per-player record the hub writes: set-once or overwrite)
- `complete(…)`                  "has everyone expected done their part?" → the hub then applies
                                 `complete_action`
- `due(state, now)`              whether the state's deadline has passed (the hub then applies
                                 `deadline_action`)
- `shared_view` / `personal_view`  what each role sees (plain dicts; the hub adds type, role, v)
- `export(…)`                    the results, for the facilitator's download

Inputs live in per-room tables of per-player records, named by the activity (`input_table`), so
2,000 simultaneous inputs never contend on the room document.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

S = TypeVar("S")

ROLES = ("screen", "phone", "host")


class ActivityError(Exception):
    """An illegal move; `code` is the protocol error code sent to the client. `details`: what
    exactly was wrong, for answers that list it (an import's wrong rows: `{row, field, code}`)."""

    def __init__(self, code: str, details: Sequence[Mapping[str, Any]] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.details: list[Mapping[str, Any]] = list(details or ())


@dataclass(frozen=True)
class InputRecord:
    """One player's input as the hub stores it: `value` under the player's id in `table`.

    `overwrite=False` stores it once (a quiz answer: a second one is refused with
    `duplicate_error`); `overwrite=True` replaces the player's earlier record for as long as the
    gate stays the same (a grade that may change until the facilitator locks, stickers that move
    until voting closes). `reply` is the acknowledgement's fields (the hub adds `type: ack`)."""

    table: str
    value: Mapping[str, Any]
    overwrite: bool = False
    reply: Mapping[str, Any] = field(default_factory=dict)
    duplicate_error: str = "already_answered"


@dataclass
class Effects:
    """What the hub does after a command changed the state.

    `gate`: the value inputs are accepted against from now on (a new gate replaces the old one;
    a gate `accept` refuses, like `CLOSE_GATE`, stops inputs), None to leave the gate as it is.
    Records written against an earlier gate stay (an overwrite record may be changed again under
    the new gate). `opens`: the new gate starts a round of inputs the room waits for: the players
    connected now are expected (see `complete`). `archive`: a record to keep for the room's team
    (the bokaal history, the kring's map), with its `collection`. The deadline is not an effect:
    the hub asks `deadline(state)` after every change."""

    gate: Mapping[str, Any] | None = None
    opens: bool = False
    archive: Mapping[str, Any] | None = None
    collection: str = ""
    # The archive replaces what this programme item kept before (a summary edited after it was
    # first kept); False: the first record of an item stays.
    replace: bool = False


CLOSE_GATE: Mapping[str, Any] = {"closed": True}


@dataclass
class Facts:
    """What a view shows besides the activity's state: the room and its people."""

    code: str
    join_url: str
    team: str
    locked: bool
    lang: str
    names: Mapping[str, str]  # player id → name, in join order
    online: Set[str]  # players connected now (and within their reconnect grace)
    inputs: Mapping[str, Any]  # the current input table, decoded (player id → record)
    # While inputs are collected (`collecting`): the players the room waits for (connected,
    # done, or within their reconnect grace); None otherwise.
    expected: Set[str] | None = None
    # What the hub kept of this item's last `Effects.archive` (e.g. the bokaal: team, winner,
    # previous), for the views to show.
    archived: Mapping[str, Any] | None = None
    # Per room and activity, kept by the fan-out between renders: an activity may memoise
    # there what is costly to rebuild (a sorted ranking); it never holds anything not derived
    # from the state.
    cache: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What a command may use besides the state: the time, the players, the final inputs."""

    now: float
    players: Sequence[str]  # player ids in join order
    names: Mapping[str, str] = field(default_factory=dict)
    online: Set[str] = frozenset()  # players connected as the command read the room
    inputs: Mapping[str, Any] = field(default_factory=dict)  # decoded, when `needs_inputs`
    args: Mapping[str, Any] = field(default_factory=dict)  # the control frame's other fields
    cache: dict[str, Any] = field(default_factory=dict)
    team: str = ""


class Activity(ABC, Generic[S]):
    """One werkvorm. Subclasses are stateless: everything lives in the state they are given."""

    kind: ClassVar[str]
    commands: ClassVar[frozenset[str]] = frozenset()  # every host command it knows
    deadline_action: ClassVar[str] = "tick"
    complete_action: ClassVar[str] = ""  # "" = nothing happens when everyone is done
    # True when a player's `personal_view` depends only on the shared state and that player's
    # own input (the quiz): the fan-out then rebuilds `me` only for players whose input is new.
    personal_from_own_input: ClassVar[bool] = False
    # True when the activity places every player (the kring's seats): the hub calls
    # `add_player` for each player who joins while it runs.
    seats_players: ClassVar[bool] = False
    # Renders caused by inputs alone come at most this often (seconds; the server's coalescing
    # interval when shorter): a storm of inputs updates the counters a few times a second.
    # Phase changes are shown at once.
    render_pause_s: ClassVar[float] = 0.0
    # Codes `accept` (or `closed_error`) may raise only because the gate it was given is old (a
    # worker's cached copy after another worker changed it): the hub reads the gate again and
    # tries once more.
    gate_errors: ClassVar[frozenset[str]] = frozenset({"not_open", "too_late"})
    # The team history this activity keeps with `Effects.archive` ("" = none); served at
    # `GET /api/history/<collection>` and changed through `update_history`.
    history_collection: ClassVar[str] = ""
    # The host command a host's file upload becomes (`parse_upload` gives its args); "" = none.
    upload_action: ClassVar[str] = ""
    # The export formats it has besides JSON: "csv" (`export_csv`), "md" (`export_markdown`).
    export_formats: ClassVar[frozenset[str]] = frozenset({"json", "csv"})
    # The werkvorm's name per language, as the catalogue's `kind_<kind>` has it (checked by
    # tests/unit/test_i18n.py): what an item without a title of its own is called. Pages show
    # their own language's name; a document the server makes (an export) that of its language.
    names: ClassVar[Mapping[str, str]] = {}

    # ---- state -----------------------------------------------------------------------------
    @abstractmethod
    def new_state(self, content: Mapping[str, Any]) -> S: ...

    @abstractmethod
    def encode(self, state: S) -> dict[str, Any]:
        """The state as msgpack-able data (stored in the room document)."""

    @abstractmethod
    def decode(self, data: Mapping[str, Any]) -> S: ...

    @abstractmethod
    def copy(self, state: S) -> S:
        """A copy a command may change freely."""

    @abstractmethod
    def phase(self, state: S) -> str: ...

    @abstractmethod
    def finished(self, state: S) -> bool:
        """Whether the werkvorm reached its end (the quiz's podium, the kring's reveal, the
        stickers' summary): a programme item left there is "done", one left earlier is only
        paused."""

    def title(self, content: Mapping[str, Any]) -> str:
        """The title the item was given (a quiz: its file's), shown as given; "" when it has
        none: every page then shows the werkvorm's name in its own language (`kind_<kind>`)."""
        return self.own_title(str(content.get("title", "")))

    def title_in(self, content: Mapping[str, Any], lang: str) -> str:
        """The item's title in a document for people in `lang` (an export): its own, else the
        werkvorm's name in that language."""
        return self.title(content) or self.names.get(lang) or self.names.get("nl", "")

    def own_title(self, title: str) -> str:
        """`title` as a title of the item's own: "" when it only names the werkvorm, in any
        language. Programme items and team records kept by earlier versions wrote the Dutch
        name out; read through this they show each page's name too."""
        return "" if title in self.names.values() else title

    def check_content(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The content a facilitator sent for a new programme item, checked and normalised;
        ActivityError("invalid_content") (or a more precise code) otherwise."""
        return dict(content)

    def begin(self, state: S, content: Mapping[str, Any], ctx: Context) -> Effects:
        """The programme item starts (the host chose it): e.g. open the gate for entries."""
        return Effects()

    # ---- commands ----------------------------------------------------------------------------
    @abstractmethod
    def actions(self, state: S, content: Mapping[str, Any]) -> list[str]:
        """The host commands allowed now (the host view's `can`)."""

    def needs_inputs(self, state: S, action: str) -> bool:
        """True when `action` must see the final inputs: the hub first writes `closed_gate`
        (nothing is accepted from then on), then reads the input table and passes it as
        `ctx.inputs`, so no accepted input can be missed."""
        return False

    def closed_gate(self, state: S) -> Mapping[str, Any]:
        """The gate written before a `needs_inputs` command (one `accept` refuses)."""
        return CLOSE_GATE

    @abstractmethod
    def command(self, state: S, content: Mapping[str, Any], action: str, ctx: Context) -> Effects:
        """Apply a host command (or `deadline_action` / `complete_action`) to `state` in place;
        raise ActivityError("not_allowed") when it does not apply now."""

    def preview(self, state: S) -> S | None:
        """The state the shared views will show once a `needs_inputs` command completes, if
        they depend only on the inputs: a big room can then see them before the command's
        own work (scoring 2,000 players) is done. None: no preview."""
        return None

    def due(self, state: S, now: float) -> bool:
        return False

    def deadline(self, state: S) -> float:
        """When the state wants a tick (0 = none)."""
        return 0.0

    def remove_player(self, state: S, player: str) -> None:
        """A player was removed from the room."""

    def holds(self, state: S, player: str) -> bool:
        """Whether `player` has a part in the state (a score, a seat): such a player's seat is
        never freed by itself when the room is full, only by the facilitator."""
        return False

    def add_player(self, state: S, player: str) -> None:
        """A player joined the room."""

    # ---- inputs ------------------------------------------------------------------------------
    @abstractmethod
    def accept(
        self,
        gate: Mapping[str, Any],
        content: Mapping[str, Any],
        player: str,
        payload: Mapping[str, Any],
        now: float,
    ) -> InputRecord:
        """Check one input against the open `gate` (not the whole state: the hub reads only the
        gate for an input). Raise ActivityError with the protocol error code otherwise."""

    def closed_error(self, gate: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
        """The error for an input that found the gate closed (or another gate)."""
        return "not_open"

    @abstractmethod
    def input_table(self, state: S) -> str:
        """The table of per-player records the views read now ("" = none)."""

    @abstractmethod
    def decode_input(self, raw: Mapping[str, Any]) -> Any: ...

    def collecting(self, state: S) -> bool:
        """Whether the state collects inputs the room waits for (a question is open): the hub
        then keeps `Facts.expected` and, with a `complete_action`, applies it once `complete`."""
        return False

    def complete(self, state: S, content: Mapping[str, Any], facts: Facts) -> bool:
        """Whether everyone the room waits for (`facts.expected`) has done their part."""
        return (
            bool(facts.expected)
            and facts.expected is not None
            and (facts.expected <= facts.inputs.keys())
        )

    # ---- views -------------------------------------------------------------------------------
    @abstractmethod
    def shared_view(
        self, role: str, state: S, content: Mapping[str, Any], facts: Facts, now: float
    ) -> dict[str, Any]:
        """What every client of `role` sees (no personal data, no answer before its reveal)."""

    def personal_view(
        self, state: S, content: Mapping[str, Any], facts: Facts, player: str
    ) -> dict[str, Any] | None:
        """The small per-phone frame (`me`), a new dict on every call (the hub adds its fields
        to it in place); None: this activity has none."""
        return None

    def personal_views(
        self, state: S, content: Mapping[str, Any], facts: Facts, players: Sequence[str]
    ) -> list[dict[str, Any] | None]:
        """`personal_view` of each of `players`, in that order. The fan-out asks for every
        phone of a render at once, so an activity can do once what all frames share (a
        ranking, the room's facts) instead of once per phone."""
        return [self.personal_view(state, content, facts, player) for player in players]

    def personal_key(self, state: S) -> Hashable:
        """While this and a player's own input stay the same, `personal_view` returns the same
        frame for that player: the fan-out then skips every phone whose input did not change."""
        return None

    # ---- results -----------------------------------------------------------------------------
    def export_tables(self, state: S) -> list[str]:
        """Input tables the export reads (besides the state)."""
        return []

    @abstractmethod
    def export(
        self,
        state: S,
        content: Mapping[str, Any],
        names: Mapping[str, str],
        tables: Mapping[str, Mapping[str, Any]],
        lang: str,
    ) -> dict[str, Any]:
        """Everything the facilitator downloads, as JSON-able data."""

    def export_csv(
        self, data: Mapping[str, Any], dialect: str = "rfc4180", lang: str = "nl"
    ) -> str:
        """The export as CSV text."""
        raise ActivityError("not_found")

    def export_markdown(self, data: Mapping[str, Any], lang: str = "nl") -> str:
        """The export as Markdown (a document for people, e.g. the scholingsplan)."""
        raise ActivityError("not_found")

    # ---- files and history ---------------------------------------------------------------------
    def parse_upload(self, state: S, raw: bytes, media: str) -> dict[str, Any]:
        """A host's uploaded file (`media`: its content type) as the args of `upload_action`;
        ActivityError (with `details`, e.g. the wrong rows) when it cannot be used."""
        raise ActivityError("not_found")

    def upload_reply(self, state: S, args: Mapping[str, Any]) -> dict[str, Any]:
        """The answer to an upload applied as `args` (the state after it)."""
        return {}

    def carry_history(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """The record that replaces `old` (`Effects.replace`): `new` with what people changed on
        `old` since it was kept (`update_history`) carried over. Default: `new` as it is."""
        return dict(new)

    def update_history(
        self, record: Mapping[str, Any], change: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A kept record (`history_collection`) with a host's `change` applied (e.g. a theme
        marked as taken up); ActivityError when the change does not apply."""
        raise ActivityError("not_found")

    def kept_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A record of `history_collection` as it is served: its `title` read as `own_title`
        (records of earlier versions have the Dutch name written out)."""
        if "title" not in record:
            return dict(record)
        return {**record, "title": self.own_title(str(record["title"]))}


_REGISTRY: dict[str, Activity[Any]] = {}


def register(activity: Activity[Any]) -> Activity[Any]:
    if activity.kind in _REGISTRY:
        raise ValueError(f"activity kind {activity.kind!r} registered twice")
    _REGISTRY[activity.kind] = activity
    return activity


def get(kind: str) -> Activity[Any]:
    """The activity of `kind`; ActivityError("unknown_activity") when there is none."""
    activity = _REGISTRY.get(kind)  # asked once per input: the registry is imported once
    if activity is None:
        from server.activities import registry  # noqa: F401 - registers the built-in werkvormen

        activity = _REGISTRY.get(kind)
        if activity is None:
            raise ActivityError("unknown_activity")
    return activity


def kinds() -> list[str]:
    from server.activities import registry  # noqa: F401

    return list(_REGISTRY)


def keeper(collection: str) -> Activity[Any] | None:
    """The activity that keeps the team history `collection` (its `history_collection`)."""
    found = (get(kind) for kind in kinds())
    return next((a for a in found if collection and a.history_collection == collection), None)
