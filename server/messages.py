"""Error messages for people, per language, and the error frame that carries them."""

from __future__ import annotations

from typing import Any

ERRORS: dict[str, dict[str, str]] = {
    "nl": {
        "bad_frame": "Dit bericht begrijpt de server niet.",
        "frame_too_large": "Dit bericht is te groot.",
        "hello_first": "Meld je eerst aan bij een sessie.",
        "room_not_found": "Deze code kennen we niet (meer). Controleer de code op het scherm.",
        "room_locked": "Deze sessie is op slot: er kunnen geen nieuwe deelnemers bij.",
        "room_full": "Deze sessie is vol.",
        "name_invalid": "Kies een naam van 1 tot 24 tekens.",
        "bad_token": "Je sessie is verlopen. Meld je opnieuw aan met je naam.",
        "kicked": "De begeleider heeft je uit deze sessie gehaald.",
        "not_host": "Alleen de begeleider kan de sessie besturen.",
        "not_allowed": "Dat kan nu niet.",
        "not_open": "Er staat nu geen vraag open.",
        "too_late": "Te laat: de tijd voor deze vraag is om.",
        "already_answered": "Je hebt deze vraag al beantwoord. Je eerste antwoord telt.",
        "invalid_choice": "Dat antwoord kan niet bij deze vraag.",
        "overloaded": "Je verbinding is te traag. We verbinden opnieuw.",
        "busy": "Het is even erg druk. Probeer het zo nog eens.",
        "quiz_not_found": "Deze quiz bestaat niet.",
        "round_not_found": "Deze ronde is niet gespeeld in deze sessie.",
        "not_found": "Niet gevonden.",
        "unavailable": "De server kan even niet bij zijn gegevens. Probeer het zo nog eens.",
        "invalid_grade": "Geef een cijfer van 1 tot en met 10.",
        "invalid_domain": "Kies een van de domeinen op het scherm.",
        "invalid_reason": "Je toelichting is te lang (hooguit 280 tekens).",
        "invalid_domains": "Geef 1 tot 12 verschillende domeinen van hooguit 60 tekens.",
        "invalid_places": "De kring draait 1 of 2 plaatsen.",
        "invalid_privacy": "Kies of de namen zichtbaar zijn (ja of nee).",
        "invalid_content": "Deze werkvorm kan zo niet worden toegevoegd.",
        "unknown_activity": "Deze werkvorm kennen we niet.",
        "rate_limited": (
            "Even rustig aan: te veel verzoeken tegelijk. Probeer het over een paar seconden "
            "opnieuw."
        ),
        "not_owner": "Alleen de maker van deze quiz kan hem vervangen of verwijderen.",
        "quiz_renamed": "Er bestond al een quiz met id '{old}': deze is opgeslagen als '{new}'.",
        "quiz_id_taken": "Dit quiz-id is te vaak gebruikt. Kies een ander id.",
        "organiser_key_required": "Voor deze server heb je de organisatorsleutel nodig.",
        "organiser_key_wrong": "Deze organisatorsleutel klopt niet.",
    },
    "en": {
        "bad_frame": "The server does not understand this message.",
        "frame_too_large": "This message is too large.",
        "hello_first": "Join a session first.",
        "room_not_found": "We don't know this code (any more). Check the code on the screen.",
        "room_locked": "This session is locked: no new players can join.",
        "room_full": "This session is full.",
        "name_invalid": "Choose a name of 1 to 24 characters.",
        "bad_token": "Your session has expired. Join again with your name.",
        "kicked": "The facilitator removed you from this session.",
        "not_host": "Only the facilitator can control the session.",
        "not_allowed": "That is not possible right now.",
        "not_open": "No question is open right now.",
        "too_late": "Too late: time is up for this question.",
        "already_answered": "You already answered this question. Your first answer counts.",
        "invalid_choice": "That answer does not fit this question.",
        "overloaded": "Your connection is too slow. Reconnecting.",
        "busy": "It is very busy right now. Please try again shortly.",
        "quiz_not_found": "This quiz does not exist.",
        "round_not_found": "This round was not played in this session.",
        "not_found": "Not found.",
        "unavailable": "The server cannot reach its data right now. Please try again shortly.",
        "invalid_grade": "Give a grade from 1 to 10.",
        "invalid_domain": "Choose one of the domains on the screen.",
        "invalid_reason": "Your explanation is too long (280 characters at most).",
        "invalid_domains": "Give 1 to 12 different domains of at most 60 characters.",
        "invalid_places": "The circle turns 1 or 2 places.",
        "invalid_privacy": "Choose whether the names are shown (yes or no).",
        "invalid_content": "This work form cannot be added like this.",
        "unknown_activity": "We do not know this work form.",
        "rate_limited": "Slow down: too many requests at once. Try again in a few seconds.",
        "not_owner": "Only the author of this quiz can replace or delete it.",
        "quiz_renamed": "A quiz with id '{old}' already existed: this one was saved as '{new}'.",
        "quiz_id_taken": "This quiz id has been used too often. Choose another id.",
        "organiser_key_required": "This server needs the organiser key.",
        "organiser_key_wrong": "This organiser key is not right.",
    },
}


def message(code: str, lang: str = "nl") -> str:
    catalogue = ERRORS.get(lang, ERRORS["nl"])
    return catalogue.get(code, catalogue["not_allowed"])


def error_frame(code: str, lang: str = "nl", ref: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message(code, lang)}
    if ref:
        frame["ref"] = ref
    return frame
