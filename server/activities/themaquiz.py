"""The Themaquiz behind the activity interface: quiz.py's rules, quiz_views.py's views and
quiz_export.py's export, as one werkvorm the hub runs like any other."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar

from server.activities import quiz as q
from server.activities import quiz_export, quiz_views
from server.activities.base import (
    Activity,
    ActivityError,
    Context,
    Effects,
    Facts,
    InputRecord,
)

ROOM_ACTIONS = frozenset({"lock", "unlock", "kick", "unkick"})  # the hub's, not the quiz's
RANKED = "ranked"  # Facts.cache / Context.cache: (standings, ranking, ranks)
ROOM_FACTS = "room_facts"  # Facts.cache: (the Facts of this render, scored, RoomFacts)


def answers_table(round_no: int, index: int) -> str:
    return f"answers:{round_no}:{index}"


def open_gate(state: q.QuizState) -> dict[str, Any]:
    """While a question takes answers, answers are checked against this (not the whole state)."""
    return {
        "round": state.round,
        "index": state.index,
        "opened_at": state.opened_at,
        "deadline": state.deadline,
    }


def ranked(
    state: q.QuizState, cache: dict[str, Any]
) -> tuple[list[tuple[str, q.Score]], dict[str, int]]:
    """The ranking and each player's place, sorted once per change of the scores: the stored
    standings are rebuilt exactly when the scores change, so the same standings object (kept by
    transitions that do not score) means the same ranking."""
    standings = state.standings()
    hit = cache.get(RANKED)
    if hit is None or hit[0] is not standings:
        ranking = q.ranking(state)
        hit = (standings, ranking, q.ranks_of(ranking))
        cache[RANKED] = hit
    return hit[1], hit[2]


def known_ranks(state: q.QuizState, cache: Mapping[str, Any]) -> dict[str, int] | None:
    """`q.ranks(state)` if a render of these standings already sorted them, else None."""
    hit = cache.get(RANKED)
    if hit is None or hit[0] is not state.standings():
        return None
    ranks: dict[str, int] = hit[2]
    return ranks


class Themaquiz(Activity[q.QuizState]):
    kind: ClassVar[str] = "quiz"
    commands: ClassVar[frozenset[str]] = frozenset(
        {"start", "close", "scoreboard", "next", "finish", "restart"}
    )
    deadline_action: ClassVar[str] = "close"
    complete_action: ClassVar[str] = "close"
    personal_from_own_input: ClassVar[bool] = True

    # ---- state -----------------------------------------------------------------------------
    def check_content(self, content: Mapping[str, Any]) -> dict[str, Any]:
        # A quiz comes from the quiz library (validated on upload), never from a request body.
        raise ActivityError("quiz_not_found")

    def new_state(self, content: Mapping[str, Any]) -> q.QuizState:
        return q.QuizState()

    def encode(self, state: q.QuizState) -> dict[str, Any]:
        return state.to_dict()

    def decode(self, data: Mapping[str, Any]) -> q.QuizState:
        return q.QuizState.from_dict(data)

    def copy(self, state: q.QuizState) -> q.QuizState:
        return state.copy()

    def phase(self, state: q.QuizState) -> str:
        return state.phase

    def finished(self, state: q.QuizState) -> bool:
        return state.phase == q.PODIUM

    # ---- commands ----------------------------------------------------------------------------
    def actions(self, state: q.QuizState, content: Mapping[str, Any]) -> list[str]:
        return [a for a in q.allowed_actions(state, content) if a not in ROOM_ACTIONS]

    def needs_inputs(self, state: q.QuizState, action: str) -> bool:
        return state.phase == q.QUESTION and action in ("close", "finish")

    def closed_gate(self, state: q.QuizState) -> Mapping[str, Any]:
        return {"closed": state.index, "round": state.round}

    def command(
        self, state: q.QuizState, content: Mapping[str, Any], action: str, ctx: Context
    ) -> Effects:
        try:
            return self._command(state, content, action, ctx)
        except q.QuizError as exc:
            raise ActivityError(exc.code) from exc

    def _command(
        self, state: q.QuizState, content: Mapping[str, Any], action: str, ctx: Context
    ) -> Effects:
        now = ctx.now
        players = list(ctx.players)
        if action == "start":
            q.start(state, content, now)
            return Effects(gate=open_gate(state), opens=True)
        if action == "close":
            answers = _of_players(ctx.inputs, players)
            q.close(
                state, content, answers, players, now, known_ranks(state, ctx.cache), ctx.online
            )
            return Effects()
        if action == "scoreboard":
            q.show_scoreboard(state)
            return Effects()
        if action == "next":
            q.next_step(state, content, now)
            if state.phase == q.PODIUM:
                return self._crown(state, content, ctx)
            return Effects(gate=open_gate(state), opens=True)
        if action == "finish":
            answers = _of_players(ctx.inputs, players) if state.phase == q.QUESTION else {}
            q.finish(
                state, content, answers, players, now, known_ranks(state, ctx.cache), ctx.online
            )
            return self._crown(state, content, ctx)
        if action == "restart":
            # "Nog een keer": the finished round stays exportable, with the names of then. Its
            # own copy holds no earlier rounds (they are in `past` already): nested, every
            # restart would double the room document.
            finished = {**state.to_dict(), "past": []}
            past = (*state.past, {"state": finished, "names": dict(ctx.names)})
            fresh = q.restart(state)
            state.__dict__.update(fresh.__dict__)  # the hub saves the state it passed in
            state.past = past
            return Effects(gate={"closed": -1, "round": state.round})
        raise ActivityError("not_allowed")

    def _crown(self, state: q.QuizState, content: Mapping[str, Any], ctx: Context) -> Effects:
        """At the podium: the winner, for the team's doorgeefbokaal (the hub records it). A round
        in which nobody scored has no winner: the bokaal stays where it is."""
        ranking = q.ranking(state)
        if not ctx.team or not ranking or ranking[0][1].score <= 0:
            return Effects()
        record = {
            "winner": ctx.names.get(ranking[0][0], "?"),
            "title": str(content.get("title", "")),
            "theme": str(content.get("theme", "")),
            "author": str(content.get("author", "")),
            "round": state.round,
        }
        return Effects(archive=record, collection="bokaal")

    def preview(self, state: q.QuizState) -> q.QuizState | None:
        return q.revealed(state) if state.phase == q.QUESTION else None

    def due(self, state: q.QuizState, now: float) -> bool:
        return q.is_due(state, now)

    def deadline(self, state: q.QuizState) -> float:
        return state.deadline if state.phase == q.QUESTION else 0.0

    def remove_player(self, state: q.QuizState, player: str) -> None:
        q.remove_player(state, player)

    def holds(self, state: q.QuizState, player: str) -> bool:
        return player in state.scores

    # ---- inputs ------------------------------------------------------------------------------
    def accept(
        self,
        gate: Mapping[str, Any],
        content: Mapping[str, Any],
        player: str,
        payload: Mapping[str, Any],
        now: float,
    ) -> InputRecord:
        index = payload.get("question")
        if isinstance(index, bool) or not isinstance(index, int):
            raise ActivityError("bad_frame")
        if "index" not in gate or gate["index"] != index:
            # The question the phone shows has just closed (too_late), or no such one is open.
            raise ActivityError("too_late" if gate.get("closed") == index else "not_open")
        if now > gate["deadline"]:
            raise ActivityError("too_late")
        try:
            answer = q.check_answer(
                content["questions"][index],
                gate["opened_at"],
                payload.get("choice"),
                payload.get("value"),
                now,
            )
        except q.QuizError as exc:
            raise ActivityError(exc.code) from exc
        return InputRecord(
            table=answers_table(gate["round"], index),
            value=answer.to_dict(),
            reply={"question": index, "choice": answer.choice, "value": answer.value},
        )

    def closed_error(self, gate: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
        return "too_late"  # the question closed between the check and the store

    def input_table(self, state: q.QuizState) -> str:
        return answers_table(state.round, state.index) if state.index >= 0 else ""

    def decode_input(self, raw: Mapping[str, Any]) -> q.Answer:
        return q.Answer.from_dict(raw)

    def collecting(self, state: q.QuizState) -> bool:
        return state.phase == q.QUESTION

    # ---- views -------------------------------------------------------------------------------
    def _facts(self, state: q.QuizState, facts: Facts, scored: bool) -> quiz_views.RoomFacts:
        """quiz_views' facts, made once per render (a reveal builds 2,000 `me` frames from
        one): kept in the fan-out's memo against this very `facts` object."""
        hit = facts.cache.get(ROOM_FACTS)
        if hit is not None and hit[0] is facts and hit[1] == scored:
            made: quiz_views.RoomFacts = hit[2]
            return made
        made = self._make_facts(state, facts, scored)
        facts.cache[ROOM_FACTS] = (facts, scored, made)
        return made

    def _make_facts(self, state: q.QuizState, facts: Facts, scored: bool) -> quiz_views.RoomFacts:
        archived = facts.archived
        bokaal = None
        if archived and state.phase == q.PODIUM and archived.get("round") == state.round:
            bokaal = {k: archived.get(k) for k in ("team", "winner", "previous")}
        return quiz_views.RoomFacts(
            code=facts.code,
            join_url=facts.join_url,
            team=facts.team,
            locked=facts.locked,
            lang=facts.lang,
            names=facts.names,
            online=facts.online,
            answers=facts.inputs,
            bokaal=bokaal,
            ranking=ranked(state, facts.cache)[0] if scored else None,
            expected=facts.expected,
        )

    def shared_view(
        self, role: str, state: q.QuizState, content: Mapping[str, Any], facts: Facts, now: float
    ) -> dict[str, Any]:
        scored = state.phase in (q.SCOREBOARD, q.PODIUM)
        return quiz_views.shared_view(role, state, content, self._facts(state, facts, scored), now)

    def personal_view(
        self, state: q.QuizState, content: Mapping[str, Any], facts: Facts, player: str
    ) -> dict[str, Any]:
        ranks = ranked(state, facts.cache)[1]
        return quiz_views.personal_view(
            state, content, self._facts(state, facts, False), player, ranks
        )

    def personal_views(
        self,
        state: q.QuizState,
        content: Mapping[str, Any],
        facts: Facts,
        players: Sequence[str],
    ) -> list[dict[str, Any] | None]:
        ranks = ranked(state, facts.cache)[1]
        room = self._facts(state, facts, False)
        view = quiz_views.personal_view
        return [view(state, content, room, player, ranks) for player in players]

    def personal_key(self, state: q.QuizState) -> Hashable:
        return quiz_views.personal_basis(state)

    # ---- results -----------------------------------------------------------------------------
    def export(
        self,
        state: q.QuizState,
        content: Mapping[str, Any],
        names: Mapping[str, str],
        tables: Mapping[str, Mapping[str, Any]],
        lang: str,
    ) -> dict[str, Any]:
        rounds = [
            quiz_export.results(q.QuizState.from_dict(p["state"]), content, p["names"], lang)
            for p in state.past
        ]
        rounds.append(quiz_export.results(state, content, names, lang))
        return quiz_export.with_rounds(rounds)

    def export_csv(
        self, data: Mapping[str, Any], dialect: str = "rfc4180", lang: str = "nl"
    ) -> str:
        if dialect not in quiz_export.DIALECTS:
            raise ActivityError("not_found")
        return quiz_export.results_csv(data, dialect, lang)


def _of_players(answers: Mapping[str, Any], players: list[str]) -> Mapping[str, q.Answer]:
    """The answers of current players (a removed player's answer is not scored)."""
    present = set(players)
    if answers.keys() <= present:
        return answers
    return {p: a for p, a in answers.items() if p in present}


THEMAQUIZ = Themaquiz()
