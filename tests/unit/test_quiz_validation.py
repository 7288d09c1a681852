"""Quiz file validation: schema, semantic checks, Dutch messages, examples and the CLI check."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from server.quizzes.check import check_files
from server.quizzes.validate import (
    MAX_QUIZ_BYTES,
    QuizIssue,
    ValidationResult,
    apply_defaults,
    load_schema,
    validate_quiz,
    validate_quiz_bytes,
)
from server.quizzes.wording import describe_place, format_path

ROOT = Path(__file__).resolve().parents[2]
BAD_DIR = ROOT / "tests" / "data" / "bad_quizzes"
QUIZ_DIR = ROOT / "quizzes"
# The playable examples; `_voorbeeldbestand.json` is the file authors start from (not played).
EXAMPLES = sorted(
    p for p in QUIZ_DIR.glob("*.json") if p.name != "schema.json" and not p.name.startswith("_")
)

# fragments of English jsonschema / json messages that must never reach a quiz author
ENGLISH_FRAGMENTS = (
    "is a required property",
    "is not of type",
    "is not one of",
    "should not be valid",
    "Additional properties",
    "does not match",
    "is too long",
    "is too short",
    "is less than",
    "is greater than",
    "False schema",
    "was expected",
    "Expecting",
    "non-empty",
)

MINIMAL: dict[str, Any] = {
    "format": 1,
    "id": "mini",
    "title": "Mini",
    "theme": "Test",
    "author": "Team",
    "language": "nl",
    "questions": [
        {
            "id": "q1",
            "type": "multiple_choice",
            "text": "Wie kun je inschakelen bij schulden?",
            "options": [{"text": "Schuldhulp", "correct": True}, {"text": "Niemand"}],
        },
        {"id": "q2", "type": "true_false", "text": "Waar?", "answer": True},
        {
            "id": "q3",
            "type": "poll",
            "text": "Hoe gaat het?",
            "options": [{"text": "Goed"}, {"text": "Matig"}],
        },
        {
            "id": "q4",
            "type": "estimate",
            "text": "Hoeveel?",
            "estimate": {"answer": 7, "min": 0, "max": 20},
        },
    ],
}

# file -> (path, Dutch message fragment) pairs that must all be reported
BAD_EXPECTATIONS: dict[str, list[tuple[str, str]]] = {
    "not_json.json": [("", "het bestand is geen geldige JSON (regel 4, kolom 3: komma verwacht)")],
    "trailing_comma.json": [
        (
            "",
            "het bestand is geen geldige JSON (regel 3, kolom 16: een komma te veel vóór ‘}’; "
            "na het laatste onderdeel van een lijst of object staat geen komma)",
        )
    ],
    "latin1.json": [("", "het bestand is geen JSON-tekst maar bijvoorbeeld een Word- of PDF")],
    "empty_file.json": [("", "het bestand is leeg")],
    "too_big.json": [("", "het bestand is groter dan 256 KiB")],
    "nan_number.json": [("", "NaN is geen geldig getal")],
    "duplicate_key.json": [("", "het veld 'title' komt meer dan eens voor")],
    "empty_object.json": [
        ("format", 'het formaat ontbreekt (zet "format": 1)'),
        ("id", "de id ontbreekt"),
        ("title", "de titel ontbreekt"),
        ("theme", "het thema ontbreekt"),
        ("author", "de auteur ontbreekt"),
        ("language", "de taal ontbreekt"),
        ("questions", "de lijst met vragen ontbreekt"),
    ],
    "top_level_array.json": [("", "de quiz moet een object ({…}) zijn (nu een lijst)")],
    "duplicate_question_ids.json": [
        ("questions[2].id", "vraag 3: de id 'q1' komt al voor bij vraag 1")
    ],
    "unknown_field_top.json": [("colour", "onbekend veld 'colour'")],
    "unknown_field_question.json": [("questions[3].colour", "vraag 4: onbekend veld 'colour'")],
    "time_limit_3.json": [
        (
            "questions[0].time_limit",
            "vraag 1: de tijdslimiet moet tussen 5 en 240 seconden liggen (nu 3)",
        )
    ],
    "time_limit_500.json": [
        (
            "questions[1].time_limit",
            "vraag 2: de tijdslimiet moet tussen 5 en 240 seconden liggen (nu 500)",
        )
    ],
    "points_500.json": [
        ("questions[0].points", "vraag 1: het aantal punten moet 0, 1000 of 2000 zijn (nu 500)")
    ],
    "mc_one_option.json": [
        ("questions[0].options", "vraag 1: er moeten minstens 2 antwoorden zijn (nu 1)")
    ],
    "mc_seven_options.json": [
        ("questions[0].options", "vraag 1: er mogen hoogstens 6 antwoorden zijn (nu 7)")
    ],
    "mc_no_correct.json": [("questions[0].options", "vraag 1: er is geen goed antwoord")],
    "option_text_missing.json": [
        ("questions[0].options[2].text", "vraag 1, antwoord 3: de tekst ontbreekt")
    ],
    "poll_with_correct.json": [
        (
            "questions[2].options[1].correct",
            "vraag 3, antwoord 2: een peiling heeft geen goed antwoord",
        )
    ],
    "poll_with_points.json": [("questions[2].points", "vraag 3: een peiling geeft geen punten")],
    "estimate_min_gt_max.json": [
        (
            "questions[3].estimate.min",
            "vraag 4, schatting: het minimum (15) moet kleiner zijn dan het maximum (1)",
        )
    ],
    "estimate_answer_out_of_range.json": [
        (
            "questions[3].estimate.answer",
            "vraag 4, schatting: het antwoord (70) moet tussen het minimum (1)",
        )
    ],
    "learn_more_javascript_url.json": [
        (
            "questions[1].learn_more[0].url",
            "vraag 2, link 1: de url moet beginnen met http:// of https://",
        )
    ],
    "wrong_type.json": [
        ("title", "de titel moet tekst zijn (nu een geheel getal)"),
        (
            "questions[1].time_limit",
            "vraag 2: de tijdslimiet moet een geheel getal zijn (nu tekst)",
        ),
    ],
    "unknown_question_type.json": [("questions[1].type", "vraag 2: onbekend vraagtype 'open'")],
    "true_false_with_options.json": [
        ("questions[1].options", "vraag 2: het veld 'options' hoort niet bij een waar/onwaar-vraag")
    ],
    "true_false_without_answer.json": [("questions[1].answer", "vraag 2: het antwoord ontbreekt")],
    "bad_quiz_id.json": [
        ("id", "de id mag alleen kleine letters (a-z), cijfers en streepjes bevatten")
    ],
    "format_and_language.json": [
        ("format", "het formaat moet 1 zijn (nu 2)"),
        ("language", "de taal moet 'nl' of 'en' zijn (nu 'de')"),
    ],
    "duplicate_option_texts.json": [
        (
            "questions[0].options[2].text",
            "vraag 1, antwoord 3: de tekst ' schuldhulp van de  gemeente' komt al voor bij "
            "antwoord 1",
        )
    ],
    "no_questions.json": [("questions", "er moet minstens 1 vraag zijn (nu 0)")],
    "too_many_questions.json": [("questions", "er mogen hoogstens 50 vragen zijn (nu 51)")],
    "text_length.json": [
        ("questions[0].text", "vraag 1: de tekst is te lang (maximaal 200 tekens, nu 301)"),
        ("questions[0].options[1].text", "vraag 1, antwoord 2: de tekst is leeg"),
    ],
    "too_many_links_and_experts.json": [
        ("questions[1].learn_more", "vraag 2: er mogen hoogstens 3 links zijn (nu 6)"),
        ("questions[1].experts", "vraag 2: er mogen hoogstens 3 experts zijn (nu 11)"),
    ],
    "many_mistakes.json": [
        ("author", "de auteur ontbreekt"),  # where it would go: after "language"
        (
            "questions[0].options[1].tekst",
            "vraag 1, antwoord 2: onbekend veld 'tekst' (bedoel je 'text'?)",
        ),
        ("questions[0].options[1].text", "vraag 1, antwoord 2: de tekst ontbreekt"),
        (
            "questions[0].time_limit",
            "vraag 1: de tijdslimiet moet tussen 5 en 240 seconden liggen (nu 3)",
        ),
        ("questions[1].id", "vraag 2: de id 'q1' komt al voor bij vraag 1"),
        (
            "questions[2].options[0].correct",
            "vraag 3, antwoord 1: een peiling heeft geen goed antwoord",
        ),
        (
            "questions[3].estimate.min",
            "vraag 4, schatting: het minimum (100) moet kleiner zijn dan het maximum (15)",
        ),
        ("titel", "onbekend veld 'titel' (bedoel je 'title'?)"),
    ],
}


def _errors_text(result: ValidationResult) -> str:
    return "\n".join(f"{e.path!r}: {e.message}" for e in result.errors)


def _assert_dutch(issue: QuizIssue) -> None:
    assert isinstance(issue.path, str)
    assert isinstance(issue.message, str) and issue.message.strip()
    for fragment in ENGLISH_FRAGMENTS:
        assert fragment not in issue.message, issue


# ---------------------------------------------------------------------------------------------
# bad fixtures


def test_bad_fixture_table_covers_every_file() -> None:
    files = {p.name for p in BAD_DIR.iterdir() if p.is_file()}
    assert len(files) >= 15
    assert files == set(BAD_EXPECTATIONS)


@pytest.mark.parametrize("name", sorted(BAD_EXPECTATIONS))
def test_bad_fixture_reports_expected_dutch_errors(name: str) -> None:
    result = validate_quiz_bytes((BAD_DIR / name).read_bytes())
    assert result.quiz is None
    assert result.errors, name
    for issue in result.errors:
        _assert_dutch(issue)
    for path, fragment in BAD_EXPECTATIONS[name]:
        assert any(e.path == path and fragment in e.message for e in result.errors), (
            f"{name}: expected {path!r} ~ {fragment!r}, got:\n{_errors_text(result)}"
        )


def test_several_mistakes_are_reported_at_once_in_file_order() -> None:
    result = validate_quiz_bytes((BAD_DIR / "many_mistakes.json").read_bytes())
    expected = BAD_EXPECTATIONS["many_mistakes.json"]
    assert len(result.errors) == len(expected), _errors_text(result)
    for issue, (path, fragment) in zip(result.errors, expected, strict=True):
        assert issue.path == path
        assert fragment in issue.message


def test_a_missing_field_is_reported_where_it_would_be_added() -> None:
    """Not after everything present: a question without a text hears so before its options'
    errors, and a missing field of the whole file comes before the questions' errors."""
    quiz = copy.deepcopy(MINIMAL)
    del quiz["questions"][0]["text"]
    quiz["questions"][0]["options"][0]["text"] = ""
    del quiz["title"]
    quiz["questions"][1]["time_limit"] = 3
    paths = [e.path for e in validate_quiz(quiz).errors]
    assert paths == [
        "title",
        "questions[0].text",
        "questions[0].options[0].text",
        "questions[1].time_limit",
    ], paths


def test_empty_object_lists_every_missing_field_in_canonical_order() -> None:
    result = validate_quiz({})
    assert [e.path for e in result.errors] == [p for p, _ in BAD_EXPECTATIONS["empty_object.json"]]


def test_forbidden_field_gets_one_message_not_its_contents() -> None:
    quiz = copy.deepcopy(MINIMAL)
    quiz["questions"][1]["options"] = [{"text": ""}]  # wrong type *and* broken contents
    result = validate_quiz(quiz)
    assert [e.path for e in result.errors] == ["questions[1].options"]


def test_poll_with_bad_points_value_gets_a_single_poll_message() -> None:
    quiz = copy.deepcopy(MINIMAL)
    quiz["questions"][2]["points"] = 500
    result = validate_quiz(quiz)
    assert len(result.errors) == 1
    assert "een peiling geeft geen punten" in result.errors[0].message


def test_wrong_field_for_type_names_the_type() -> None:
    quiz = copy.deepcopy(MINIMAL)
    quiz["questions"][3]["answer"] = True
    quiz["questions"][0]["estimate"] = {"answer": 1, "min": 0, "max": 2}
    messages = [e.message for e in validate_quiz(quiz).errors]
    assert messages == [
        "vraag 1: het veld 'estimate' hoort niet bij een meerkeuzevraag (alleen bij estimate)",
        "vraag 4: het veld 'answer' hoort niet bij een schattingsvraag (alleen bij true_false)",
    ]


def test_dutch_field_name_gets_a_hint() -> None:
    quiz = copy.deepcopy(MINIMAL)
    quiz["questions"][0]["tijdslimiet"] = 20
    (issue,) = validate_quiz(quiz).errors
    assert issue.message == "vraag 1: onbekend veld 'tijdslimiet' (bedoel je 'time_limit'?)"


def test_an_estimate_may_name_its_unit_for_exactly_one() -> None:
    """Trial 8: the demo's scale read "1 stickers … 12 stickers". `unit_one` gives the word for
    exactly 1; its Dutch name gets a hint, and it is as short as the unit."""
    quiz = copy.deepcopy(MINIMAL)
    quiz["questions"][3]["estimate"] |= {"unit": "stickers", "unit_one": "sticker"}
    assert validate_quiz(quiz).errors == []
    quiz["questions"][3]["estimate"]["unit_one"] = "s" * 17
    (issue,) = validate_quiz(quiz).errors
    assert issue.message.startswith("vraag 4, schatting: de eenheid bij precies 1 is te lang"), (
        issue
    )
    del quiz["questions"][3]["estimate"]["unit_one"]
    quiz["questions"][3]["estimate"]["eenheid_enkelvoud"] = "sticker"
    (issue,) = validate_quiz(quiz).errors
    assert issue.message.endswith("onbekend veld 'eenheid_enkelvoud' (bedoel je 'unit_one'?)")


def test_non_finite_and_surrogate_values_from_python_are_rejected() -> None:
    quiz = copy.deepcopy(MINIMAL)
    quiz["questions"][3]["estimate"]["answer"] = float("inf")
    quiz["questions"][0]["text"] = "kapot \ud800"
    paths = {e.path for e in validate_quiz(quiz).errors}
    assert {"questions[0].text", "questions[3].estimate.answer"} <= paths


def test_size_limit_is_inclusive() -> None:
    raw = json.dumps(MINIMAL).encode()
    padded = raw + b" " * (MAX_QUIZ_BYTES - len(raw))
    assert len(padded) == MAX_QUIZ_BYTES
    assert validate_quiz_bytes(padded).errors == []
    assert (
        validate_quiz_bytes(padded + b" ")
        .errors[0]
        .message.startswith("het bestand is groter dan 256 KiB")
    )


def test_utf8_bom_is_allowed() -> None:
    result = validate_quiz_bytes(b"\xef\xbb\xbf" + json.dumps(MINIMAL, ensure_ascii=False).encode())
    assert result.errors == []
    assert result.quiz is not None


def test_deeply_nested_json_is_an_error_not_a_crash() -> None:
    result = validate_quiz_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert result.quiz is None
    assert result.errors and result.errors[0].path == ""


# ---------------------------------------------------------------------------------------------
# defaults and helpers


def test_valid_quiz_gets_defaults_and_input_is_not_mutated() -> None:
    original = copy.deepcopy(MINIMAL)
    result = validate_quiz(original)
    assert result.errors == []
    assert original == MINIMAL
    quiz = result.quiz
    assert quiz is not None
    mc, tf, poll, est = quiz["questions"]
    assert mc["time_limit"] == 20 and mc["points"] == 1000
    assert [o["correct"] for o in mc["options"]] == [True, False]
    assert tf["points"] == 1000
    assert poll["points"] == 0
    assert all("correct" not in o for o in poll["options"])
    assert est["estimate"]["tolerance"] == pytest.approx(1.0)


def test_apply_defaults_keeps_explicit_values_and_normalises_integral_floats() -> None:
    quiz = copy.deepcopy(MINIMAL)
    quiz["questions"][0]["time_limit"] = 30.0
    quiz["questions"][0]["points"] = 2000
    quiz["questions"][3]["estimate"]["tolerance"] = 0
    out = apply_defaults(quiz)
    assert out["questions"][0]["time_limit"] == 30
    assert isinstance(out["questions"][0]["time_limit"], int)
    assert out["questions"][0]["points"] == 2000
    assert out["questions"][3]["estimate"]["tolerance"] == 0
    assert "correct" not in quiz["questions"][0]["options"][1]


def test_paths_and_places() -> None:
    assert format_path(()) == ""
    assert format_path(("questions", 1, "options", 2, "text")) == "questions[1].options[2].text"
    assert describe_place(("questions", 1, "options", 2)) == "vraag 2, antwoord 3"
    assert describe_place(("questions", 0, "learn_more", 4)) == "vraag 1, link 5"
    assert describe_place(("questions", 0, "experts", 9)) == "vraag 1, expert 10"
    assert describe_place(("questions", 2, "estimate")) == "vraag 3, schatting"
    assert describe_place(("title",)) == "titel"


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


# ---------------------------------------------------------------------------------------------
# example quizzes


def test_there_are_at_least_four_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_quiz_is_valid(path: Path) -> None:
    result = validate_quiz_bytes(path.read_bytes())
    assert result.errors == [], _errors_text(result)
    quiz = result.quiz
    assert quiz is not None
    assert path.stem == quiz["id"]
    assert quiz["language"] == "nl"
    assert 3 <= len(quiz["questions"]) <= 5
    for question in quiz["questions"]:
        assert question.get("toelichting"), question["id"]
        for link in question.get("learn_more", []):
            assert link["url"].startswith("https://")


def test_examples_mix_all_question_types() -> None:
    types = {
        question["type"]
        for path in EXAMPLES
        for question in json.loads(path.read_text(encoding="utf-8"))["questions"]
    }
    assert types == {"multiple_choice", "true_false", "poll", "estimate"}


def _example(quiz_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((QUIZ_DIR / f"{quiz_id}.json").read_text(encoding="utf-8"))
    return data


def test_demo_quiz_is_three_short_questions() -> None:
    demo = _example("demo-kennisdeling")
    assert len(demo["questions"]) == 3
    assert all(10 <= q["time_limit"] <= 15 for q in demo["questions"])


def test_armoede_quiz_asks_whom_to_call_in_for_debts() -> None:
    texts = [q["text"].lower() for q in _example("armoede-en-schulden")["questions"]]
    assert any("wie kun je inschakelen bij schulden" in t for t in texts)


def test_kennisbouwstenen_quiz_names_all_seven_domains() -> None:
    text = json.dumps(_example("kennisbouwstenen-domeinen"), ensure_ascii=False).lower()
    for domain in (
        "lichamelijke gezondheid",
        "dagelijks functioneren",
        "inkomen",
        "participatie",
        "opvoeden en opgroeien",
        "veiligheid",
        "psychische gezondheid",
    ):
        assert domain in text


# ---------------------------------------------------------------------------------------------
# check_files (kenniskring check-quiz)


def test_check_files_all_valid_returns_zero(capsys: pytest.CaptureFixture[str]) -> None:
    err = io.StringIO()
    assert check_files([str(p) for p in EXAMPLES], err) == 0
    assert err.getvalue() == ""
    out = capsys.readouterr().out.splitlines()
    assert f"{EXAMPLES[0]}: in orde (" in out[0]
    assert any(line.endswith("in orde (3 vragen)") for line in out)


def test_check_files_reports_dutch_lines_and_returns_one(tmp_path: Path) -> None:
    good = tmp_path / "goed.json"
    good.write_text(json.dumps(MINIMAL), encoding="utf-8")
    bad = BAD_DIR / "many_mistakes.json"
    missing = tmp_path / "bestaat-niet.json"
    err, out = io.StringIO(), io.StringIO()
    rc = check_files(
        [str(good), str(bad), str(missing), str(BAD_DIR / "latin1.json")], err, out=out
    )
    assert rc == 1
    assert out.getvalue() == f"{good}: in orde (4 vragen)\n"
    lines = err.getvalue().splitlines()
    time_limit = "vraag 1: de tijdslimiet moet tussen 5 en 240 seconden liggen (nu 3)"
    assert f"{bad}: {time_limit}" in lines
    assert f'{bad}: de auteur ontbreekt (veld "author")' in lines
    # One numbering for people: no 0-based technical path next to "vraag 1".
    assert not any("questions[" in line for line in lines), lines
    assert f"{missing}: bestand niet gevonden" in lines
    assert any(
        line.startswith(f"{BAD_DIR / 'latin1.json'}: het bestand is geen JSON-tekst")
        for line in lines
    )
    assert len([line for line in lines if line.startswith(f"{bad}: ")]) == len(
        BAD_EXPECTATIONS["many_mistakes.json"]
    )


def test_check_files_directory_and_empty_list(tmp_path: Path) -> None:
    err = io.StringIO()
    assert check_files([str(tmp_path)], err, out=io.StringIO()) == 1
    assert "geen bestand" in err.getvalue()
    assert check_files([], io.StringIO(), out=io.StringIO()) == 1


# ---------------------------------------------------------------------------------------------
# properties


REQUIRED_QUESTION_KEYS = {
    "multiple_choice": {"id", "type", "text", "options"},
    "true_false": {"id", "type", "text", "answer"},
    "poll": {"id", "type", "text", "options"},
    "estimate": {"id", "type", "text", "estimate"},
}
REQUIRED_TOP = {"format", "id", "title", "theme", "author", "language", "questions"}
WRONG_VALUES: list[Any] = [None, True, 7, 2.5, "tekst", [], {}, [1, "x"], {"x": 1}]

Path_ = tuple[str | int, ...]


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _required_here(path: Path_, node: dict[str, Any]) -> set[str]:
    if path == ():
        return REQUIRED_TOP
    if len(path) == 2 and path[0] == "questions":
        return REQUIRED_QUESTION_KEYS.get(str(node.get("type")), {"id", "type", "text"})
    if path[-2:-1] == ("options",):
        return {"text"}
    if path[-2:-1] == ("learn_more",):
        return {"title", "url"}
    if path[-1:] == ("estimate",):
        return {"answer", "min", "max"}
    return set()


def _mutations(quiz: Any) -> list[tuple[str, Path_, Any]]:
    """Every (kind, path, value) mutation that must make this valid quiz invalid."""
    found: list[tuple[str, Path_, Any]] = []
    stack: list[tuple[Path_, Any]] = [((), quiz)]
    while stack:
        path, node = stack.pop()
        if path:
            for value in WRONG_VALUES:
                if _kind(value) != _kind(node):
                    found.append(("set", path, value))
        if isinstance(node, dict):
            for key in sorted(_required_here(path, node) & set(node)):
                found.append(("delete", (*path, key), None))
            stack.extend(((*path, key), child) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, index), child) for index, child in enumerate(node))
    return found


def _apply(quiz: Any, mutation: tuple[str, Path_, Any]) -> Any:
    kind, path, value = mutation
    out = copy.deepcopy(quiz)
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    if kind == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(value)
    return out


BASE_QUIZZES: list[Any] = [MINIMAL] + [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_single_mutation_always_gives_a_dutch_error_at_that_place(data: st.DataObject) -> None:
    base = data.draw(st.sampled_from(BASE_QUIZZES))
    mutation = data.draw(st.sampled_from(_mutations(base)))
    result = validate_quiz(_apply(base, mutation))
    assert result.quiz is None
    assert result.errors
    for issue in result.errors:
        _assert_dutch(issue)
    assert format_path(mutation[1]) in {e.path for e in result.errors}, _errors_text(result)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_several_mutations_never_raise_and_always_report(data: st.DataObject) -> None:
    quiz = data.draw(st.sampled_from(BASE_QUIZZES))
    touched: list[Path_] = []

    def disjoint(path: Path_) -> bool:
        return all(path[: len(t)] != t and t[: len(path)] != path for t in touched)

    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        options = [m for m in _mutations(quiz) if disjoint(m[1])]
        if not options:
            break
        mutation = data.draw(st.sampled_from(options))
        touched.append(mutation[1])
        quiz = _apply(quiz, mutation)
    result = validate_quiz_bytes(json.dumps(quiz).encode())
    assert result.quiz is None
    assert result.errors
    for issue in result.errors:
        _assert_dutch(issue)
        assert issue.path or issue.message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["format", "id", "title", "questions", "type", "options", "x"]),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_arbitrary_json_never_raises(value: Any) -> None:
    result = validate_quiz(value)
    assert (result.quiz is None) == bool(result.errors)
    for issue in result.errors:
        _assert_dutch(issue)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    result = validate_quiz_bytes(raw)
    assert result.quiz is None
    assert result.errors
    for issue in result.errors:
        _assert_dutch(issue)


def test_overflowing_and_overlong_numbers_are_errors_not_crashes() -> None:
    text = json.dumps(MINIMAL).replace('"answer": 7', '"answer": 1e400')
    (issue,) = validate_quiz_bytes(text.encode()).errors
    assert issue.path == "questions[3].estimate.answer"
    assert "moet een gewoon getal zijn" in issue.message
    huge = json.dumps(MINIMAL).replace('"answer": 7', '"answer": ' + "9" * 5000)
    (issue,) = validate_quiz_bytes(huge.encode()).errors
    assert issue.path == ""
    assert issue.message.startswith("het bestand is geen geldige JSON")


def test_a_comma_too_many_and_curly_quotes_are_named_where_they_are() -> None:
    """The two syntax errors authors make most: a comma after a list's last option (named at
    the comma, not at the bracket a line below) and Word's curly quotes (named as such)."""
    text = json.dumps(MINIMAL, indent=2)
    last_option = '{\n          "text": "Niemand"\n        }'
    assert last_option in text
    comma = text.replace(last_option, last_option + ",", 1)
    (issue,) = validate_quiz_bytes(comma.encode()).errors
    line = comma[: comma.index(last_option) + len(last_option)].count("\n") + 1
    assert issue.message == (
        f"het bestand is geen geldige JSON (regel {line}, kolom 10: een komma te veel vóór "
        "‘]’; na het laatste onderdeel van een lijst of object staat geen komma)"
    )
    (english,) = validate_quiz_bytes(comma.encode(), "en").errors
    assert english.message.startswith(
        f"the file is not valid JSON (line {line}, column 10: a comma"
    )
    curly = text.replace('"title": "', "\u201ctitle\u201d: \u201c", 1)
    (issue,) = validate_quiz_bytes(curly.encode()).errors
    assert "een gekruld aanhalingsteken \u201c, bijvoorbeeld uit Word" in issue.message
    assert 'JSON vraagt rechte aanhalingstekens "' in issue.message
    (english,) = validate_quiz_bytes(curly.encode(), "en").errors
    assert "a curly quote \u201c, e.g. from Word" in english.message


# ---------------------------------------------------------------------------------------------
# English messages (issue 13: upload errors in the English UI)

DUTCH_WORDS = (
    " moet ",
    "ontbreekt",
    "vraag ",
    "antwoord ",
    "het bestand",
    " veld ",
    " zijn ",
    " nu ",
    "leeg",
    "bedoel je",
    " mag ",
    "onbekend",
)


@pytest.mark.parametrize("path", sorted(BAD_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_message_has_an_english_twin(path: Path) -> None:
    raw = path.read_bytes()
    dutch = validate_quiz_bytes(raw).errors
    english = validate_quiz_bytes(raw, "en").errors
    assert [e.path for e in english] == [e.path for e in dutch]
    for nl, en in zip(dutch, english, strict=True):
        assert en.message != nl.message
        assert not any(word in f" {en.message} " for word in DUTCH_WORDS), en.message
    # The default stays Dutch, also after an English validation.
    assert validate_quiz_bytes(raw).errors == dutch


def test_english_messages_number_places_from_one() -> None:
    errors = validate_quiz_bytes((BAD_DIR / "many_mistakes.json").read_bytes(), "en").errors
    messages = [e.message for e in errors]
    assert "question 1: the time limit must be between 5 and 240 seconds (now 3)" in messages
    assert 'the author is missing (field "author")' in messages


# ---------------------------------------------------------------------------------------------
# limits: what fits the projector (tests/browser/test_projector_readability.py measures them)

# (where in MINIMAL's first question, the new value, path, Dutch message, English message)
PROJECTOR_LIMITS: list[tuple[str, Any, str, str, str]] = [
    (
        "text",
        "v" * 201,
        "questions[0].text",
        "vraag 1: de tekst is te lang (maximaal 200 tekens, nu 201)",
        "question 1: the text is too long (at most 200 characters, now 201)",
    ),
    (
        "options",
        [{"text": "a" * 65, "correct": True}, {"text": "Niemand"}],
        "questions[0].options[0].text",
        "vraag 1, antwoord 1: de tekst is te lang (maximaal 64 tekens, nu 65)",
        "question 1, answer 1: the text is too long (at most 64 characters, now 65)",
    ),
    (
        "toelichting",
        "t" * 401,
        "questions[0].toelichting",
        "vraag 1: de toelichting is te lang (maximaal 400 tekens, nu 401)",
        "question 1: the explanation (toelichting) is too long (at most 400 characters, now 401)",
    ),
    (
        "learn_more",
        [{"title": f"Bron {i}", "url": "https://www.cbs.nl/"} for i in range(4)],
        "questions[0].learn_more",
        "vraag 1: er mogen hoogstens 3 links zijn (nu 4)",
        "question 1: there may be at most 3 links (now 4)",
    ),
    (
        "learn_more",
        [{"title": "b" * 49, "url": "https://www.cbs.nl/"}],
        "questions[0].learn_more[0].title",
        "vraag 1, link 1: de titel is te lang (maximaal 48 tekens, nu 49)",
        "question 1, link 1: the title is too long (at most 48 characters, now 49)",
    ),
    (
        "experts",
        ["Fatima", "Jeroen", "Anna", "Bart"],
        "questions[0].experts",
        "vraag 1: er mogen hoogstens 3 experts zijn (nu 4)",
        "question 1: there may be at most 3 experts (now 4)",
    ),
    (
        "experts",
        ["e" * 49],
        "questions[0].experts[0]",
        "vraag 1, expert 1: de naam van de expert is te lang (maximaal 48 tekens, nu 49)",
        "question 1, expert 1: the expert's name is too long (at most 48 characters, now 49)",
    ),
]


@pytest.mark.parametrize(("field", "value", "path", "dutch", "english"), PROJECTOR_LIMITS)
def test_a_text_over_the_projector_limit_gets_a_clear_message(
    field: str, value: Any, path: str, dutch: str, english: str
) -> None:
    """Over a limit: one error naming the place, the field, the limit and the length, and why
    (the projector), in Dutch and in English."""
    quiz = copy.deepcopy(MINIMAL)
    quiz["questions"][0][field] = value
    for lang, message in (("nl", dutch), ("en", english)):
        errors = validate_quiz(quiz, lang).errors
        assert [e.path for e in errors] == [path], errors
        assert errors[0].message.startswith(message), errors[0].message
        reason = "beamer" if lang == "nl" else "projector"
        assert reason in errors[0].message, errors[0].message


@pytest.mark.parametrize(("field", "value", "path", "dutch", "english"), PROJECTOR_LIMITS)
def test_a_text_at_the_projector_limit_is_valid(
    field: str, value: Any, path: str, dutch: str, english: str
) -> None:
    """One character (or one item) less than the rejected value is accepted."""
    quiz = copy.deepcopy(MINIMAL)
    if isinstance(value, str):
        value = value[:-1]
    elif isinstance(value[0], str) and len(value) == 1:
        value = [value[0][:-1]]
    elif isinstance(value[0], dict) and len(value) == 1:
        value = [{**value[0], "title": value[0]["title"][:-1]}]
    elif field == "options":
        value = [{**value[0], "text": value[0]["text"][:-1]}, *value[1:]]
    else:
        value = value[:-1]
    quiz["questions"][0][field] = value
    assert validate_quiz(quiz).ok, validate_quiz(quiz).errors


def test_the_schema_limits_are_the_ones_the_projector_was_measured_with() -> None:
    """Raising a limit means measuring again: the browser test builds its quiz from these."""
    schema = load_schema()
    defs = schema["$defs"]
    question = defs["question"]["properties"]
    assert question["text"]["maxLength"] == 200
    assert question["options"]["maxItems"] == 6
    assert defs["option"]["properties"]["text"]["maxLength"] == 64
    assert question["toelichting"]["maxLength"] == 400
    assert question["learn_more"]["maxItems"] == 3
    assert defs["link"]["properties"]["title"]["maxLength"] == 48
    assert question["experts"]["maxItems"] == 3
    assert question["experts"]["items"]["maxLength"] == 48
    assert defs["shortText"]["maxLength"] == 120
    assert defs["estimate"]["properties"]["unit"]["maxLength"] == 16
    assert defs["estimate"]["properties"]["unit_one"]["maxLength"] == 16
