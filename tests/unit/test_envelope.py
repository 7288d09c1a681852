"""The room's part of every view (server/hub/envelope.py): the same for every werkvorm."""

from __future__ import annotations

from typing import Any

import pytest

from server.activities import base
from server.activities import quiz as q
from server.hub.envelope import ROOM_ACTIONS, envelope, personal_envelope
from server.hub.room import Item, Room
from tests.conftest import FAST_QUIZ

NAMES = {"p1": "Anna", "p2": "Bram", "p3": "Cas"}


def _room(**changes: Any) -> Room:
    room = Room(
        code="123456",
        secret="x",
        join_url="http://kk.test/join/123456",
        team="Team Noord",
        programme=[Item("quiz", "Testquiz"), Item("circle", "Kring")],
        state=q.QuizState(),
        removed={"p9": {"name": "Weg", "device": ""}},
    )
    for key, value in changes.items():
        setattr(room, key, value)
    return room


def _facts(room: Room) -> base.Facts:
    return base.Facts(
        code=room.code,
        join_url=room.join_url,
        team=room.team,
        locked=room.locked,
        lang="nl",
        names=NAMES,
        online={"p1", "p2"},
        inputs={},
    )


@pytest.mark.parametrize("role", ["phone", "screen", "host"])
def test_every_view_names_its_werkvorm_and_room(role: str) -> None:
    room = _room()
    view = envelope(role, room, room.state, FAST_QUIZ, _facts(room))
    assert view["type"] == "view" and view["role"] == role
    assert (view["activity"], view["item"], view["phase"]) == ("quiz", 0, q.LOBBY)
    header = {
        "code": "123456",
        "join_url": "http://kk.test/join/123456",
        "team": "Team Noord",
        "locked": False,
        "ended": False,
        "next": True,  # the kring follows the quiz
    }
    # The live player count and the programme are for screen and host: a join must not
    # change every phone's view.
    if role == "phone":
        assert view["room"] == header and "programme" not in view
    else:
        assert view["room"] == {**header, "players": 3}
        assert view["programme"] == [
            {"kind": "quiz", "title": "Testquiz", "ran": False, "finished": False},
            {"kind": "circle", "title": "Kring", "ran": False, "finished": False},
        ]
    if role == "host":
        assert view["players"] == [
            {"id": "p1", "name": "Anna", "online": True},
            {"id": "p2", "name": "Bram", "online": True},
            {"id": "p3", "name": "Cas", "online": False},
        ]
        assert view["removed"] == [{"id": "p9", "name": "Weg"}]
        assert view["can"] == ["start", *ROOM_ACTIONS]
    else:
        assert not {"players", "removed", "can"} & view.keys()


def test_the_last_item_of_the_programme_has_nothing_next() -> None:
    room = _room(current=1)
    room.programme[0].state = b"ran"
    assert envelope("phone", room, room.state, FAST_QUIZ, _facts(room))["room"]["next"] is False
    alone = _room(programme=[Item("quiz", "Testquiz")])
    assert envelope("phone", alone, alone.state, FAST_QUIZ, _facts(alone))["room"]["next"] is False


@pytest.mark.parametrize("role", ["phone", "screen", "host"])
def test_an_ended_session_says_so_in_every_view_and_takes_no_commands(role: str) -> None:
    room = _room(ended=True)
    view = envelope(role, room, room.state, FAST_QUIZ, _facts(room))
    assert view["room"]["ended"] is True
    if role == "host":
        assert view["can"] == []
    # The stored document keeps it (every worker, a reloaded page).
    assert Room.decode(room.encode()).ended is True


def test_me_is_named_and_versioned_like_the_views() -> None:
    part = {"score": 10}
    me = personal_envelope(part, "quiz", 2)
    assert me == {"score": 10, "type": "me", "activity": "quiz", "item": 2}
    assert me is part  # stamped in place: a render makes 2,000 of them


def test_an_older_document_that_wrote_a_werkvorm_s_name_out_lists_no_title_of_its_own() -> None:
    """Earlier versions stored the Dutch name as the title of an item without one; read back,
    such an item has no title of its own (each page names it in its own language), while a
    quiz's title and a title given stay as they are."""
    room = _room(
        programme=[
            Item("quiz", "Testquiz"),
            Item("circle", "Binnen- en buitenkring"),
            Item("dotvote", "Zes stickers prioriteren"),
            Item("dotvote", "Scholingsplan 2027"),
        ]
    )
    back = Room.decode(room.encode())
    assert [i.title for i in back.programme] == ["Testquiz", "", "", "Scholingsplan 2027"]
    view = envelope("host", back, back.state, FAST_QUIZ, _facts(back))
    assert [p["title"] for p in view["programme"]] == ["Testquiz", "", "", "Scholingsplan 2027"]
