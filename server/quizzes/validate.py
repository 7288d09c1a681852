"""Validation of quiz files (format 1) with readable Dutch error messages.

A quiz author uploads a JSON file; this module checks it against
``quizzes/schema.json`` (JSON Schema draft 2020-12) plus a few semantic rules a schema
cannot express, and reports *all* problems at once, sorted by their position in the
file. Every message is Dutch and names the place in human words, e.g.
``"vraag 2, antwoord 3: de tekst ontbreekt"``; ``QuizIssue.path`` holds the technical
location (``"questions[1].options[2].text"``, ``""`` for the whole file).

Public API: :data:`MAX_QUIZ_BYTES`, :class:`QuizIssue`, :class:`ValidationResult`,
:func:`validate_quiz_bytes`, :func:`validate_quiz`, :func:`apply_defaults`,
:func:`load_schema`. The wording of the messages is in server/quizzes/wording.py.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from server import resources
from server.quizzes.wording import (
    FIELD_ORDER,
    LANGS,
    MESSAGE_LANG,
    SURROGATE,
    Issue,
    JsonPath,
    compose,
    describe_error,
    format_path,
    is_finite_number,
    is_number,
    show_number,
    show_value,
    subject_of,
    t,
)

MAX_QUIZ_BYTES = 256 * 1024
SCHEMA_PATH = resources.schema_path()

DEFAULT_TIME_LIMIT = 20
DEFAULT_POINTS = 1000
DEFAULT_TOLERANCE_FRACTION = 0.05


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


def _semantic_issues(quiz: Any) -> list[Issue]:
    issues: list[Issue] = []

    def add(at: JsonPath, text: str) -> None:
        issues.append(Issue(at, compose(at, text)))

    for at, node in _walk(quiz, ()):
        if isinstance(node, float) and not math.isfinite(node):
            add(
                at,
                t(
                    f"{subject_of(at)} moet een gewoon getal zijn (nu {node})",
                    f"{subject_of(at)} must be an ordinary number (now {node})",
                ),
            )
        elif isinstance(node, str) and SURROGATE.search(node):
            add(
                at,
                t(
                    f"{subject_of(at)} bevat een ongeldig teken",
                    f"{subject_of(at)} contains an invalid character",
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
                    t(
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
                    t(
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
                        t(
                            f"de tekst {show_value(text)} komt al voor bij antwoord "
                            f"{seen_texts[key] + 1}",
                            f"the text {show_value(text)} is already used by answer "
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
            if is_finite_number(low) and is_finite_number(high):
                if low >= high:
                    add(
                        (*here, "estimate", "min"),
                        t(
                            f"het minimum ({show_number(low)}) moet kleiner zijn dan het maximum "
                            f"({show_number(high)})",
                            f"the minimum ({show_number(low)}) must be less than the maximum "
                            f"({show_number(high)})",
                        ),
                    )
                elif is_finite_number(answer) and not low <= answer <= high:
                    add(
                        (*here, "estimate", "answer"),
                        t(
                            f"het antwoord ({show_number(answer)}) moet tussen het minimum "
                            f"({show_number(low)}) en het maximum ({show_number(high)}) liggen",
                            f"the answer ({show_number(answer)}) must lie between the minimum "
                            f"({show_number(low)}) and the maximum ({show_number(high)})",
                        ),
                    )
    return issues


# --------------------------------------------------------------------------------------
# Ordering


def _position(quiz: Any, path: JsonPath) -> tuple[int, ...]:
    """Sort key: where ``path`` sits in the file. A missing field sorts where it would be
    added in the canonical order (FIELD_ORDER): a quiz without an author hears so before the
    errors in its questions, a question without a text before the errors in its options."""
    key: list[int] = []
    node: Any = quiz
    for part in path:
        if isinstance(node, dict) and not isinstance(part, int):
            keys = list(node)
            if part in node:
                key.append((2 * keys.index(part) + 1) * _SLOT)
                node = node[part]
            else:
                rank = FIELD_ORDER.get(str(part), len(FIELD_ORDER))
                # before the first present field that comes after it (unknown ones do not
                # count: their "did you mean" stays before the missing field it names)
                slot = next(
                    (i for i, k in enumerate(keys) if FIELD_ORDER.get(str(k), -1) > rank),
                    len(keys),
                )
                key.append(2 * slot * _SLOT + rank)
                node = None
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            key.append(part)
            node = node[part]
        elif isinstance(node, dict) and part in node:
            key.append((2 * list(node).index(part) + 1) * _SLOT)
            node = node[part]
        else:
            key.append(1 << 30)
            node = None
    return tuple(key)


_SLOT = 1024  # room between two present fields for the missing ones (more than FIELD_ORDER)


def _finish(quiz: Any, issues: list[Issue], head: list[Issue] | None = None) -> list[QuizIssue]:
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
            if is_number(low) and is_number(high):
                estimate["tolerance"] = round(DEFAULT_TOLERANCE_FRACTION * (high - low), 6)
    return out


def validate_quiz(obj: Any, lang: str = "nl") -> ValidationResult:
    """Validate an already parsed quiz; reports all errors at once, in file order, with
    messages in `lang` ("nl" or "en")."""
    token = MESSAGE_LANG.set(lang if lang in LANGS else "nl")
    try:
        return _validate(obj, [])
    finally:
        MESSAGE_LANG.reset(token)


def _validate(obj: Any, head: list[Issue]) -> ValidationResult:
    described: list[tuple[bool, list[Issue]]] = []
    forbidden: set[JsonPath] = set()
    for error in _validator().iter_errors(obj):
        is_forbidden = error.validator == "not" and error.validator_value == {}
        if is_forbidden:
            forbidden.add(tuple(error.absolute_path))
        described.append((is_forbidden, describe_error(error, obj)))

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
            return t(dutch, _JSON_MESSAGES_EN.get(english, english))
    return t("ongeldige opbouw", "invalid structure")


# Quotes a word processor puts in place of the straight " that JSON needs.
_CURLY_QUOTES = "\u201c\u201d\u201e\u201f\u2018\u2019\u201a\u201b\u00ab\u00bb"


def _syntax_error(text: str, exc: json.JSONDecodeError) -> str:
    """A JSON syntax error where an author can find and mend it: a comma after the last part
    of a list or object is named at the comma, and curly quotes (from Word) are named as such;
    else the parser's own message, in words."""
    at = text[exc.pos : exc.pos + 1]
    before = text[: exc.pos].rstrip()
    if at in ("]", "}") and before.endswith(","):
        comma = len(before) - 1
        line = text.count("\n", 0, comma) + 1
        column = comma - (text.rfind("\n", 0, comma) + 1) + 1
        return t(
            f"het bestand is geen geldige JSON (regel {line}, kolom {column}: een komma te veel "
            f"vóór ‘{at}’; na het laatste onderdeel van een lijst of object staat geen komma)",
            f"the file is not valid JSON (line {line}, column {column}: a comma too many before "
            f"‘{at}’; the last part of a list or object has no comma after it)",
        )
    if at and at in _CURLY_QUOTES:
        return t(
            f"het bestand is geen geldige JSON (regel {exc.lineno}, kolom {exc.colno}: een "
            f"gekruld aanhalingsteken {at}, bijvoorbeeld uit Word; JSON vraagt rechte "
            'aanhalingstekens "; bewerk het bestand in een teksteditor zoals Kladblok)',
            f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: a curly quote "
            f'{at}, e.g. from Word; JSON needs straight quotes "; edit the file in a plain text '
            "editor such as Notepad)",
        )
    return t(
        f"het bestand is geen geldige JSON (regel {exc.lineno}, kolom {exc.colno}: "
        f"{_dutch_json_message(exc.msg)})",
        f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: "
        f"{_dutch_json_message(exc.msg)})",
    )


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
    token = MESSAGE_LANG.set(lang if lang in LANGS else "nl")
    try:
        return _validate_bytes(raw)
    finally:
        MESSAGE_LANG.reset(token)


def validation_messages(lang: str, make: Callable[[], str]) -> str:
    """`make()`'s message in `lang`, for messages made outside a validation."""
    token = MESSAGE_LANG.set(lang if lang in LANGS else "nl")
    try:
        return make()
    finally:
        MESSAGE_LANG.reset(token)


def too_large_message(size: int | None = None) -> str:
    limit = MAX_QUIZ_BYTES // 1024
    if size is None:
        return t(f"het bestand is groter dan {limit} KiB", f"the file is larger than {limit} KiB")
    kib = math.ceil(size / 1024)
    return t(
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
            t(
                "het bestand is geen JSON-tekst maar bijvoorbeeld een Word- of PDF-bestand "
                f"(geen UTF-8: ongeldige byte op positie {exc.start + 1}); kies het .json-bestand "
                "van de quiz, of sla de tekst op als UTF-8",
                "the file is no JSON text but e.g. a Word or PDF file (not UTF-8: invalid byte "
                f"at position {exc.start + 1}); choose the quiz's .json file, or save the text "
                "as UTF-8",
            )
        )
    if not text.strip():
        return _file_error(t("het bestand is leeg", "the file is empty"))
    duplicates: list[str] = []
    try:
        parsed = json.loads(
            text, object_pairs_hook=_pairs_hook(duplicates), parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        return _file_error(_syntax_error(text, exc))
    except _NonFiniteNumber as exc:
        return _file_error(
            t(
                f"het bestand is geen geldige JSON ({exc.name} is geen geldig getal in JSON)",
                f"the file is not valid JSON ({exc.name} is not a valid number in JSON)",
            )
        )
    except RecursionError:
        return _file_error(
            t(
                "het bestand is geen geldige JSON (te diep genest)",
                "the file is not valid JSON (nested too deeply)",
            )
        )
    except ValueError:
        return _file_error(
            t(
                "het bestand is geen geldige JSON (een getal heeft te veel cijfers)",
                "the file is not valid JSON (a number has too many digits)",
            )
        )
    head = [
        Issue(
            (),
            t(
                f"het veld '{name}' komt meer dan eens voor in hetzelfde object",
                f"the field '{name}' occurs more than once in the same object",
            ),
        )
        for name in dict.fromkeys(duplicates)
    ]
    return _validate(parsed, head)
