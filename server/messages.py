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
        "session_ended": (
            "De sessie is afgelopen: meedoen of antwoorden kan niet meer. Bedankt voor het meedoen!"
        ),
        "not_host": "Alleen de begeleider kan de sessie besturen.",
        "not_allowed": "Dat kan nu niet.",
        "not_open": "Er staat nu geen vraag open.",
        "too_late": "Te laat: de tijd voor deze vraag is om.",
        "already_answered": "Je hebt deze vraag al beantwoord. Je eerste antwoord telt.",
        "invalid_choice": "Dat antwoord kan niet bij deze vraag.",
        "busy": "Het is even erg druk. Probeer het zo nog eens.",
        "quiz_not_found": "Deze quiz bestaat niet.",
        "round_not_found": "Deze ronde is niet gespeeld in deze sessie.",
        "not_found": "Niet gevonden.",
        "method_not_allowed": "Dit adres kent die bewerking niet.",
        "unavailable": "De server kan even niet bij zijn gegevens. Probeer het zo nog eens.",
        "invalid_grade": "Geef een cijfer van 1 tot en met 10.",
        "invalid_domain": "Kies een van de domeinen op het scherm.",
        "invalid_reason": "Je toelichting is te lang (hooguit 280 tekens).",
        "invalid_domains": "Geef 1 tot 12 verschillende domeinen van hooguit 60 tekens.",
        "invalid_places": "De kring draait 1 of 2 plaatsen.",
        "invalid_privacy": "Kies of de namen zichtbaar zijn (ja of nee).",
        "invalid_content": "Deze werkvorm kan zo niet worden toegevoegd.",
        "unknown_activity": "Deze werkvorm kennen we niet.",
        "invalid_card": (
            "Deze kaart klopt niet: kies een domein, vul een onderwerp in (hooguit 120 tekens), "
            "kwartaal Q1 tot en met Q4, doelgroep team, kennisgroep of individueel."
        ),
        "invalid_kwartaal": "Het kwartaal is Q1, Q2, Q3 of Q4 (of leeg).",
        "invalid_doelgroep": "De doelgroep is team, kennisgroep of individueel (of leeg).",
        "invalid_onderwerp": "Het onderwerp ontbreekt of is langer dan 120 tekens.",
        "invalid_leervorm": "De leervorm is langer dan 60 tekens.",
        "unknown_card": "Deze kaart hangt niet (meer) aan de muur.",
        "too_many_cards": "Er kunnen hooguit 60 kaarten aan de muur.",
        "no_cards": "Hang eerst minstens één kaart aan de muur.",
        "too_many_proposals": "Je kunt hooguit 3 kaarten voorstellen.",
        "invalid_settings": "Kies 1 tot 12 stickers per persoon, en hooguit zoveel per kaart.",
        "invalid_switch": "Kies aan of uit.",
        "invalid_cut": (
            "Kies een streep: de bovenste 1 tot 60 kaarten, of een minimum aantal stickers."
        ),
        "invalid_owner": "Vul bij 'wie pakt het op' hooguit 80 tekens in.",
        "voting_closed": "Het stemmen is gesloten: je stickers kunnen niet meer verplaatst worden.",
        "invalid_stickers": "Deze stickers kloppen niet.",
        "over_budget": "Je hebt niet meer stickers over. Haal er eerst een weg.",
        "over_cap": "Op deze kaart mag je niet meer stickers plakken.",
        "not_minority": "Deze vraag is voor wie stickers plakte op een kaart onder de streep.",
        "invalid_answer": "Schrijf een antwoord van 1 tot 280 tekens.",
        "invalid_import": "Dit bestand kunnen we niet inlezen: er is niets toegevoegd.",
        "invalid_history": "Deze wijziging van de teamgeschiedenis klopt niet.",
        "too_large": "Dit bestand is te groot (hooguit 64 KB).",
        "not_utf8": "Het bestand is geen UTF-8-tekst.",
        "not_json": "Het bestand is geen geldige JSON.",
        "not_a_list": 'Het bestand moet een lijst kaarten zijn (of {"cards": [...]}).',
        "missing_column": "Deze kolom ontbreekt in de kopregel.",
        "empty": "Er staan geen kaarten in het bestand.",
        "rate_limited": (
            "Even rustig aan: te veel verzoeken tegelijk. Probeer het over een paar seconden "
            "opnieuw."
        ),
        "not_owner": "Alleen de maker van deze quiz kan hem vervangen of verwijderen.",
        "quiz_renamed": (
            "Er bestond al een quiz met id ‘{old}’: deze is opgeslagen als ‘{new}’. Wilde je "
            "die quiz vervangen? Upload hem dan vanuit de browser waarmee hij eerst is geüpload."
        ),
        "quiz_same_title": (
            "Let op: er staat al een quiz met de titel ‘{title}’ in de bibliotheek. Geef deze een "
            "andere titel als het een andere quiz is, anders zijn ze niet uit elkaar te houden."
        ),
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
        "session_ended": (
            "The session has ended: joining or answering is no longer possible. Thanks for "
            "taking part!"
        ),
        "not_host": "Only the facilitator can control the session.",
        "not_allowed": "That is not possible right now.",
        "not_open": "No question is open right now.",
        "too_late": "Too late: time is up for this question.",
        "already_answered": "You already answered this question. Your first answer counts.",
        "invalid_choice": "That answer does not fit this question.",
        "busy": "It is very busy right now. Please try again shortly.",
        "quiz_not_found": "This quiz does not exist.",
        "round_not_found": "This round was not played in this session.",
        "not_found": "Not found.",
        "method_not_allowed": "This address does not take that method.",
        "unavailable": "The server cannot reach its data right now. Please try again shortly.",
        "invalid_grade": "Give a grade from 1 to 10.",
        "invalid_domain": "Choose one of the domains on the screen.",
        "invalid_reason": "Your explanation is too long (280 characters at most).",
        "invalid_domains": "Give 1 to 12 different domains of at most 60 characters.",
        "invalid_places": "The circle turns 1 or 2 places.",
        "invalid_privacy": "Choose whether the names are shown (yes or no).",
        "invalid_content": "This work form cannot be added like this.",
        "unknown_activity": "We do not know this work form.",
        "invalid_card": (
            "This card is not right: choose a domain, fill in a subject (120 characters at most), "
            "quarter Q1 to Q4, target group team, knowledge group or individual."
        ),
        "invalid_kwartaal": "The quarter is Q1, Q2, Q3 or Q4 (or empty).",
        "invalid_doelgroep": "The target group is team, kennisgroep or individueel (or empty).",
        "invalid_onderwerp": "The subject is missing or longer than 120 characters.",
        "invalid_leervorm": "The learning form is longer than 60 characters.",
        "unknown_card": "This card is not (or no longer) on the wall.",
        "too_many_cards": "The wall holds 60 cards at most.",
        "no_cards": "Put at least one card on the wall first.",
        "too_many_proposals": "You can propose 3 cards at most.",
        "invalid_settings": "Choose 1 to 12 stickers per person, and at most that many per card.",
        "invalid_switch": "Choose on or off.",
        "invalid_cut": "Choose a cut: the top 1 to 60 cards, or a minimum number of stickers.",
        "invalid_owner": "Use at most 80 characters for 'who takes it up'.",
        "voting_closed": "Voting is closed: your stickers can no longer be moved.",
        "invalid_stickers": "These stickers are not right.",
        "over_budget": "You have no stickers left. Take one off first.",
        "over_cap": "You cannot put more stickers on this card.",
        "not_minority": "This question is for those who put stickers on a card below the cut.",
        "invalid_answer": "Write an answer of 1 to 280 characters.",
        "invalid_import": "We cannot read this file: nothing was added.",
        "invalid_history": "This change to the team history is not right.",
        "too_large": "This file is too large (64 KB at most).",
        "not_utf8": "The file is not UTF-8 text.",
        "not_json": "The file is not valid JSON.",
        "not_a_list": 'The file must be a list of cards (or {"cards": [...]}).',
        "missing_column": "This column is missing from the header row.",
        "empty": "There are no cards in the file.",
        "rate_limited": "Slow down: too many requests at once. Try again in a few seconds.",
        "not_owner": "Only the author of this quiz can replace or delete it.",
        "quiz_renamed": (
            "A quiz with id ‘{old}’ already existed: this one was saved as ‘{new}’. Did you mean "
            "to replace that quiz? Then upload it from the browser it was first uploaded from."
        ),
        "quiz_same_title": (
            "Note: the library already has a quiz titled ‘{title}’. Give this one another title "
            "if it is a different quiz, or the two cannot be told apart."
        ),
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
