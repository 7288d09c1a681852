"""Validation of quiz files (format 1) with readable Dutch error messages.

A quiz author uploads a JSON file; this module checks it against
``quizzes/schema.json`` (JSON Schema draft 2020-12) plus a few semantic rules a schema
cannot express, and reports *all* problems at once, sorted by their position in the
file. Every message is Dutch and names the place in human words, e.g.
``"vraag 2, antwoord 3: de tekst ontbreekt"``; ``QuizIssue.path`` holds the technical
location (``"questions[1].options[2].text"``, ``""`` for the whole file).

Public API: :data:`MAX_QUIZ_BYTES`, :class:`QuizIssue`, :class:`ValidationResult`,
:func:`validate_quiz_bytes`, :func:`validate_quiz`, :func:`apply_defaults`,
:func:`load_schema`.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import math
import re
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from server import resources

MAX_QUIZ_BYTES = 256 * 1024
SCHEMA_PATH = resources.schema_path()

DEFAULT_TIME_LIMIT = 20
DEFAULT_POINTS = 1000
DEFAULT_TOLERANCE_FRACTION = 0.05

PathPart = str | int
JsonPath = tuple[PathPart, ...]

LANGS = ("nl", "en")
# The language of the messages being made: set for the length of one validation.
_LANG: ContextVar[str] = ContextVar("quiz_validation_lang", default="nl")


def _t(dutch: str, english: str) -> str:
    """The message in the language of the validation under way."""
    return english if _LANG.get() == "en" else dutch


def _pick(dutch: dict[str, Any], english: dict[str, Any]) -> dict[str, Any]:
    return english if _LANG.get() == "en" else dutch


@dataclass(frozen=True)
class QuizIssue:
    """One problem in a quiz file.

    ``path`` is the technical location (``"questions[1].options[2].text"``, ``""`` for the
    whole file); ``message`` is a Dutch sentence that starts with the place in human words.
    """

    path: str
    message: str


@dataclass(frozen=True)
class ValidationResult:
    """Outcome of a validation: ``quiz`` (with defaults applied) is None iff there are errors."""

    quiz: dict[str, Any] | None
    errors: list[QuizIssue]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class _Issue:
    path: JsonPath
    message: str


# --------------------------------------------------------------------------------------
# Schema loading


@functools.cache
def _schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


@functools.cache
def _validator() -> Draft202012Validator:
    schema = _schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def load_schema() -> dict[str, Any]:
    """Return (a copy of) the quiz JSON Schema from ``quizzes/schema.json``."""
    return copy.deepcopy(_schema())


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
    "marge": "tolerance",
    "links": "learn_more",
    "meer_weten": "learn_more",
    "deskundigen": "experts",
    "experten": "experts",
}

# canonical order, used to sort errors about *missing* fields after the present ones
_FIELD_ORDER: dict[str, int] = {
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

_SURROGATE = re.compile("[\ud800-\udfff]")


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
            parts.append(_t("schatting", "estimate"))
        elif index == 0 and part in _TOP_LEVEL_PLACES:
            parts.append(_pick(_TOP_LEVEL_PLACES, _TOP_LEVEL_PLACES_EN)[part])
        else:
            parts.append(_t(f"veld '{part}'", f"field '{part}'"))
        index += 1
    return ", ".join(parts)


def _subject(path: JsonPath) -> str:
    """The noun (with article) for the thing at ``path``: "de tekst", "het antwoord", …"""
    if not path:
        return _t("de quiz", "the quiz")
    last = path[-1]
    if isinstance(last, int):
        parent = path[-2] if len(path) >= 2 else None
        if isinstance(parent, str):
            return str(
                _pick(_ELEMENT_SUBJECTS, _ELEMENT_SUBJECTS_EN).get(
                    parent, _t("dit element", "this element")
                )
            )
        return _t("dit element", "this element")
    return str(
        _pick(_FIELD_SUBJECTS, _FIELD_SUBJECTS_EN).get(
            last, _t(f"het veld '{last}'", f"the field '{last}'")
        )
    )


def _container(path: JsonPath) -> JsonPath:
    """The place a message is prefixed with: the element itself, or the object holding a field."""
    if path and isinstance(path[-1], str):
        return path[:-1]
    return path


def _compose(path: JsonPath, text: str) -> str:
    place = describe_place(_container(path))
    return f"{place}: {text}" if place else text


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_finite_number(value: Any) -> bool:
    return _is_number(value) and math.isfinite(value)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _show(value: Any) -> str:
    """A short Dutch rendering of a value for '(nu …)'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if _is_number(value):
        return _num(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"'{shown}'"
    if isinstance(value, list):
        return _t("een lijst", "a list")
    if isinstance(value, dict):
        return _t("een object", "an object")
    return _t("een onbekende waarde", "an unknown value")


def _kind(value: Any) -> str:
    """The JSON type of a value, in Dutch."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return _t("een geheel getal", "a whole number")
    if isinstance(value, float):
        return _t("een kommagetal", "a decimal number")
    if isinstance(value, str):
        return _t("tekst", "text")
    if isinstance(value, list):
        return _t("een lijst", "a list")
    if isinstance(value, dict):
        return _t("een object", "an object")
    return _t("een onbekende waarde", "an unknown value")


def _or_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + _t(" of ", " or ") + items[-1]


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
    return _t(
        "; langer past niet leesbaar op het scherm van de beamer",
        "; longer does not fit readably on the projector screen",
    )


def _describe_error(error: ValidationError, quiz: Any) -> list[_Issue]:
    path: JsonPath = tuple(error.absolute_path)
    keyword = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema if isinstance(error.schema, dict) else {}
    subject = _subject(path)
    last = path[-1] if path else None

    def issue(text: str, at: JsonPath = path) -> list[_Issue]:
        return [_Issue(at, _compose(at, text))]

    if keyword == "required":
        issues: list[_Issue] = []
        if isinstance(instance, dict) and isinstance(value, list):
            for name in value:
                if isinstance(name, str) and name not in instance:
                    at = (*path, name)
                    text = _t(f"{_subject(at)} ontbreekt", f"{_subject(at)} is missing")
                    if name == "answer" and len(at) == 3:
                        text += _t(
                            ' (zet "answer": true of "answer": false)',
                            ' (set "answer": true or "answer": false)',
                        )
                    issues.extend(issue(text, at))
        return issues

    if keyword == "additionalProperties":
        issues = []
        if isinstance(instance, dict):
            known = list(schema.get("properties", {}))
            for name in instance:
                if name in known:
                    continue
                text = _t(f"onbekend veld '{name}'", f"unknown field '{name}'")
                alias = _DUTCH_ALIASES.get(str(name).strip().casefold())
                close = (
                    [alias]
                    if alias in known
                    else difflib.get_close_matches(str(name), known, n=1, cutoff=0.7)
                )
                if close:
                    text += _t(f" (bedoel je '{close[0]}'?)", f" (did you mean '{close[0]}'?)")
                issues.extend(issue(text, (*path, str(name))))
        return issues

    now = _t(f"(nu {_show(instance)})", f"(now {_show(instance)})")

    if keyword == "type":
        expected = [value] if isinstance(value, str) else list(value)
        type_names = _pick(_TYPE_NAMES, _TYPE_NAMES_EN)
        wanted = _or_list([type_names.get(str(name), str(name)) for name in expected])
        return issue(
            _t(
                f"{subject} moet {wanted} zijn (nu {_kind(instance)})",
                f"{subject} must be {wanted} (now {_kind(instance)})",
            )
        )

    if keyword in ("enum", "const"):
        if _is_poll_points(quiz, path):
            return issue(
                _t(
                    f"{_POLL_POINTS_MESSAGE}; nu {_show(instance)})",
                    f"{_POLL_POINTS_MESSAGE_EN}; now {_show(instance)})",
                )
            )
        if last == "type" and len(path) == 3:
            return issue(
                _t(
                    f"onbekend vraagtype {_show(instance)}: kies uit multiple_choice, "
                    "true_false, poll of estimate",
                    f"unknown question type {_show(instance)}: choose multiple_choice, "
                    "true_false, poll or estimate",
                )
            )
        choices = [value] if keyword == "const" else list(value)
        shown = _or_list([_show(choice) for choice in choices])
        return issue(_t(f"{subject} moet {shown} zijn {now}", f"{subject} must be {shown} {now}"))

    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        units = _pick(_FIELD_UNITS, _FIELD_UNITS_EN)
        unit = units.get(last, "") if isinstance(last, str) else ""
        low = schema.get("minimum")
        high = schema.get("maximum")
        if low is not None and high is not None:
            return issue(
                _t(
                    f"{subject} moet tussen {_num(low)} en {_num(high)}{unit} liggen {now}",
                    f"{subject} must be between {_num(low)} and {_num(high)}{unit} {now}",
                )
            )
        if keyword in ("minimum", "exclusiveMinimum"):
            if value == 0 and keyword == "minimum":
                return issue(
                    _t(
                        f"{subject} mag niet negatief zijn {now}",
                        f"{subject} must not be negative {now}",
                    )
                )
            relation = (
                _t("minstens", "at least")
                if keyword == "minimum"
                else _t("groter dan", "greater than")
            )
        else:
            relation = (
                _t("hoogstens", "at most")
                if keyword == "maximum"
                else _t("kleiner dan", "less than")
            )
        return issue(
            _t(
                f"{subject} moet {relation} {_num(value)}{unit} zijn {now}",
                f"{subject} must be {relation} {_num(value)}{unit} {now}",
            )
        )

    if keyword == "minLength":
        if isinstance(value, int) and value <= 1:
            return issue(_t(f"{subject} is leeg", f"{subject} is empty"))
        return issue(
            _t(
                f"{subject} is te kort (minimaal {value} tekens)",
                f"{subject} is too short (at least {value} characters)",
            )
        )

    if keyword == "maxLength":
        length = len(instance) if isinstance(instance, str) else 0
        return issue(
            _t(
                f"{subject} is te lang (maximaal {value} tekens, nu {length})",
                f"{subject} is too long (at most {value} characters, now {length})",
            )
            + _projector_reason(path)
        )

    if keyword == "pattern":
        if value == "\\S":
            return issue(_t(f"{subject} is leeg", f"{subject} is empty"))
        if path == ("id",):
            return issue(
                _t(
                    "de id mag alleen kleine letters (a-z), cijfers en streepjes bevatten, "
                    "moet met een letter of cijfer beginnen en 2 tot 63 tekens lang zijn "
                    f"{now}",
                    "the id may only contain lower-case letters (a-z), digits and hyphens, "
                    f"must start with a letter or digit and be 2 to 63 characters long {now}",
                )
            )
        if last == "id":
            return issue(
                _t(
                    "de id mag alleen letters, cijfers, '-' en '_' bevatten en 1 tot 32 tekens "
                    f"lang zijn {now}",
                    "the id may only contain letters, digits, '-' and '_' and be 1 to 32 "
                    f"characters long {now}",
                )
            )
        if last == "url":
            return issue(
                _t(
                    "de url moet beginnen met http:// of https:// en mag geen spaties bevatten "
                    f"{now}",
                    f"the url must start with http:// or https:// and contain no spaces {now}",
                )
            )
        return issue(
            _t(
                f"{subject} heeft niet de juiste vorm {now}",
                f"{subject} is not in the right form {now}",
            )
        )

    if keyword in ("minItems", "maxItems"):
        element_names = _pick(_ELEMENT_NAMES, _ELEMENT_NAMES_EN)
        fallback = _t("element", "element"), _t("elementen", "elements")
        singular, plural = element_names.get(last, fallback) if isinstance(last, str) else fallback
        count = len(instance) if isinstance(instance, list) else 0
        noun = singular if value == 1 else plural
        if keyword == "minItems":
            verb = "moet" if value == 1 else "moeten"
            return issue(
                _t(
                    f"er {verb} minstens {value} {noun} zijn (nu {count})",
                    f"there must be at least {value} {noun} (now {count})",
                )
            )
        verb = "mag" if value == 1 else "mogen"
        return issue(
            _t(
                f"er {verb} hoogstens {value} {noun} zijn (nu {count})",
                f"there may be at most {value} {noun} (now {count})",
            )
            + _projector_reason(path)
        )

    if keyword == "not" and value == {}:
        name = str(last) if last is not None else "?"
        if name == "correct":
            return issue(
                _t(
                    "een peiling heeft geen goed antwoord: haal 'correct' weg",
                    "a poll has no right answer: remove 'correct'",
                )
            )
        qtype = _question_type(quiz, path)
        kind = _pick(QUESTION_TYPE_NAMES, QUESTION_TYPE_NAMES_EN).get(
            qtype or "", _t("vraag van dit type", "question of this type")
        )
        allowed = _pick(_ALLOWED_FOR, _ALLOWED_FOR_EN)
        hint = f" ({allowed[name]})" if name in allowed else ""
        return issue(
            _t(
                f"het veld '{name}' hoort niet bij een {kind}{hint}",
                f"the field '{name}' does not belong in a {kind}{hint}",
            )
        )

    if keyword == "format":
        return issue(
            _t(
                f"{subject} heeft niet de juiste vorm {now}",
                f"{subject} is not in the right form {now}",
            )
        )

    if keyword == "uniqueItems":
        return issue(_t(f"{subject} bevat dubbele waarden", f"{subject} contains duplicate values"))

    return issue(
        _t(
            f"{subject} is hier niet toegestaan of ongeldig",
            f"{subject} is not allowed here or invalid",
        )
    )


# --------------------------------------------------------------------------------------
# Semantic checks beyond the schema


def _walk(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, Any]]:
    stack: list[tuple[JsonPath, Any]] = [(path, value)]
    while stack:
        here, node = stack.pop()
        yield here, node
        if isinstance(node, dict):
            stack.extend(((*here, key), child) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend(((*here, index), child) for index, child in enumerate(node))


def _semantic_issues(quiz: Any) -> list[_Issue]:
    issues: list[_Issue] = []

    def add(at: JsonPath, text: str) -> None:
        issues.append(_Issue(at, _compose(at, text)))

    for at, node in _walk(quiz, ()):
        if isinstance(node, float) and not math.isfinite(node):
            add(
                at,
                _t(
                    f"{_subject(at)} moet een gewoon getal zijn (nu {node})",
                    f"{_subject(at)} must be an ordinary number (now {node})",
                ),
            )
        elif isinstance(node, str) and _SURROGATE.search(node):
            add(
                at,
                _t(
                    f"{_subject(at)} bevat een ongeldig teken",
                    f"{_subject(at)} contains an invalid character",
                ),
            )

    if not isinstance(quiz, dict):
        return issues
    questions = quiz.get("questions")
    if not isinstance(questions, list):
        return issues

    seen_ids: dict[str, int] = {}
    for index, question in enumerate(questions):
        if not isinstance(question, dict):
            continue
        here: JsonPath = ("questions", index)
        question_id = question.get("id")
        if isinstance(question_id, str):
            if question_id in seen_ids:
                add(
                    (*here, "id"),
                    _t(
                        f"de id '{question_id}' komt al voor bij vraag {seen_ids[question_id] + 1}",
                        f"the id '{question_id}' is already used by question "
                        f"{seen_ids[question_id] + 1}",
                    ),
                )
            else:
                seen_ids[question_id] = index

        qtype = question.get("type")
        options = question.get("options")
        if qtype in ("multiple_choice", "poll") and isinstance(options, list):
            if (
                qtype == "multiple_choice"
                and options
                and not any(isinstance(o, dict) and o.get("correct") is True for o in options)
            ):
                add(
                    (*here, "options"),
                    _t(
                        'er is geen goed antwoord: zet bij minstens één antwoord "correct": true',
                        'there is no right answer: set "correct": true on at least one answer',
                    ),
                )
            seen_texts: dict[str, int] = {}
            for number, option in enumerate(options):
                text = option.get("text") if isinstance(option, dict) else None
                if not isinstance(text, str) or not text.strip():
                    continue
                key = " ".join(text.split()).casefold()
                if key in seen_texts:
                    add(
                        (*here, "options", number, "text"),
                        _t(
                            f"de tekst {_show(text)} komt al voor bij antwoord "
                            f"{seen_texts[key] + 1}",
                            f"the text {_show(text)} is already used by answer "
                            f"{seen_texts[key] + 1}",
                        ),
                    )
                else:
                    seen_texts[key] = number

        estimate = question.get("estimate")
        if qtype == "estimate" and isinstance(estimate, dict):
            low: Any = estimate.get("min")
            high: Any = estimate.get("max")
            answer: Any = estimate.get("answer")
            if _is_finite_number(low) and _is_finite_number(high):
                if low >= high:
                    add(
                        (*here, "estimate", "min"),
                        _t(
                            f"het minimum ({_num(low)}) moet kleiner zijn dan het maximum "
                            f"({_num(high)})",
                            f"the minimum ({_num(low)}) must be less than the maximum "
                            f"({_num(high)})",
                        ),
                    )
                elif _is_finite_number(answer) and not low <= answer <= high:
                    add(
                        (*here, "estimate", "answer"),
                        _t(
                            f"het antwoord ({_num(answer)}) moet tussen het minimum "
                            f"({_num(low)}) en het maximum ({_num(high)}) liggen",
                            f"the answer ({_num(answer)}) must lie between the minimum "
                            f"({_num(low)}) and the maximum ({_num(high)})",
                        ),
                    )
    return issues


# --------------------------------------------------------------------------------------
# Ordering


def _position(quiz: Any, path: JsonPath) -> tuple[int, ...]:
    """Sort key: where ``path`` sits in the file (missing fields after the present ones)."""
    key: list[int] = []
    node: Any = quiz
    for part in path:
        if isinstance(node, dict) and not isinstance(part, int):
            keys = list(node)
            if part in node:
                key.append(keys.index(part))
                node = node[part]
            else:
                key.append(len(keys) + _FIELD_ORDER.get(str(part), len(_FIELD_ORDER)))
                node = None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            key.append(part)
            node = node[part]
        elif isinstance(node, dict) and part in node:
            key.append(list(node).index(part))
            node = node[part]
        else:
            key.append(1 << 30)
            node = None
    return tuple(key)


def _finish(quiz: Any, issues: list[_Issue], head: list[_Issue] | None = None) -> list[QuizIssue]:
    ordered = sorted(issues, key=lambda item: _position(quiz, item.path))
    seen: set[tuple[str, str]] = set()
    result: list[QuizIssue] = []
    for item in [*(head or []), *ordered]:
        public = QuizIssue(format_path(item.path), item.message)
        marker = (public.path, public.message)
        if marker not in seen:
            seen.add(marker)
            result.append(public)
    return result


# --------------------------------------------------------------------------------------
# Public entry points


def apply_defaults(quiz: dict[str, Any]) -> dict[str, Any]:
    """Return a deep copy of a (valid) quiz with all defaults filled in.

    time_limit=20, points=1000 (0 for a poll), correct=False on multiple-choice options,
    estimate tolerance = 5% of (max - min). Integral floats in time_limit/points become ints.
    """
    out: dict[str, Any] = copy.deepcopy(quiz)
    questions = out.get("questions")
    if not isinstance(questions, list):
        return out
    for question in questions:
        if not isinstance(question, dict):
            continue
        qtype = question.get("type")
        question.setdefault("time_limit", DEFAULT_TIME_LIMIT)
        question.setdefault("points", 0 if qtype == "poll" else DEFAULT_POINTS)
        for name in ("time_limit", "points"):
            number = question[name]
            if isinstance(number, float) and number.is_integer():
                question[name] = int(number)
        options = question.get("options")
        if qtype == "multiple_choice" and isinstance(options, list):
            for option in options:
                if isinstance(option, dict):
                    option.setdefault("correct", False)
        estimate = question.get("estimate")
        if qtype == "estimate" and isinstance(estimate, dict) and "tolerance" not in estimate:
            low: Any = estimate.get("min")
            high: Any = estimate.get("max")
            if _is_number(low) and _is_number(high):
                estimate["tolerance"] = round(DEFAULT_TOLERANCE_FRACTION * (high - low), 6)
    return out


def validate_quiz(obj: Any, lang: str = "nl") -> ValidationResult:
    """Validate an already parsed quiz; reports all errors at once, in file order, with
    messages in `lang` ("nl" or "en")."""
    token = _LANG.set(lang if lang in LANGS else "nl")
    try:
        return _validate(obj, [])
    finally:
        _LANG.reset(token)


def _validate(obj: Any, head: list[_Issue]) -> ValidationResult:
    described: list[tuple[bool, list[_Issue]]] = []
    forbidden: set[JsonPath] = set()
    for error in _validator().iter_errors(obj):
        is_forbidden = error.validator == "not" and error.validator_value == {}
        if is_forbidden:
            forbidden.add(tuple(error.absolute_path))
        described.append((is_forbidden, _describe_error(error, obj)))

    def inside_forbidden(path: JsonPath) -> bool:
        return any(path[: len(bad)] == bad for bad in forbidden)

    # a field that does not belong to this question type gets one message, nothing about
    # its contents
    issues = [
        item
        for is_forbidden, items in described
        for item in items
        if is_forbidden or not inside_forbidden(item.path)
    ]
    issues.extend(item for item in _semantic_issues(obj) if not inside_forbidden(item.path))
    errors = _finish(obj, issues, head)
    if errors:
        return ValidationResult(quiz=None, errors=errors)
    return ValidationResult(quiz=apply_defaults(obj), errors=[])


_JSON_MESSAGES: list[tuple[str, str]] = [
    (
        "Expecting property name enclosed in double quotes",
        "veldnaam tussen dubbele aanhalingstekens verwacht",
    ),
    ("Expecting value", "waarde verwacht"),
    ("Expecting ',' delimiter", "komma verwacht"),
    ("Expecting ':' delimiter", "dubbele punt verwacht"),
    ("Extra data", "extra tekst na het einde van de JSON"),
    ("Unterminated string", "tekst zonder afsluitend aanhalingsteken"),
    ("Invalid control character", "ongeldig teken in tekst (gebruik \\n voor een nieuwe regel)"),
    ("Invalid \\uXXXX escape", "ongeldige \\u-code"),
    ("Invalid \\escape", "ongeldige backslash-code"),
    ("Illegal trailing comma", "overbodige komma aan het einde"),
]


_JSON_MESSAGES_EN: dict[str, str] = {
    "Expecting property name enclosed in double quotes": "field name in double quotes expected",
    "Expecting value": "value expected",
    "Expecting ',' delimiter": "comma expected",
    "Expecting ':' delimiter": "colon expected",
    "Extra data": "extra text after the end of the JSON",
    "Unterminated string": "text without a closing quote",
    "Invalid control character": "invalid character in text (use \\n for a new line)",
    "Invalid \\uXXXX escape": "invalid \\u code",
    "Invalid \\escape": "invalid backslash code",
    "Illegal trailing comma": "superfluous comma at the end",
}


def _dutch_json_message(message: str) -> str:
    """The JSON parser's message in words for people (Dutch, or English)."""
    for english, dutch in _JSON_MESSAGES:
        if message.startswith(english):
            return _t(dutch, _JSON_MESSAGES_EN.get(english, english))
    return _t("ongeldige opbouw", "invalid structure")


class _NonFiniteNumber(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _reject_constant(name: str) -> Any:
    raise _NonFiniteNumber(name)


def _pairs_hook(duplicates: list[str]) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    return hook


def _file_error(message: str) -> ValidationResult:
    return ValidationResult(quiz=None, errors=[QuizIssue("", message)])


def validate_quiz_bytes(raw: bytes, lang: str = "nl") -> ValidationResult:
    """Validate an uploaded file: size, UTF-8 (BOM allowed), JSON syntax, then the quiz; the
    messages in `lang` ("nl" or "en"; the places are numbered from 1 in both)."""
    token = _LANG.set(lang if lang in LANGS else "nl")
    try:
        return _validate_bytes(raw)
    finally:
        _LANG.reset(token)


def validation_messages(lang: str, make: Callable[[], str]) -> str:
    """`make()`'s message in `lang`, for messages made outside a validation."""
    token = _LANG.set(lang if lang in LANGS else "nl")
    try:
        return make()
    finally:
        _LANG.reset(token)


def too_large_message(size: int | None = None) -> str:
    limit = MAX_QUIZ_BYTES // 1024
    if size is None:
        return _t(f"het bestand is groter dan {limit} KiB", f"the file is larger than {limit} KiB")
    kib = math.ceil(size / 1024)
    return _t(
        f"het bestand is groter dan {limit} KiB (nu {kib} KiB)",
        f"the file is larger than {limit} KiB (now {kib} KiB)",
    )


def _validate_bytes(raw: bytes) -> ValidationResult:
    if len(raw) > MAX_QUIZ_BYTES:
        return _file_error(too_large_message(len(raw)))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return _file_error(
            _t(
                f"het bestand is geen UTF-8-tekst (ongeldige byte op positie {exc.start + 1}); "
                "sla het op als UTF-8",
                f"the file is not UTF-8 text (invalid byte at position {exc.start + 1}); "
                "save it as UTF-8",
            )
        )
    if not text.strip():
        return _file_error(_t("het bestand is leeg", "the file is empty"))
    duplicates: list[str] = []
    try:
        parsed = json.loads(
            text, object_pairs_hook=_pairs_hook(duplicates), parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        return _file_error(
            _t(
                f"het bestand is geen geldige JSON (regel {exc.lineno}, kolom {exc.colno}: "
                f"{_dutch_json_message(exc.msg)})",
                f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{_dutch_json_message(exc.msg)})",
            )
        )
    except _NonFiniteNumber as exc:
        return _file_error(
            _t(
                f"het bestand is geen geldige JSON ({exc.name} is geen geldig getal in JSON)",
                f"the file is not valid JSON ({exc.name} is not a valid number in JSON)",
            )
        )
    except RecursionError:
        return _file_error(
            _t(
                "het bestand is geen geldige JSON (te diep genest)",
                "the file is not valid JSON (nested too deeply)",
            )
        )
    except ValueError:
        return _file_error(
            _t(
                "het bestand is geen geldige JSON (een getal heeft te veel cijfers)",
                "the file is not valid JSON (a number has too many digits)",
            )
        )
    head = [
        _Issue(
            (),
            _t(
                f"het veld '{name}' komt meer dan eens voor in hetzelfde object",
                f"the field '{name}' occurs more than once in the same object",
            ),
        )
        for name in dict.fromkeys(duplicates)
    ]
    return _validate(parsed, head)
