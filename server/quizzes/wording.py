"""The words of quiz validation: places, fields and values named for people, and jsonschema's
errors turned into Dutch (or English) sentences (server/quizzes/validate.py uses them)."""

from __future__ import annotations

import difflib
import math
import re
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError

PathPart = str | int
JsonPath = tuple[PathPart, ...]

LANGS = ("nl", "en")
# The language of the messages being made: set for the length of one validation.
MESSAGE_LANG: ContextVar[str] = ContextVar("quiz_validation_lang", default="nl")


def t(dutch: str, english: str) -> str:
    """The message in the language of the validation under way."""
    return english if MESSAGE_LANG.get() == "en" else dutch


def _pick(dutch: dict[str, Any], english: dict[str, Any]) -> dict[str, Any]:
    return english if MESSAGE_LANG.get() == "en" else dutch


@dataclass(frozen=True)
class Issue:
    """One problem, at its place in the file (validate.py makes a QuizIssue of it)."""

    path: JsonPath
    message: str


# --------------------------------------------------------------------------------------
# Human names for places, fields and values

# list-valued fields whose elements get a number: questions[1] -> "vraag 2"
_ELEMENT_NAMES: dict[str, tuple[str, str]] = {
    "questions": ("vraag", "vragen"),
    "options": ("antwoord", "antwoorden"),
    "learn_more": ("link", "links"),
    "experts": ("expert", "experts"),
}
_ELEMENT_NAMES_EN: dict[str, tuple[str, str]] = {
    "questions": ("question", "questions"),
    "options": ("answer", "answers"),
    "learn_more": ("link", "links"),
    "experts": ("expert", "experts"),
}
_ELEMENT_SUBJECTS_EN: dict[str, str] = {
    "questions": "the question",
    "options": "the answer",
    "learn_more": "the link",
    "experts": "the expert's name",
}
_TOP_LEVEL_PLACES_EN: dict[str, str] = {
    "format": "format",
    "id": "id",
    "title": "title",
    "theme": "theme",
    "author": "author",
    "language": "language",
    "description": "description",
    "questions": "questions",
}
_FIELD_SUBJECTS_EN: dict[str, str] = {
    "format": "the format",
    "id": "the id",
    "title": "the title",
    "theme": "the theme",
    "author": "the author",
    "language": "the language",
    "description": "the description",
    "questions": "the list of questions",
    "type": "the question type",
    "text": "the text",
    "time_limit": "the time limit",
    "points": "the number of points",
    "options": "the list of answers",
    "answer": "the answer",
    "estimate": "the estimate",
    "toelichting": "the explanation (toelichting)",
    "learn_more": "the list of links",
    "experts": "the list of experts",
    "correct": "'correct'",
    "min": "the minimum",
    "max": "the maximum",
    "unit": "the unit",
    "unit_one": "the unit for exactly 1",
    "tolerance": "the tolerance",
    "url": "the url",
}
_ELEMENT_SUBJECTS: dict[str, str] = {
    "questions": "de vraag",
    "options": "het antwoord",
    "learn_more": "de link",
    "experts": "de naam van de expert",
}
_TOP_LEVEL_PLACES: dict[str, str] = {
    "format": "formaat",
    "id": "id",
    "title": "titel",
    "theme": "thema",
    "author": "auteur",
    "language": "taal",
    "description": "beschrijving",
    "questions": "vragen",
}
_FIELD_SUBJECTS: dict[str, str] = {
    "format": "het formaat",
    "id": "de id",
    "title": "de titel",
    "theme": "het thema",
    "author": "de auteur",
    "language": "de taal",
    "description": "de beschrijving",
    "questions": "de lijst met vragen",
    "type": "het vraagtype",
    "text": "de tekst",
    "time_limit": "de tijdslimiet",
    "points": "het aantal punten",
    "options": "de lijst met antwoorden",
    "answer": "het antwoord",
    "estimate": "de schatting",
    "toelichting": "de toelichting",
    "learn_more": "de lijst met links",
    "experts": "de lijst met experts",
    "correct": "'correct'",
    "min": "het minimum",
    "max": "het maximum",
    "unit": "de eenheid",
    "unit_one": "de eenheid bij precies 1",
    "tolerance": "de marge",
    "url": "de url",
}
_FIELD_UNITS: dict[str, str] = {"time_limit": " seconden"}
_FIELD_UNITS_EN: dict[str, str] = {"time_limit": " seconds"}

# Dutch field names authors tend to type, for the "bedoel je …?" hint
_DUTCH_ALIASES: dict[str, str] = {
    "formaat": "format",
    "titel": "title",
    "thema": "theme",
    "auteur": "author",
    "maker": "author",
    "taal": "language",
    "beschrijving": "description",
    "omschrijving": "description",
    "vragen": "questions",
    "soort": "type",
    "vraag": "text",
    "tekst": "text",
    "tijd": "time_limit",
    "tijdslimiet": "time_limit",
    "punten": "points",
    "antwoorden": "options",
    "opties": "options",
    "keuzes": "options",
    "antwoord": "answer",
    "goed": "correct",
    "juist": "correct",
    "schatting": "estimate",
    "minimum": "min",
    "maximum": "max",
    "eenheid": "unit",
    "eenheid_enkelvoud": "unit_one",
    "enkelvoud": "unit_one",
    "marge": "tolerance",
    "links": "learn_more",
    "meer_weten": "learn_more",
    "deskundigen": "experts",
    "experten": "experts",
}

# canonical order, used to sort errors about *missing* fields after the present ones
FIELD_ORDER: dict[str, int] = {
    name: index
    for index, name in enumerate(
        "format id title theme author language description questions type text time_limit "
        "points options answer estimate correct min max unit tolerance toelichting learn_more "
        "url experts".split()
    )
}

QUESTION_TYPE_NAMES: dict[str, str] = {
    "multiple_choice": "meerkeuzevraag",
    "true_false": "waar/onwaar-vraag",
    "poll": "peiling",
    "estimate": "schattingsvraag",
}
QUESTION_TYPE_NAMES_EN: dict[str, str] = {
    "multiple_choice": "multiple-choice question",
    "true_false": "true/false question",
    "poll": "poll",
    "estimate": "estimate question",
}
_ALLOWED_FOR_EN: dict[str, str] = {
    "options": "only for multiple_choice and poll",
    "answer": "only for true_false",
    "estimate": "only for estimate",
}
_TYPE_NAMES_EN: dict[str, str] = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object ({…})",
    "array": "a list ([…])",
    "null": "null",
}
_ALLOWED_FOR: dict[str, str] = {
    "options": "alleen bij multiple_choice en poll",
    "answer": "alleen bij true_false",
    "estimate": "alleen bij estimate",
}
_TYPE_NAMES: dict[str, str] = {
    "string": "tekst",
    "integer": "een geheel getal",
    "number": "een getal",
    "boolean": "true of false",
    "object": "een object ({…})",
    "array": "een lijst ([…])",
    "null": "null",
}
_POLL_POINTS_MESSAGE = "een peiling geeft geen punten (laat 'points' weg of zet het op 0"
_POLL_POINTS_MESSAGE_EN = "a poll gives no points (leave 'points' out or set it to 0"

SURROGATE = re.compile("[\ud800-\udfff]")


def format_path(path: JsonPath) -> str:
    """``("questions", 1, "options", 2, "text")`` -> ``"questions[1].options[2].text"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def describe_place(path: JsonPath) -> str:
    """Dutch name of a place: ``("questions", 1, "options", 2)`` -> ``"vraag 2, antwoord 3"``."""
    parts: list[str] = []
    index = 0
    while index < len(path):
        part = path[index]
        following = path[index + 1] if index + 1 < len(path) else None
        names = _pick(_ELEMENT_NAMES, _ELEMENT_NAMES_EN)
        if isinstance(part, str) and part in names and isinstance(following, int):
            parts.append(f"{names[part][0]} {following + 1}")
            index += 2
            continue
        if isinstance(part, int):
            parts.append(f"element {part + 1}")
        elif part == "estimate":
            parts.append(t("schatting", "estimate"))
        elif index == 0 and part in _TOP_LEVEL_PLACES:
            parts.append(_pick(_TOP_LEVEL_PLACES, _TOP_LEVEL_PLACES_EN)[part])
        else:
            parts.append(t(f"veld '{part}'", f"field '{part}'"))
        index += 1
    return ", ".join(parts)


def subject_of(path: JsonPath) -> str:
    """The noun (with article) for the thing at ``path``: "de tekst", "het antwoord", …"""
    if not path:
        return t("de quiz", "the quiz")
    last = path[-1]
    if isinstance(last, int):
        parent = path[-2] if len(path) >= 2 else None
        if isinstance(parent, str):
            return str(
                _pick(_ELEMENT_SUBJECTS, _ELEMENT_SUBJECTS_EN).get(
                    parent, t("dit element", "this element")
                )
            )
        return t("dit element", "this element")
    return str(
        _pick(_FIELD_SUBJECTS, _FIELD_SUBJECTS_EN).get(
            last, t(f"het veld '{last}'", f"the field '{last}'")
        )
    )


def _container(path: JsonPath) -> JsonPath:
    """The place a message is prefixed with: the element itself, or the object holding a field."""
    if path and isinstance(path[-1], str):
        return path[:-1]
    return path


def compose(path: JsonPath, text: str) -> str:
    place = describe_place(_container(path))
    return f"{place}: {text}" if place else text


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    return is_number(value) and math.isfinite(value)


def show_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def show_value(value: Any) -> str:
    """A short Dutch rendering of a value for '(nu …)'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_number(value):
        return show_number(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"'{shown}'"
    if isinstance(value, list):
        return t("een lijst", "a list")
    if isinstance(value, dict):
        return t("een object", "an object")
    return t("een onbekende waarde", "an unknown value")


def _kind(value: Any) -> str:
    """The JSON type of a value, in Dutch."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return t("een geheel getal", "a whole number")
    if isinstance(value, float):
        return t("een kommagetal", "a decimal number")
    if isinstance(value, str):
        return t("tekst", "text")
    if isinstance(value, list):
        return t("een lijst", "a list")
    if isinstance(value, dict):
        return t("een object", "an object")
    return t("een onbekende waarde", "an unknown value")


def _or_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + t(" of ", " or ") + items[-1]


def _question_type(quiz: Any, path: JsonPath) -> str | None:
    if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
        questions = quiz.get("questions") if isinstance(quiz, dict) else None
        if isinstance(questions, list) and 0 <= path[1] < len(questions):
            question = questions[path[1]]
            if isinstance(question, dict):
                qtype = question.get("type")
                return qtype if isinstance(qtype, str) else None
    return None


def _is_poll_points(quiz: Any, path: JsonPath) -> bool:
    return len(path) == 3 and path[2] == "points" and _question_type(quiz, path) == "poll"


# --------------------------------------------------------------------------------------
# jsonschema errors -> Dutch issues


def _projector_reason(path: JsonPath) -> str:
    """Why a question's texts have these limits: the projector shows them whole, without
    scrolling, at sizes the back row can read."""
    if len(path) < 3 or path[0] != "questions":
        return ""
    return t(
        "; langer past niet leesbaar op het scherm van de beamer",
        "; longer does not fit readably on the projector screen",
    )


def describe_error(error: ValidationError, quiz: Any) -> list[Issue]:
    path: JsonPath = tuple(error.absolute_path)
    keyword = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema if isinstance(error.schema, dict) else {}
    subject = subject_of(path)
    last = path[-1] if path else None

    def issue(text: str, at: JsonPath = path) -> list[Issue]:
        return [Issue(at, compose(at, text))]

    if keyword == "required":
        issues: list[Issue] = []
        if isinstance(instance, dict) and isinstance(value, list):
            for name in value:
                if isinstance(name, str) and name not in instance:
                    at = (*path, name)
                    text = t(f"{subject_of(at)} ontbreekt", f"{subject_of(at)} is missing")
                    if name == "answer" and len(at) == 3:
                        text += t(
                            ' (zet "answer": true of "answer": false)',
                            ' (set "answer": true or "answer": false)',
                        )
                    elif name == "format" and len(at) == 1:
                        text += t(' (zet "format": 1)', ' (set "format": 1)')
                    else:  # the field as the file writes it, beside its Dutch name
                        text += t(f' (veld "{name}")', f' (field "{name}")')
                    issues.extend(issue(text, at))
        return issues

    if keyword == "additionalProperties":
        issues = []
        if isinstance(instance, dict):
            known = list(schema.get("properties", {}))
            for name in instance:
                if name in known:
                    continue
                text = t(f"onbekend veld '{name}'", f"unknown field '{name}'")
                alias = _DUTCH_ALIASES.get(str(name).strip().casefold())
                close = (
                    [alias]
                    if alias in known
                    else difflib.get_close_matches(str(name), known, n=1, cutoff=0.7)
                )
                if close:
                    text += t(f" (bedoel je '{close[0]}'?)", f" (did you mean '{close[0]}'?)")
                issues.extend(issue(text, (*path, str(name))))
        return issues

    now = t(f"(nu {show_value(instance)})", f"(now {show_value(instance)})")

    if keyword == "type":
        expected = [value] if isinstance(value, str) else list(value)
        type_names = _pick(_TYPE_NAMES, _TYPE_NAMES_EN)
        wanted = _or_list([type_names.get(str(name), str(name)) for name in expected])
        return issue(
            t(
                f"{subject} moet {wanted} zijn (nu {_kind(instance)})",
                f"{subject} must be {wanted} (now {_kind(instance)})",
            )
        )

    if keyword in ("enum", "const"):
        if _is_poll_points(quiz, path):
            return issue(
                t(
                    f"{_POLL_POINTS_MESSAGE}; nu {show_value(instance)})",
                    f"{_POLL_POINTS_MESSAGE_EN}; now {show_value(instance)})",
                )
            )
        if last == "type" and len(path) == 3:
            return issue(
                t(
                    f"onbekend vraagtype {show_value(instance)}: kies uit multiple_choice, "
                    "true_false, poll of estimate",
                    f"unknown question type {show_value(instance)}: choose multiple_choice, "
                    "true_false, poll or estimate",
                )
            )
        choices = [value] if keyword == "const" else list(value)
        shown = _or_list([show_value(choice) for choice in choices])
        return issue(t(f"{subject} moet {shown} zijn {now}", f"{subject} must be {shown} {now}"))

    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        units = _pick(_FIELD_UNITS, _FIELD_UNITS_EN)
        unit = units.get(last, "") if isinstance(last, str) else ""
        low = schema.get("minimum")
        high = schema.get("maximum")
        if low is not None and high is not None:
            least, most = show_number(low), show_number(high)
            return issue(
                t(
                    f"{subject} moet tussen {least} en {most}{unit} liggen {now}",
                    f"{subject} must be between {least} and {most}{unit} {now}",
                )
            )
        if keyword in ("minimum", "exclusiveMinimum"):
            if value == 0 and keyword == "minimum":
                return issue(
                    t(
                        f"{subject} mag niet negatief zijn {now}",
                        f"{subject} must not be negative {now}",
                    )
                )
            relation = (
                t("minstens", "at least")
                if keyword == "minimum"
                else t("groter dan", "greater than")
            )
        else:
            relation = (
                t("hoogstens", "at most") if keyword == "maximum" else t("kleiner dan", "less than")
            )
        return issue(
            t(
                f"{subject} moet {relation} {show_number(value)}{unit} zijn {now}",
                f"{subject} must be {relation} {show_number(value)}{unit} {now}",
            )
        )

    if keyword == "minLength":
        if isinstance(value, int) and value <= 1:
            return issue(t(f"{subject} is leeg", f"{subject} is empty"))
        return issue(
            t(
                f"{subject} is te kort (minimaal {value} tekens)",
                f"{subject} is too short (at least {value} characters)",
            )
        )

    if keyword == "maxLength":
        length = len(instance) if isinstance(instance, str) else 0
        return issue(
            t(
                f"{subject} is te lang (maximaal {value} tekens, nu {length})",
                f"{subject} is too long (at most {value} characters, now {length})",
            )
            + _projector_reason(path)
        )

    if keyword == "pattern":
        if value == "\\S":
            return issue(t(f"{subject} is leeg", f"{subject} is empty"))
        if path == ("id",):
            return issue(
                t(
                    "de id mag alleen kleine letters (a-z), cijfers en streepjes bevatten, "
                    "moet met een letter of cijfer beginnen en 2 tot 63 tekens lang zijn "
                    f"{now}",
                    "the id may only contain lower-case letters (a-z), digits and hyphens, "
                    f"must start with a letter or digit and be 2 to 63 characters long {now}",
                )
            )
        if last == "id":
            return issue(
                t(
                    "de id mag alleen letters, cijfers, '-' en '_' bevatten en 1 tot 32 tekens "
                    f"lang zijn {now}",
                    "the id may only contain letters, digits, '-' and '_' and be 1 to 32 "
                    f"characters long {now}",
                )
            )
        if last == "url":
            return issue(
                t(
                    "de url moet beginnen met http:// of https:// en mag geen spaties bevatten "
                    f"{now}",
                    f"the url must start with http:// or https:// and contain no spaces {now}",
                )
            )
        return issue(
            t(
                f"{subject} heeft niet de juiste vorm {now}",
                f"{subject} is not in the right form {now}",
            )
        )

    if keyword in ("minItems", "maxItems"):
        element_names = _pick(_ELEMENT_NAMES, _ELEMENT_NAMES_EN)
        fallback = t("element", "element"), t("elementen", "elements")
        singular, plural = element_names.get(last, fallback) if isinstance(last, str) else fallback
        count = len(instance) if isinstance(instance, list) else 0
        noun = singular if value == 1 else plural
        if keyword == "minItems":
            verb = "moet" if value == 1 else "moeten"
            return issue(
                t(
                    f"er {verb} minstens {value} {noun} zijn (nu {count})",
                    f"there must be at least {value} {noun} (now {count})",
                )
            )
        verb = "mag" if value == 1 else "mogen"
        return issue(
            t(
                f"er {verb} hoogstens {value} {noun} zijn (nu {count})",
                f"there may be at most {value} {noun} (now {count})",
            )
            + _projector_reason(path)
        )

    if keyword == "not" and value == {}:
        name = str(last) if last is not None else "?"
        if name == "correct":
            return issue(
                t(
                    "een peiling heeft geen goed antwoord: haal 'correct' weg",
                    "a poll has no right answer: remove 'correct'",
                )
            )
        qtype = _question_type(quiz, path)
        kind = _pick(QUESTION_TYPE_NAMES, QUESTION_TYPE_NAMES_EN).get(
            qtype or "", t("vraag van dit type", "question of this type")
        )
        allowed = _pick(_ALLOWED_FOR, _ALLOWED_FOR_EN)
        hint = f" ({allowed[name]})" if name in allowed else ""
        return issue(
            t(
                f"het veld '{name}' hoort niet bij een {kind}{hint}",
                f"the field '{name}' does not belong in a {kind}{hint}",
            )
        )

    if keyword == "format":
        return issue(
            t(
                f"{subject} heeft niet de juiste vorm {now}",
                f"{subject} is not in the right form {now}",
            )
        )

    if keyword == "uniqueItems":
        return issue(t(f"{subject} bevat dubbele waarden", f"{subject} contains duplicate values"))

    return issue(
        t(
            f"{subject} is hier niet toegestaan of ongeldig",
            f"{subject} is not allowed here or invalid",
        )
    )
