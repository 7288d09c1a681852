"""The room's part of every view: what the hub knows (the room, the programme, the players),
around the activity's own part. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from server.activities import base
from server.hub.room import Room

HOST_PLAYERS = 500  # players listed in the host's view (the count is always exact)
ROOM_ACTIONS = ["lock", "unlock", "kick", "unkick", "begin", "remove_offline", "end_session"]


def envelope(role: str, room: Room, state: Any, content: Any, facts: base.Facts) -> dict[str, Any]:
    """`type`, `role`, the werkvorm (`activity`, `item`, `phase`), the room and the programme;
    for the host also the players, the removed players and every allowed action."""
    activity = room.activity
    view: dict[str, Any] = {
        "type": "view",
        "role": role,
        "activity": room.kind,
        "item": room.current,
        "phase": activity.phase(state),
        "room": {
            "code": facts.code,
            "join_url": facts.join_url,
            "team": facts.team,
            "locked": facts.locked,
            "ended": room.ended,  # the facilitator ended the session: clients show its end
            # The programme has an item after this one: a phone's end screen says more follows.
            "next": room.current + 1 < len(room.programme),
        },
    }
    if role != "phone":
        # Phones do not get the live count: every join would otherwise re-send every phone's view.
        view["room"]["players"] = len(facts.names)
        view["programme"] = [
            {
                "kind": item.kind,
                "title": item.title,
                "ran": item.state is not None,
                "finished": activity.finished(state) if i == room.current else item.finished,
            }
            for i, item in enumerate(room.programme)
        ]
    if role == "host":
        view["players"] = [
            {"id": pid, "name": name, "online": pid in facts.online}
            for pid, name in list(facts.names.items())[:HOST_PLAYERS]
        ]
        # Removed players, whom the host may let back in (`control` `unkick`).
        view["removed"] = [
            {"id": pid, "name": r.get("name", "")} for pid, r in room.removed.items()
        ]
        # An ended session takes no commands any more.
        view["can"] = [] if room.ended else [*activity.actions(state, content), *ROOM_ACTIONS]
    return view


def facts_of(
    room: Room,
    names: Mapping[str, str],
    online: Set[str],
    inputs: Mapping[str, Any],
    expected: Set[str] | None,
    cache: dict[str, Any] | None = None,
) -> base.Facts:
    """What the activity's views see of the room and its people."""
    return base.Facts(
        code=room.code,
        join_url=room.join_url,
        team=room.team,
        locked=room.locked,
        lang=room.lang,
        names=names,
        online=online,
        inputs=inputs,
        expected=expected,
        archived=room.item.archived,
        cache={} if cache is None else cache,
    )


def personal_envelope(me: dict[str, Any], kind: str, item: int) -> dict[str, Any]:
    """A phone's own frame: the activity's part, named like the views (in place: 2,000 of
    them are made per render; the fan-out adds the version `v` as it encodes)."""
    me["type"] = "me"
    me["activity"] = kind
    me["item"] = item
    return me
