"""Read from the back row: the projector at 1920×1080 with the longest texts quizzes/schema.json
allows. Question and options ≥ 48 px, everything else the room reads ≥ 36 px, and in every phase
(lobby, question, reveal, scoreboard, podium) the page does not scroll and no text is cut off or
pushed out of view. Computed sizes and boxes are measured in Chromium.

The quizzes are built from the schema's own maxima (every text at its maximum length, every list
at its maximum count), so lowering or raising a limit in the schema is checked here at once. The
texts are realistic Dutch with long compound words (which wrap worse than short ones)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from server.activities.quiz_views import LOBBY_NAMES, SCOREBOARD_SIZE
from server.hub.names import NAME_MAX
from server.quizzes.validate import load_schema, validate_quiz
from tests.conftest import upload
from tests.support.browser import PHONE, PROJECTOR, Pages, control, start_quiz
from tests.support.crowd import Crowd

pytestmark = pytest.mark.browser

BIG = 48.0  # question and options
READ = 36.0  # everything else the room must read

SCHEMA = load_schema()
DEFS = SCHEMA["$defs"]
QUESTION = DEFS["question"]["properties"]
MAX = {
    "short": DEFS["shortText"]["maxLength"],  # title, theme, author
    "question": QUESTION["text"]["maxLength"],
    "options": QUESTION["options"]["maxItems"],
    "option": DEFS["option"]["properties"]["text"]["maxLength"],
    "toelichting": QUESTION["toelichting"]["maxLength"],
    "links": QUESTION["learn_more"]["maxItems"],
    "link_title": DEFS["link"]["properties"]["title"]["maxLength"],
    "url": DEFS["link"]["properties"]["url"]["maxLength"],
    "experts": QUESTION["experts"]["maxItems"],
    "expert": QUESTION["experts"]["items"]["maxLength"],
    "unit": DEFS["estimate"]["properties"]["unit"]["maxLength"],
}

DUTCH = (
    "Bij schuldhulpverlening werkt het wijkteam samen met jeugdbescherming, de "
    "ervaringsdeskundige en de woningcorporatie, zodat een gezin met betalingsachterstanden "
    "op tijd passende ondersteuning krijgt en niemand tussen wal en schip valt"
).split()


LONG_WORD = "schuldhulpverleningsorganisaties"


def _text(length: int, start: int = 0) -> str:
    """Realistic Dutch (long compound words, commas) of exactly `length` characters."""
    words: list[str] = []
    i = start
    while len(" ".join(words)) < length:
        words.append(DUTCH[i % len(DUTCH)])
        i += 1
    text = " ".join(words)[: length - 1]
    if text.endswith((" ", ",")):
        text = text[:-1] + "s"
    return text + "."


def _name(i: int) -> str:
    """A player name of exactly NAME_MAX characters, different for every i."""
    return f"Wilhelmina van Oosterbeek {i:02d}"[: NAME_MAX - 3].rstrip() + f" {i:02d}"


def _explanation(seed: int) -> dict[str, Any]:
    return {
        "toelichting": _text(MAX["toelichting"], seed),
        "learn_more": [
            {
                "title": _text(MAX["link_title"], seed + 3 * i + 1),
                "url": ("https://www.rijksoverheid.nl/onderwerpen/schulden/" + "a" * MAX["url"])[
                    : MAX["url"] - 2
                ]
                + f"/{i}",
            }
            for i in range(MAX["links"])
        ],
        "experts": [_text(MAX["expert"], seed + 5 * i + 2) for i in range(MAX["experts"])],
    }


LONGEST: dict[str, Any] = {
    "format": 1,
    "id": "langste-teksten",
    "title": _text(MAX["short"], 0),
    "theme": _text(MAX["short"], 4),
    "author": _text(MAX["short"], 9),
    "language": "nl",
    "questions": [
        {
            "id": "q1",
            "type": "multiple_choice",
            "text": _text(MAX["question"], 2),
            "time_limit": 240,
            # the first option is one long compound wider than its tile, as Dutch options can
            # be: it must wrap inside the tile, on the projector and on the phone
            "options": [
                {"text": f"1 {LONG_WORD}", "correct": True},
                *(
                    {"text": f"{i + 1} " + _text(MAX["option"] - 2, 3 * i), "correct": False}
                    for i in range(1, MAX["options"])
                ),
            ],
            **_explanation(7),
        },
        {
            "id": "q2",
            "type": "estimate",
            "text": _text(MAX["question"], 11),
            "time_limit": 240,
            "estimate": {
                "answer": 654321,
                "min": 0,
                "max": 1000000,
                "unit": _text(MAX["unit"], 6)
                .replace(" ", "")[: MAX["unit"]]
                .ljust(MAX["unit"], "s"),
                "tolerance": 5000,
            },
            **_explanation(13),
        },
    ],
}

PLAYERS = max(LOBBY_NAMES, SCOREBOARD_SIZE)  # the lobby's and the scoreboard's fullest


def _measure(page: Any, selector: str) -> list[tuple[str, float]]:
    """(text, computed font size in px) for every visible element matching `selector`."""
    return [
        (str(text), float(size))
        for text, size in page.locator(selector).evaluate_all(
            "(nodes) => nodes.filter((n) => n.getClientRects().length)"
            ".map((n) => [n.textContent.trim().slice(0, 40), parseFloat(getComputedStyle(n).fontSize)])"
        )
    ]


FITS = """() => {
  const out = [];
  const W = innerWidth, H = innerHeight;
  const doc = document.scrollingElement;
  if (doc.scrollHeight > H + 1) out.push(`page scrolls: ${doc.scrollHeight}px > ${H}px`);
  if (doc.scrollWidth > W + 1) out.push(`page scrolls sideways: ${doc.scrollWidth}px > ${W}px`);
  // Every box that holds the content: nothing inside is taller or wider than the box itself.
  for (const el of document.querySelectorAll('#app main, #app main *')) {
    if (!el.getClientRects().length) continue;
    const cs = getComputedStyle(el);
    if (cs.overflowY === 'visible' && cs.overflowX === 'visible') continue;
    if (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1) {
      out.push(`${el.tagName.toLowerCase()}.${el.className} overflows: ${el.scrollWidth}×${el.scrollHeight} in ${el.clientWidth}×${el.clientHeight}`);
    }
  }
  // Every piece of text: inside the viewport, inside its tile, not clipped by any box around it.
  const walker = document.createTreeWalker(document.querySelector('#app'), NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (!r.width && !r.height) continue;
    // A one-line title cut with an ellipsis (the quiz title in the top bar; the lobby shows
    // it whole) is a deliberate cut, not text pushed out of view.
    const own = getComputedStyle(node.parentElement.closest('.screen-title') || node.parentElement);
    if (own.textOverflow === 'ellipsis' && own.whiteSpace === 'nowrap') continue;
    let clip = null;
    for (let el = node.parentElement; el && el !== document.body; el = el.parentElement) {
      const cs = getComputedStyle(el);
      // an answer tile or chart row is a box too: text spilling out of it lies over the next one
      if (cs.overflowY !== 'visible' || cs.overflowX !== 'visible' || el.matches('.option, .bar-row, .explain-part, .score-row')) {
        const b = el.getBoundingClientRect();
        if (r.bottom > b.bottom + 1 || r.right > b.right + 1 || r.top < b.top - 1 || r.left < b.left - 1) { clip = el.className; break; }
      }
    }
    if (r.bottom > H + 1 || r.right > W + 1 || r.top < -1 || clip !== null) {
      out.push(`${node.textContent.trim().slice(0, 30)}… bottom ${Math.round(r.bottom)} clipped by ${clip}`);
    }
  }
  return out.slice(0, 8);
}"""


def _check(page: Any, phase: str, rules: list[tuple[str, float]], report: list[str]) -> None:
    """Font-size floors, and nothing scrolled or cut off."""
    smallest: list[str] = []
    for selector, minimum in rules:
        found = _measure(page, selector)
        if not found:
            report.append(f"{phase}: nothing visible matches {selector}")
            continue
        low = min(size for _, size in found)
        smallest.append(f"{selector} {low:.1f}px")
        report += [
            f"{phase}: {selector} {text!r} is {size:.1f}px < {minimum:.0f}px"
            for text, size in found
            if size < minimum - 0.05
        ]
    print(f"{phase}: smallest " + ", ".join(smallest))
    overflow = list(page.evaluate(FITS))
    print(f"{phase}: " + ("fits" if not overflow else f"does NOT fit: {overflow}"))
    report += [f"{phase}: {problem}" for problem in overflow]


def _room(
    pages: Pages, base_url: str, quiz: dict[str, Any], team: str = ""
) -> tuple[Any, Any, str]:
    """Host page and projector for a new room with `quiz`."""
    from playwright.sync_api import expect

    quiz_id = upload(base_url, quiz)
    host = pages.open("host", "/host", {"width": 1280, "height": 900})
    host.locator(f"input[name=quiz][value='{quiz_id}']").check()
    if team:
        host.locator("#team").fill(team)
    host.locator("#start-session").click()
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    code = host.locator("#session-code").inner_text().replace(" ", "")
    screen = pages.open("screen", f"/screen/{code}", PROJECTOR)
    return host, screen, code


def _phone_fits(phone: Any) -> list[str]:
    """On the phone scrolling down is fine; nothing may stick out sideways."""
    width = phone.evaluate("document.scrollingElement.scrollWidth")
    return [] if width <= PHONE["width"] + 1 else [f"phone scrolls sideways: {width}px"]


def test_the_quiz_at_the_schema_maxima_is_valid() -> None:
    result = validate_quiz(LONGEST)
    assert result.ok, result.errors
    q1 = LONGEST["questions"][0]
    assert len(q1["text"]) == MAX["question"]
    assert {len(o["text"]) for o in q1["options"][1:]} == {MAX["option"]}
    assert len(q1["toelichting"]) == MAX["toelichting"]
    assert {len(e) for e in q1["experts"]} == {MAX["expert"]}
    assert {len(link["url"]) for link in q1["learn_more"]} == {MAX["url"]}
    assert len(_name(PLAYERS)) == NAME_MAX


def test_projector_fits_the_longest_texts_the_schema_allows(pages: Pages, base_url: str) -> None:
    """Every projector phase with every text at the schema's maximum and full lists (six options,
    all links and experts), the lobby and scoreboard full of names at their maximum length, a
    team name at its maximum (the bokaal line on the podium): the floors hold and nothing scrolls
    or is cut off. The phone at 360×640 plays the same quiz without sideways scrolling."""
    from playwright.sync_api import expect

    team = _text(60, 5)
    host, screen, code = _room(pages, base_url, LONGEST, team)
    phone = pages.open("phone", f"/join/{code}", PHONE, is_mobile=True, has_touch=True)
    # one word of the longest name a phone may take: it must wrap, not push the score away
    word = ("Schuldhulpverleningsorganisatie" * 2)[:NAME_MAX]
    phone.locator("#join-name").fill(word)
    phone.locator("#join-form button[type=submit]").click()
    expect(phone.locator(".joined-as")).to_contain_text(word)
    crowd = Crowd(base_url.replace("http://", "ws://") + "/ws")
    problems: list[str] = []
    try:
        crowd.join(code, [_name(i) for i in range(1, PLAYERS + 1)])
        expect(screen.locator(".player-count")).to_have_text(f"{PLAYERS + 1} deelnemers")
        _check(
            screen,
            "lobby",
            [
                (".join-step", READ),
                (".player-count", READ),
                (".name-cloud li", READ),
                (".lobby-title", READ),
            ],
            problems,
        )
        pages.shot(screen, "i13-projector-0-lobby")

        # multiple choice at the maxima
        start_quiz(host)
        expect(screen.locator(".screen-options .option")).to_have_count(MAX["options"])
        _check(
            screen,
            "question",
            [
                (".screen-q-text", BIG),
                (".screen-options .option-text", BIG),
                (".q-number", READ),
                (".screen-join-small", READ),
                (".answered-count", READ),
            ],
            problems,
        )
        pages.shot(screen, "i13-projector-1-question-longest")
        expect(phone.locator(".answers button")).to_have_count(MAX["options"])
        problems += [f"phone question: {p}" for p in _phone_fits(phone)]
        pages.shot(phone, "i13-phone-1-question-longest")
        crowd.answer(0, lambda i: (i % MAX["options"], None))
        phone.locator(".answers button").nth(1).click()
        expect(screen.locator(".reveal-explain")).to_be_visible()
        _check(
            screen,
            "reveal",
            [
                (".screen-q-text", READ),
                # the options' texts, or (a compact chart beside a long toelichting) the answer
                (".bar-text, .right-answer", READ),
                (".bar-count", READ),
                (".reveal-explain h3", READ),
                (".reveal-explain .explain-text", READ),
                (".reveal-explain li", READ),
                (".answered-count", READ),
            ],
            problems,
        )
        pages.shot(screen, "i13-projector-2-reveal-longest")
        expect(phone.locator(".verdict")).to_be_visible()
        problems += [f"phone reveal: {p}" for p in _phone_fits(phone)]
        pages.shot(phone, "i13-phone-2-reveal-longest")

        control(host, "Toon tussenstand")
        expect(screen.locator(".screen-scoreboard .score-row")).to_have_count(SCOREBOARD_SIZE)
        _check(
            screen,
            "scoreboard",
            [(".screen-scoreboard .score-name", READ), (".screen-scoreboard .score-points", READ)],
            problems,
        )
        pages.shot(screen, "i13-projector-3-scoreboard")

        # estimate at the maxima: the bins ("900.000–1.000.000") are read from the back row too
        control(host, "Volgende vraag")
        expect(screen.locator(".estimate-range-text")).to_be_visible()
        _check(
            screen,
            "estimate-question",
            [(".screen-q-text", BIG), (".estimate-range-text", READ)],
            problems,
        )
        pages.shot(screen, "i13-projector-4-estimate-question")
        # the first dozen guess the answer exactly: the most names the "closest" line can list
        crowd.answer(1, lambda i: (None, 654321 if i < 12 else 10000 * (i * 17 % 100)))
        phone.locator("#estimate-value").fill("650000")
        phone.locator(".estimate button[type=submit]").click()
        expect(screen.locator(".estimate-result")).to_be_visible()
        _check(
            screen,
            "estimate-reveal",
            [
                (".bar-text", READ),
                (".bar-count", READ),
                (".estimate-result p", READ),
                (".reveal-explain .explain-text", READ),
                (".reveal-explain li", READ),
            ],
            problems,
        )
        pages.shot(screen, "i13-projector-5-estimate-reveal")
        problems += [f"phone estimate reveal: {p}" for p in _phone_fits(phone)]

        control(host, "Naar het podium")
        expect(screen.locator(".screen-podium h1")).to_be_visible()
        expect(screen.locator(".bokaal-line")).to_be_visible()
        _check(
            screen,
            "podium",
            [
                (".screen-podium h1", READ),
                (".podium-name", READ),
                (".podium-score", READ),
                (".bokaal-line", READ),
            ],
            problems,
        )
        pages.shot(screen, "i13-projector-6-podium")
    finally:
        crowd.close()
    assert not problems, "\n".join(problems)
    pages.assert_clean()


def _option_texts(length: int, seed: int) -> list[str]:
    return [f"{i + 1} " + _text(length - 2, seed + 3 * i) for i in range(MAX["options"])]


# The other reveal layouts at the maxima: short options (columns), every option right (the answer
# written out in full), no toelichting (rows across the whole width), true/false.
OTHER_REVEALS: dict[str, Any] = {
    "format": 1,
    "id": "langste-teksten-onthullingen",
    "title": _text(MAX["short"], 1),
    "theme": _text(MAX["short"], 2),
    "author": _text(MAX["short"], 3),
    "language": "nl",
    "questions": [
        {
            "id": "kort",
            "type": "poll",
            "text": _text(MAX["question"], 4),
            "options": [{"text": t} for t in _option_texts(32, 1)],
            **_explanation(5),
        },
        {
            "id": "allemaal-goed",
            "type": "multiple_choice",
            "text": _text(MAX["question"], 6),
            "options": [{"text": t, "correct": True} for t in _option_texts(MAX["option"], 2)],
            **_explanation(8),
        },
        {
            "id": "zonder-toelichting",
            "type": "multiple_choice",
            "text": _text(MAX["question"], 9),
            "options": [
                {"text": t, "correct": i == 2}
                for i, t in enumerate(_option_texts(MAX["option"], 4))
            ],
        },
        {
            # one long compound per option beside a short toelichting: the rows must show
            # the words (broken where needed), not only shapes
            "id": "een-woord",
            "type": "multiple_choice",
            "text": _text(80, 16),
            "options": [
                {"text": (word * 3)[: MAX["option"]], "correct": i == 1}
                for i, word in enumerate(
                    ("Arbeidsongeschiktheids", "Schuldhulpverlenings", "Jeugdbeschermings", "Wijk")
                )
            ],
            "toelichting": _text(80, 17),
            "experts": ["de schuldhulpverlener in ons team"],
        },
        {
            "id": "waar-niet-waar",
            "type": "true_false",
            "text": _text(MAX["question"], 12),
            "answer": False,
            **_explanation(14),
        },
    ],
}


def test_every_reveal_layout_fits_at_the_maxima(pages: Pages, base_url: str) -> None:
    """Question and reveal of a poll with short options (a column chart), a question where every
    option is right, one without toelichting and a true/false question, all at the maxima."""
    from playwright.sync_api import expect

    assert validate_quiz(OTHER_REVEALS).ok, validate_quiz(OTHER_REVEALS).errors
    host, screen, code = _room(pages, base_url, OTHER_REVEALS)
    crowd = Crowd(base_url.replace("http://", "ws://") + "/ws")
    problems: list[str] = []
    try:
        crowd.join(code, [_name(i) for i in range(SCOREBOARD_SIZE)])
        start_quiz(host)
        for index, question in enumerate(OTHER_REVEALS["questions"]):
            name = question["id"]
            # the question itself, not the reveal before it (which has a .screen-q-text too)
            expect(screen.locator(".screen-reveal")).to_have_count(0)
            expect(screen.locator(".screen-q-text")).to_be_visible()
            big = [(".screen-q-text", BIG), (".screen-options .option-text", BIG)]
            _check(screen, f"{name} question", big, problems)
            count = len(question.get("options", [])) or 2
            crowd.answer(index, lambda i, n=count: (i % n, None))
            expect(screen.locator(".screen-reveal")).to_be_visible()
            rules = [(".screen-q-text", READ), (".bar-count", READ)]
            if question["type"] != "poll":  # a poll's columns may stand for its options alone
                rules.append((".bar-text, .right-answer", READ))
            if "toelichting" in question:
                rules += [(".reveal-explain .explain-text", READ), (".reveal-explain li", READ)]
            _check(screen, f"{name} reveal", rules, problems)
            if name == "een-woord":
                right = question["options"][1]["text"]
                written = screen.locator(".reveal-main").inner_text().replace("\n", "")
                assert right[:40] in written, written[:300]
            pages.shot(screen, f"i13-projector-reveal-{name}")
            if index + 1 < len(OTHER_REVEALS["questions"]):
                control(host, "Volgende vraag")
    finally:
        crowd.close()
    assert not problems, "\n".join(problems)
    pages.assert_clean()


@pytest.mark.parametrize(
    ("width", "height", "least"), [(1024, 768, 260), (1280, 720, 300), (1920, 1080, 350)]
)
def test_the_lobby_qr_code_is_as_large_as_the_projector_allows(
    pages: Pages, width: int, height: int, least: int
) -> None:
    """The QR code fills the join panel's width where the height allows (192 px on a 1024×768
    projector was too small to scan from the back of the room), and the lobby never scrolls."""
    import httpx

    room = httpx.post(f"{pages.base}/api/rooms", json={"quiz_id": "demo-kennisdeling"}).json()
    screen = pages.open(
        f"screen-{width}", f"/screen/{room['code']}", {"width": width, "height": height}
    )
    qr = screen.locator("img.qr")
    qr.wait_for()
    screen.wait_for_function("document.querySelector('img.qr').complete")
    box = qr.bounding_box()
    assert box is not None and box["width"] >= least and abs(box["width"] - box["height"]) < 1, box
    assert screen.evaluate("document.documentElement.scrollHeight <= innerHeight"), "scrolls"
    pages.assert_clean()
