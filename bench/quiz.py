"""The quiz the bench plays: realistic Dutch Themaquiz questions, so frames have real sizes."""

from __future__ import annotations

from typing import Any

QUIZ_ID = "bench-themaquiz"

_TEMPLATES: list[dict[str, Any]] = [
    {
        "text": "Een inwoner loopt achter met de huur en de zorgpremie en weet niet meer waar hij "
        "moet beginnen. Wie kun je inschakelen bij schulden?",
        "options": [
            ("De schuldhulpverlening van de gemeente", True),
            ("Een getrainde vrijwilliger, bijvoorbeeld van SchuldHulpMaatje", True),
            ("Een onlineleenbedrijf voor een snelle lening", False),
            ("Niemand: eerst moet hij alles zelf aflossen", False),
        ],
        "toelichting": "Iedere gemeente moet schuldhulp bieden (Wet gemeentelijke "
        "schuldhulpverlening) en die is meestal gratis. Bel samen met de inwoner de schuldhulp "
        "van de gemeente of loop mee naar het eerste gesprek (warme overdracht).",
        "learn_more": [
            {
                "title": "Rijksoverheid: schulden",
                "url": "https://www.rijksoverheid.nl/onderwerpen/schulden",
            },
            {"title": "SchuldHulpMaatje", "url": "https://www.schuldhulpmaatje.nl"},
        ],
        "experts": ["de schuldhulpverlener in ons team", "de consulent inkomen"],
    },
    {
        "text": "Een school maakt zich zorgen over een leerling die vaak afwezig is. Wat is een "
        "goede eerste stap voor het wijkteam?",
        "options": [
            ("Met ouders, leerling en school samen in gesprek gaan", True),
            ("Direct een melding doen bij Veilig Thuis", False),
            ("Wachten tot de leerplichtambtenaar belt", False),
            ("De school vragen het zelf op te lossen", False),
        ],
        "toelichting": "Verzuim is vaak een signaal. Een gezamenlijk gesprek met ouders, "
        "leerling en school brengt in beeld wat er speelt en wie wat oppakt.",
        "learn_more": [{"title": "Ingrado: verzuim", "url": "https://www.ingrado.nl"}],
        "experts": ["de schoolmaatschappelijk werker"],
    },
]


def bench_quiz(questions: int, time_limit: int = 30) -> dict[str, Any]:
    """A valid quiz (docs/PROTOCOL.md, quizzes/schema.json) of `questions` multiple-choice items,
    each open for `time_limit` s (5–240)."""
    items = []
    for i in range(max(1, questions)):
        t = _TEMPLATES[i % len(_TEMPLATES)]
        items.append(
            {
                "id": f"q{i + 1}",
                "type": "multiple_choice",
                "text": t["text"],
                "time_limit": time_limit,
                "points": 1000,
                "options": [
                    {"text": text, "correct": True} if ok else {"text": text}
                    for text, ok in t["options"]
                ],
                "toelichting": t["toelichting"],
                "learn_more": t["learn_more"],
                "experts": t["experts"],
            }
        )
    return {
        "format": 1,
        "id": (QUIZ_ID if questions <= 1 else f"{QUIZ_ID}-{questions}")
        + ("" if time_limit == TIME_LIMIT_S else f"-{time_limit}s"),
        "title": "Benchmark: Themaquiz armoede en school",
        "theme": "Armoede en schulden",
        "author": "Kenniskring bench",
        "language": "nl",
        "description": "Gespeeld door de load generator in bench/.",
        "questions": items,
    }


OPTION_COUNT = 4
TIME_LIMIT_S = 30
