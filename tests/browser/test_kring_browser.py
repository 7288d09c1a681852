"""A meeting of two werkvormen in one room (issue 14), seen in Chromium: a one-question quiz, then
the binnen- en buitenkring without joining again — grades on four phones, partners opposite,
two rotations, the team's map on the projector, privacy, and both items' exports."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.activities.circle import DEFAULT_DOMAINS
from tests.conftest import upload
from tests.support.browser import (
    ON_TWO_SERVERS,
    PHONE,
    PROJECTOR,
    Dialogs,
    HeldFrames,
    Pages,
    answer,
    control,
    join_phone,
    programme_host,
    routed_phone,
    sideways,
    start_quiz,
)
from tests.support.crowd import Crowd

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
WARMUP_QUIZ: dict[str, Any] = {
    "format": 1,
    "id": "kring-opwarmer",
    "title": "Opwarmer voor de kring",
    "theme": "Kennisbouwstenen",
    "author": "Kenniskring",
    "language": "nl",
    "questions": [
        {
            "id": "q1",
            "type": "true_false",
            "text": "In de binnen- en buitenkring geeft ieder zichzelf een cijfer van 1 tot 10.",
            "time_limit": 120,
            "answer": True,
        }
    ],
}
# name → (domain, grade, reason); Anna changes her grade to 8 after saving a 7.
ENTRIES = {
    "Anna": ("inkomen", 7, "Ik doe al jaren schuldhulp"),
    "Bram": ("inkomen", 6, "Toeslagen ken ik goed"),
    "Chris": ("veiligheid", 9, "Aandachtsfunctionaris"),
    "Dewi": ("participatie", 5, ""),
}


def join(pages: Pages, code: str, name: str) -> Any:
    from playwright.sync_api import expect

    phone = pages.open(name, f"/join/{code}", PHONE, is_mobile=True, has_touch=True)
    phone.locator("#join-name").fill(name)
    phone.locator("#join-form button[type=submit]").click()
    expect(phone.locator(".joined-as")).to_contain_text(name)
    return phone


def join_entry(pages: Pages, code: str, name: str) -> Any:
    """A phone joining a room whose kring is open: it lands on the entry form."""
    return join_phone(pages, code, name, "#kring-entry")


def enter(phone: Any, domain: str, grade: int, reason: str) -> None:
    from playwright.sync_api import expect

    phone.locator(".domain-btn", has_text=re.compile(rf"^{re.escape(domain)}$")).click()
    phone.get_by_role("button", name=f"Cijfer {grade}", exact=True).click()
    phone.locator("#kring-reason").fill(reason)
    phone.locator("#kring-save").click()
    expect(phone.locator("#kring-status")).to_contain_text("Opgeslagen")


def pairs(screen: Any) -> dict[str, set[str]]:
    """Everyone's partner(s), read from the projector's list of pairs."""
    out: dict[str, set[str]] = {}
    for text in screen.locator(".kring-pair .pair-names").all_inner_texts():
        names = [n.strip() for n in text.split("↔")]
        for name in names:
            out[name] = {n for n in names if n != name}
    return out


def check_partners(phones: dict[str, Any], screen: Any) -> dict[str, set[str]]:
    """Each phone shows its circle, place and the partner the projector lists, with the
    partner's domain, grade and reason and the two prompts."""
    from playwright.sync_api import expect

    seen = pairs(screen)
    assert set(seen) == set(phones), seen
    for name, phone in phones.items():
        expect(phone.locator("#kring-circle")).to_have_text(
            re.compile(r"^Je staat in de (binnen|buiten)kring$")
        )
        expect(phone.locator("#kring-place")).to_have_text(re.compile(r"^Plaats \d$"))
        for partner in seen[name]:
            expect(phone.locator("#kring-opposite")).to_contain_text(partner)
            domain, grade, reason = ENTRIES[partner]
            if partner == "Anna":
                grade = 8
            card = phone.locator(f".kring-partner[data-name={partner}]")
            expect(card.locator(".kring-card-domain")).to_have_text(domain)
            expect(card.locator(".grade-big")).to_have_text(str(grade))
            if reason:
                expect(card.locator(".kring-card-reason")).to_contain_text(reason)
        expect(phone.locator(".kring-prompts")).to_contain_text("Waarom geen cijfer lager?")
        expect(phone.locator(".kring-prompts")).to_contain_text(
            "Wat heb je nodig om er een punt bij te krijgen?"
        )
    return seen


def readable(screen: Any, step: str, floor: float = 40) -> None:
    """The kring's own text on the projector is at least `floor` px (40; the team map of 10–12
    domains 36, the projector's floor for what the room reads) and inside the 1920×1080 screen
    (the join panel is the room's, shared with the quiz lobby and its 36 px floor)."""
    problems = screen.evaluate(
        """(floor) => {
      const out = [];
      const walker = document.createTreeWalker(document.querySelector('#app main'), NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const node = walker.currentNode;
        const parent = node.parentElement;
        if (!node.textContent.trim() || parent.closest('.join-panel')) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        const r = range.getBoundingClientRect();
        if (!r.width && !r.height) continue;
        const size = parseFloat(getComputedStyle(parent).fontSize);
        if (size < floor - 0.05) out.push(`${node.textContent.trim().slice(0, 30)}: ${size}px`);
        if (r.bottom > innerHeight + 1 || r.right > innerWidth + 1) {
          out.push(`${node.textContent.trim().slice(0, 30)}: out of view`);
        }
      }
      return out;
    }""",
        floor,
    )
    assert not problems, (step, problems)


def shoot(pages: Pages, phones: dict[str, Any], screen: Any, step: str) -> None:
    pages.shot(phones["Anna"], f"i14-kring-phone-{step}")
    pages.shot(screen, f"i14-kring-screen-{step}")
    readable(screen, step)


def download(page: Any, button: Any) -> str:
    with page.expect_download() as info:
        button.click()
    return Path(info.value.path()).read_text(encoding="utf-8-sig")


@ON_TWO_SERVERS
def test_quiz_then_kring_in_one_room(pages: Pages) -> None:
    from playwright.sync_api import expect

    upload(pages.base, WARMUP_QUIZ)
    host = pages.open("host", "/host", LAPTOP)
    host.get_by_label(re.compile(re.escape(str(WARMUP_QUIZ["title"])))).check()
    host.locator("#start-session").click()
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    code = host.locator("#session-code").inner_text().replace(" ", "")
    screen = pages.open("screen", f"/screen/{code}", PROJECTOR)
    phones = {name: join(pages, code, name) for name in ENTRIES}
    expect(host.locator("#programme-list li")).to_have_count(1)

    # ---- the quiz: one question
    start_quiz(host)
    names = list(phones)
    for i, name in enumerate(names):
        answer(phones[name], "Waar", last=i == len(names) - 1)
    for phone in phones.values():
        expect(phone.locator(".verdict h1")).to_have_text("Goed!")

    # ---- the facilitator adds the kring to the programme and starts it
    expect(host.locator("#programme-add-kind")).to_have_value("circle")
    host.locator("#programme-add-submit").click()
    expect(host.locator("#programme-list li")).to_have_count(2)
    expect(host.locator("#programme-list li").nth(1)).to_contain_text("Binnen- en buitenkring")
    pages.shot(host, "i14-kring-host-programme")
    host.locator(".action-begin-next").click()

    # phones follow without joining again; the projector counts, never shows grades
    for phone in phones.values():
        expect(phone.locator("#kring-entry")).to_be_visible()
        expect(phone.locator(".grade-btn")).to_have_count(10)
    # the domain buttons use the phone's width, as the grades do (no projector rule narrows them)
    width = "e => e.getBoundingClientRect().width"
    domains, grades = (
        phones["Anna"].eval_on_selector(s, width) for s in (".domain-grid", ".grade-grid")
    )
    assert abs(domains - grades) < 1, (domains, grades)
    expect(screen.locator("#kring-entered")).to_have_text("0 van 4 hebben een cijfer gegeven")
    expect(host.locator("#kring-host-entered")).to_have_text("0 van 4 hebben een cijfer gegeven")
    # the quiz was left at its reveal, before its podium: paused, not done
    expect(host.locator("#programme-list li").nth(0)).to_contain_text("onderbroken")
    expect(host.locator("#programme-list li").nth(0).locator("button.begin")).to_have_text(
        "Hier verdergaan"
    )
    shoot(pages, phones, screen, "1-entry")

    # before the grades lock, the facilitator adds a domain: phones and projector follow
    editor = host.locator("#kring-domains-edit")
    editor.fill(editor.input_value() + "\nhuisvesting")
    host.locator("#kring-domains-form button[type=submit]").click()
    for phone in phones.values():
        expect(phone.locator(".domain-btn")).to_have_count(9)
    expect(screen.locator(".kring-screen-domains li")).to_have_count(9)

    # the facilitator sees whom to nudge, and no grade: the list empties as the grades come in
    waiting = host.locator("#kring-host-waiting")
    expect(waiting).to_have_text("Nog geen cijfer: Anna, Bram, Chris, Dewi")
    for i, (name, (domain, grade, reason)) in enumerate(ENTRIES.items()):
        enter(phones[name], domain, grade, reason)
        if i == 1:
            expect(waiting).to_have_text("Nog geen cijfer: Chris, Dewi")
    expect(waiting).to_have_count(0)
    shoot(pages, phones, screen, "2-entry-saved")
    # Anna changes her mind: a second save overwrites the first
    anna = phones["Anna"]
    anna.get_by_role("button", name="Cijfer 8", exact=True).click()
    expect(anna.locator("#kring-status")).to_have_text("Nog niet opgeslagen")
    anna.locator("#kring-save").click()
    expect(anna.locator("#kring-status")).to_contain_text("Opgeslagen")
    expect(screen.locator("#kring-entered")).to_have_text("4 van 4 hebben een cijfer gegeven")
    # the phone keeps nothing of its own: after a reload the server's copy is on screen
    anna.reload()
    expect(anna.locator("#kring-status")).to_contain_text("Opgeslagen")
    expect(anna.get_by_role("button", name="Cijfer 8", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(anna.locator("#kring-reason")).to_have_value("Ik doe al jaren schuldhulp")
    expect(screen.locator(".kring-screen-entry")).not_to_contain_text("Ik doe al jaren")
    pages.shot(host, "i14-kring-host-entry")

    # ---- lock: circles, places, partners and their entries
    control(host, "Cijfers vastzetten")
    expect(screen.locator(".kring-pair")).to_have_count(2)
    # Round 1 has no shift line; nothing of it shows as text ("null" did).
    expect(anna.locator(".kring-round")).to_have_text("Ronde 1")
    expect(anna.locator("#kring-rounds")).not_to_contain_text("null")
    first = check_partners(phones, screen)
    expect(host.locator("#kring-host-pairs li")).to_have_count(2)
    shoot(pages, phones, screen, "3-round-1")
    pages.shot(host, "i14-kring-host-rounds")

    # ---- rotate 1, then 2: new partners each time
    control(host, "Draai 1 plaats")
    expect(screen.locator("#kring-shift")).to_have_text(
        re.compile(r"^buitenkring schuift (1 plaats|\d plaatsen)$")
    )
    expect(screen.locator(".kring-screen-head h1")).to_have_text("Ronde 2")
    expect(anna.locator(".kring-round")).to_have_text("Ronde 2")
    second = check_partners(phones, screen)
    assert all(first[n] != second[n] for n in phones), (first, second)
    shoot(pages, phones, screen, "4-round-2")

    control(host, "Draai 2 plaatsen")
    expect(anna.locator(".kring-round")).to_have_text("Ronde 3")
    # The projector may be served by the other server: its pairs are read once it shows round 3.
    expect(screen.locator(".kring-screen-head h1")).to_have_text("Ronde 3")
    # with four people a turn of 2 brings back round 1's pairs: the server turns 1, and says so
    turned = "buitenkring schuift 1 plaats (gevraagd: 2) voor nieuwe partners"
    expect(screen.locator("#kring-shift")).to_have_text(turned)
    expect(host.locator("#mirror")).to_contain_text(turned)
    third = check_partners(phones, screen)
    assert all(second[n] != third[n] for n in phones), (second, third)
    shoot(pages, phones, screen, "5-round-3")

    # ---- reveal: per domain the count, the average and who gave 7, 8 or 9
    control(host, "Toon de kennis per domein")
    domains = screen.locator(".kring-domain")
    expect(domains).to_have_count(3)
    inkomen = domains.filter(has_text="inkomen")
    expect(inkomen.locator(".kring-domain-average")).to_have_text("7")  # (8 + 6) / 2
    expect(inkomen.locator(".kring-domain-count")).to_have_text("2 pers.")
    expect(inkomen.locator(".kring-named")).to_have_text("8: Anna")
    expect(domains.filter(has_text="veiligheid").locator(".kring-named")).to_have_text("9: Chris")
    expect(domains.filter(has_text="participatie").locator(".kring-domain-average")).to_have_text(
        "5"
    )
    expect(domains.filter(has_text="participatie").locator(".kring-named")).to_have_text("")
    # everyone's grade (Bram's 6 too) only when the facilitator asks for it
    expect(screen.locator("#kring-overview")).to_have_count(0)
    expect(screen.locator("#kring-screen-reveal")).not_to_contain_text("Bram")
    control(host, "Toon alle cijfers")
    expect(screen.locator("#kring-overview")).to_contain_text("Bram")
    readable(screen, "overview")
    control(host, "Verberg alle cijfers")
    expect(screen.locator(".kring-domain")).to_have_count(3)
    check_layout(screen, "reveal of 3", cards=3)  # "Geen cijfers voor…" lay over the third card
    expect(anna.locator("#kring-reveal .kring-map-row")).to_have_count(3)
    expect(anna.locator(".kring-mine")).to_have_text("Jij gaf jezelf een 8 voor inkomen.")
    expect(anna.locator("#kring-reveal")).not_to_contain_text("Chris")  # phones get no names
    shoot(pages, phones, screen, "6-reveal")
    pages.shot(host, "i14-kring-host-reveal")

    # ---- privacy: the names go from the projector
    control(host, "Namen verbergen")
    expect(screen.locator(".kring-private")).to_have_text("Namen zijn verborgen.")
    expect(screen.locator(".kring-screen-reveal")).not_to_contain_text("Anna")
    expect(screen.locator(".kring-screen-reveal")).not_to_contain_text("Chris")
    expect(inkomen.locator(".kring-domain-average")).to_have_text("7")
    check_layout(screen, "private, 3", cards=3)
    shoot(pages, phones, screen, "7-reveal-private")
    expect(host.locator("#controls button", has_text="Namen tonen")).to_be_visible()

    # ---- exports: the quiz (item 0, from the programme) and the kring (item 1, current)
    quiz_row = host.locator("#programme-list li").nth(0)
    quiz_json = json.loads(download(host, quiz_row.locator("button[data-export=host_export_json]")))
    assert "Opwarmer voor de kring" in json.dumps(quiz_json, ensure_ascii=False)
    kring_csv = download(host, host.locator("#exports button[data-export=host_export_csv]"))
    assert "naam,domein,cijfer,toelichting,geldig" in kring_csv
    assert "Anna,inkomen,8,Ik doe al jaren schuldhulp,ja" in kring_csv
    kring_excel = download(host, host.locator("#exports button[data-export=host_export_excel]"))
    assert "inkomen;2;7,0" in kring_excel
    kring_json = json.loads(
        download(host, host.locator("#exports button[data-export=host_export_json]"))
    )
    assert {p["name"] for p in kring_json["people"]} == set(ENTRIES)

    pages.assert_clean()


def test_a_corrected_grade_stays_when_the_me_of_the_first_save_comes_after_it(
    pages: Pages,
) -> None:
    """Save a grade, correct it and save again before the server's next render: the `me` of
    the first save can arrive after the second save's ack (a busy server paces its renders).
    The phone keeps showing the corrected grade, not the first one. Playwright's websocket
    routing holds the phone's `me` frames back and lets the first save's one through after
    the second ack."""
    import msgpack
    from playwright.sync_api import expect

    me = HeldFrames()

    host = pages.open("host", "/host", LAPTOP)
    host.locator("input[name=quiz][value='kind:circle']").check()
    host.locator("#start-session").click()
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    code = host.locator("#session-code").inner_text().replace(" ", "")
    eva = routed_phone(pages, code, "Eva", me.route)
    expect(eva.locator("#kring-entry")).to_be_visible()

    def graded(entry: object, value: int) -> bool:
        return isinstance(entry, dict) and entry.get("grade") == value

    def held_with(value: int) -> Any:
        for _ in range(100):
            for message in me.held:
                if graded(msgpack.unpackb(message).get("entry"), value):
                    return message
            eva.wait_for_timeout(50)
        raise AssertionError(f"no me with grade {value} was sent")

    me.hold = True
    enter(eva, "inkomen", 7, "")
    first = held_with(7)  # the first save's `me`, not delivered yet
    eva.get_by_role("button", name="Cijfer 8", exact=True).click()
    eva.locator("#kring-save").click()
    expect(eva.locator("#kring-status")).to_contain_text("Opgeslagen")  # the second ack
    me.send(first)  # now the first save's `me` arrives
    eva.wait_for_timeout(300)
    expect(eva.get_by_role("button", name="Cijfer 8", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(eva.get_by_role("button", name="Cijfer 7", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(eva.locator("#kring-status")).to_contain_text("Opgeslagen")
    # The second save's `me` confirms it.
    second = held_with(8)
    me.hold = False
    me.send(second)
    eva.wait_for_timeout(300)
    expect(eva.get_by_role("button", name="Cijfer 8", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(eva.locator("#kring-status")).to_contain_text("Opgeslagen")
    # Eva is the only one in the circle: she is told she is alone, and nothing else about
    # where to stand ("Je sluit aan bij plaats 0: jullie zijn met z'n drieën" was above it)
    control(host, "Cijfers vastzetten")
    expect(host.locator("#kring-host-locked")).to_contain_text("1 cijfer vastgezet")
    rounds = eva.locator("#kring-rounds")
    expect(rounds).to_contain_text("Je staat nog alleen: wacht op een collega.")
    expect(rounds).not_to_contain_text("drieën")
    expect(rounds).not_to_contain_text("plaats 0")
    expect(eva.locator("#kring-place")).to_have_count(0)
    expect(eva.locator(".kring-prompts")).to_have_count(0)  # no questions for nobody opposite
    pages.assert_clean()


async def enter_grades(crowd: Crowd, entries: list[tuple[str, str, int]]) -> None:
    """Each of the crowd's phones (in join order) enters its (name, domain, grade) once the
    entry is open, and has it acknowledged."""

    async def one(phone: Any, domain: str, grade: int) -> None:
        await phone.wait_view("entry")
        reply = await phone.request(
            {"type": "input", "item": 0, "data": {"domain": domain, "grade": grade}}, "ack"
        )
        assert reply["type"] == "ack", reply

    await asyncio.gather(
        *(one(p, d, g) for p, (_, d, g) in zip(crowd.phones, entries, strict=True))
    )


# 14 people over the eight default domains, every domain with a 7, 8 or 9 and a low grade.
CROWD = [
    ("Anouk", "lichamelijke gezondheid", 8),
    ("Bas", "lichamelijke gezondheid", 4),
    ("Carmen", "dagelijks functioneren", 7),
    ("Daan", "dagelijks functioneren", 5),
    ("Esra", "inkomen", 9),
    ("Floor", "inkomen", 6),
    ("Gijs", "participatie", 2),
    ("Hanna", "participatie", 7),
    ("Ivo", "opvoeden en opgroeien", 8),
    ("Jasmijn", "veiligheid", 9),
    ("Koen", "veiligheid", 3),
    ("Lotte", "psychische gezondheid", 7),
    ("Mehmet", "psychische gezondheid", 6),
    ("Noor", "generieke competenties", 8),
]

LAYOUT = """() => {
  const inside = [];
  const boxes = [...document.querySelectorAll('.kring-domain')].map((card) => {
    const r = card.getBoundingClientRect();
    return {name: card.querySelector('.kring-domain-name').textContent, top: r.top,
            bottom: r.bottom, left: r.left, right: r.right};
  });
  // the other blocks of the reveal must not lie over a card either
  const others = [...document.querySelectorAll('.kring-empty, .kring-private, .kring-overview')]
    .map((node) => {
      const r = node.getBoundingClientRect();
      return {name: node.className, top: r.top, bottom: r.bottom, left: r.left, right: r.right};
    });
  // every text inside a card is inside that card (nothing cut off by the card's own overflow)
  for (const card of document.querySelectorAll('.kring-domain')) {
    const c = card.getBoundingClientRect();
    const walker = document.createTreeWalker(card, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(walker.currentNode);
      const r = range.getBoundingClientRect();
      if (!r.width && !r.height) continue;
      if (r.bottom > c.bottom + 1 || r.right > c.right + 1) inside.push(walker.currentNode.textContent);
    }
  }
  return {boxes, others, inside, height: innerHeight, width: innerWidth,
          scroll: document.scrollingElement.scrollHeight};
}"""


def check_layout(screen: Any, step: str, cards: int = 8) -> None:
    """Every domain card whole inside the 1920×1080 screen, no card or line over another."""
    found = screen.evaluate(LAYOUT)
    boxes, others = found["boxes"], found["others"]
    assert len(boxes) == cards, (step, boxes)
    for box in boxes:
        assert 0 <= box["top"] and box["bottom"] <= found["height"], (step, box)
        assert 0 <= box["left"] and box["right"] <= found["width"], (step, box)
    for a, b in itertools.combinations(boxes + others, 2):
        apart = (
            a["bottom"] <= b["top"]
            or b["bottom"] <= a["top"]
            or a["right"] <= b["left"]
            or b["right"] <= a["left"]
        )
        assert apart, (step, "overlap", a, b)
    assert not found["inside"], (step, "cut off", found["inside"])
    for other in others:
        assert other["bottom"] <= found["height"], (step, other)


def test_the_projector_map_of_eight_domains_fits_and_keeps_names_private(
    pages: Pages, base_url: str
) -> None:
    """14 people, entries in all eight default domains: after the reveal every domain card is
    whole on the 1920×1080 projector and nothing overlaps; the full team overview (everyone's
    grade) is the facilitator's opt-in, the 7–8–9 names show; and the team history kept at the
    reveal follows "Namen verbergen"."""
    import httpx
    from playwright.sync_api import expect

    team = f"Wijkteam {uuid.uuid4().hex[:6]}"
    host = pages.open("host", "/host", LAPTOP)
    host.locator("input[name=quiz][value='kind:circle']").check()
    host.locator("#team").fill(team)
    host.locator("#start-session").click()
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    code = host.locator("#session-code").inner_text().replace(" ", "")
    screen = pages.open("screen", f"/screen/{code}", PROJECTOR)
    crowd = Crowd(base_url.replace("http://", "ws://") + "/ws")
    try:
        crowd.join(code, [name for name, _, _ in CROWD])

        crowd.run(enter_grades(crowd, CROWD))
        expect(screen.locator("#kring-entered")).to_have_text("14 van 14 hebben een cijfer gegeven")
        control(host, "Cijfers vastzetten")
        expect(screen.locator(".kring-pair")).to_have_count(7)
        control(host, "Toon de kennis per domein")
        expect(screen.locator(".kring-domain")).to_have_count(8)
        pages.shot(screen, "kring-screen-reveal-8-domains")
        check_layout(screen, "reveal")
        # only the 7–8–9 names, per domain; no one's low grade
        expect(
            screen.locator(".kring-domain", has_text="inkomen").locator(".kring-named")
        ).to_have_text("9: Esra")
        expect(screen.locator("#kring-overview")).to_have_count(0)
        expect(screen.locator("#kring-screen-reveal")).not_to_contain_text("Gijs")
        history = httpx.get(f"{base_url}/api/history/kring", params={"team": team}).json()
        kept = {n for d in history["history"][-1]["domains"] for n in d["names"]}
        assert kept == {name for name, _, g in CROWD if g in (7, 8, 9)}

        # the facilitator may show everyone's grade: it takes the stage, whole and readable
        control(host, "Toon alle cijfers")
        expect(screen.locator("#kring-overview")).to_contain_text("Gijs")
        for name, _, _ in CROWD:
            expect(screen.locator("#kring-overview .ov-name", has_text=name)).to_be_visible()
        pages.shot(screen, "kring-screen-reveal-8-domains-overview")
        readable(screen, "overview")
        control(host, "Verberg alle cijfers")
        expect(screen.locator("#kring-overview")).to_have_count(0)
        check_layout(screen, "map again")

        # "Namen verbergen": the projector and the kept history lose the names
        control(host, "Namen verbergen")
        expect(screen.locator(".kring-private")).to_have_text("Namen zijn verborgen.")
        check_layout(screen, "private")
        history = httpx.get(f"{base_url}/api/history/kring", params={"team": team}).json()
        assert len(history["history"]) == 1
        record = history["history"][-1]
        assert record["hide_names"] is True
        assert all(d["names"] == [] for d in record["domains"]), record
        assert "Esra" not in json.dumps(record)
    finally:
        crowd.close()
    pages.assert_clean()


class HeldInputs:
    """Playwright websocket routing for one phone that holds the phone's `input` frames back
    while `hold` is set (a grade saved while the phone is offline) and sends them on later."""

    def __init__(self) -> None:
        self.hold = False
        self.held: list[Any] = []
        self.server: Any = None

    def route(self, ws: Any) -> None:
        import msgpack

        server = ws.connect_to_server()

        def to_server(message: Any) -> None:
            frame = msgpack.unpackb(message) if isinstance(message, bytes) else {}
            if self.hold and isinstance(frame, dict) and frame.get("type") == "input":
                self.held.append(message)
            else:
                server.send(message)

        ws.on_message(to_server)
        server.on_message(lambda m: ws.send(m))
        self.server = server

    def release(self) -> None:
        self.hold = False
        held, self.held = self.held, []
        for message in held:
            self.server.send(message)


def test_the_phone_says_what_did_not_count_at_the_lock(pages: Pages) -> None:
    """Locking with no grade asks first. Then: Eva's grade reaches the server after the lock (saved
    while offline), Finn changed his grade without saving it, Gus's domain was edited away.
    Each phone says so in the kring's words, the facilitator's count leaves the stale entry out,
    and when entry reopens Eva and Finn find their choice back, the notices gone. At the reveal
    Gus's phone does not claim a grade that did not count."""
    from playwright.sync_api import expect

    host = pages.open("host", "/host", LAPTOP)
    host.locator("input[name=quiz][value='kind:circle']").check()
    host.locator("#start-session").click()
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    code = host.locator("#session-code").inner_text().replace(" ", "")
    held = HeldInputs()
    eva = routed_phone(pages, code, "Eva", held.route)
    finn, gus = (join_entry(pages, code, name) for name in ("Finn", "Gus"))
    for phone in (eva, finn, gus):
        expect(phone.locator("#kring-entry")).to_be_visible()

    # no grade yet: "Cijfers vastzetten" asks first (and nothing happens when the host declines)
    dialogs = Dialogs(host)
    dialogs.next(accept=False)
    control(host, "Cijfers vastzetten")
    expect(host.locator("#kring-host-entered")).to_have_text("0 van 3 hebben een cijfer gegeven")
    assert dialogs.asked == ["Nog niemand heeft een cijfer gegeven. Toch vastzetten?"]

    # Gus's domain is edited away: his phone marks it and the counts leave it out
    enter(gus, "inkomen", 7, "")
    editor = host.locator("#kring-domains-edit")
    editor.fill(editor.input_value().replace("inkomen\n", ""))
    dialogs.next(accept=True)  # "Dit wist het cijfer dat al gegeven is. Toch opslaan?"
    host.locator("#kring-domains-form button[type=submit]").click()
    expect(gus.locator(".domain-btn")).to_have_count(7)
    expect(gus.locator("#kring-status")).to_have_text(
        "Dit domein staat niet meer op de lijst: kies opnieuw."
    )
    expect(gus.locator("#kring-status")).to_have_class(re.compile(r"\bis-stale\b"))
    # Finn saves a 6 and then picks an 8 without saving it
    enter(finn, "veiligheid", 6, "")
    finn.get_by_role("button", name="Cijfer 8", exact=True).click()
    expect(finn.locator("#kring-status")).to_have_text("Nog niet opgeslagen")
    # Eva saves while her phone is offline: the grade stays on its way
    held.hold = True
    eva.locator(".domain-btn", has_text=re.compile(r"^participatie$")).click()
    eva.get_by_role("button", name="Cijfer 9", exact=True).click()
    eva.locator("#kring-save").click()
    expect(eva.locator("#kring-status")).to_have_text("Opslaan…")
    expect(host.locator("#kring-host-entered")).to_have_text("1 van 3 hebben een cijfer gegeven")

    dialogs.next(accept=True)  # "Pas 1 van 3 heeft een cijfer gegeven. Toch vastzetten?"
    control(host, "Cijfers vastzetten")
    expect(host.locator("#kring-host-locked")).to_contain_text("1 cijfer vastgezet")
    held.release()  # Eva's grade arrives after the lock
    late = "Je cijfer kwam binnen nadat de cijfers waren vastgezet."
    expect(eva.locator("#kring-late")).to_contain_text(late)
    expect(eva.locator("#kring-rounds")).not_to_contain_text("niet meer open")
    expect(eva.locator("#kring-rounds")).not_to_contain_text("Je hebt geen cijfer gegeven")
    expect(finn.locator("#kring-late")).to_have_text(
        "Je wijziging was nog niet opgeslagen toen de cijfers werden vastgezet: "
        "je opgeslagen cijfer telt."
    )
    expect(finn.locator(".kring-card.is-own .grade-big")).to_have_text("6")
    stale = gus.locator(".kring-card.is-own")
    expect(stale).to_have_class(re.compile(r"\bis-stale\b"))
    expect(stale).to_contain_text("Dit domein staat niet meer op de lijst")
    expect(gus.locator("#kring-late")).to_have_count(0)
    pages.shot(eva, "kring-phone-late", axe=False)
    # Hanna comes in after the lock: her phone says why she has no grade and what can be done
    hanna = join_phone(pages, code, "Hanna", "#kring-rounds")
    expect(hanna.locator("#kring-rounds")).to_contain_text(
        "Je hebt geen cijfer gegeven: de cijfers zijn al vastgezet."
    )
    expect(hanna.locator("#kring-rounds")).to_contain_text(
        "de begeleider kan de cijfers weer openzetten"
    )

    # entry reopens: Eva's and Finn's choices are back as the draft, the notices gone
    control(host, "Cijfers weer open")
    expect(eva.locator("#kring-entry")).to_be_visible()
    expect(eva.get_by_role("button", name="Cijfer 9", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(eva.locator(".domain-btn", has_text=re.compile(r"^participatie$"))).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(eva.locator("#kring-notice")).to_be_hidden()
    expect(eva.locator("#kring-save")).to_be_enabled()
    expect(finn.get_by_role("button", name="Cijfer 8", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(finn.locator("#kring-notice")).to_be_hidden()
    eva.locator("#kring-save").click()
    expect(eva.locator("#kring-status")).to_contain_text("Opgeslagen")
    expect(host.locator("#kring-host-entered")).to_have_text("2 van 4 hebben een cijfer gegeven")

    control(host, "Cijfers vastzetten")
    expect(host.locator("#kring-host-locked")).to_contain_text("2 cijfers vastgezet")
    expect(eva.locator("#kring-late")).to_have_count(0)
    expect(eva.locator(".kring-card.is-own .grade-big")).to_have_text("9")
    control(host, "Toon de kennis per domein")
    expect(gus.locator(".kring-mine")).to_have_text(
        "Je cijfer voor inkomen telt niet mee: dat domein staat niet meer op de lijst."
    )
    expect(eva.locator(".kring-mine")).to_have_text("Jij gaf jezelf een 9 voor participatie.")
    pages.assert_clean()


# The most domains the content allows (circle.MAX_DOMAINS): the eight defaults and four a team
# may add, some of them long. 30 people (a big team), one domain with five people of whom all
# gave a 7, 8 or 9.
TWELVE_DOMAINS = [
    *DEFAULT_DOMAINS,
    "huisvesting en dakloosheid",
    "verslaving en middelengebruik",
    "huiselijk geweld en kindermishandeling",
    "mantelzorg en informele zorg",
]
CROWD_30 = [
    ("Anne-Marie", "inkomen", 9),
    ("Mohammed", "inkomen", 8),
    ("Jan-Willem", "inkomen", 8),
    ("Fleur", "inkomen", 7),
    ("Sanne", "inkomen", 7),
    ("Bas", "lichamelijke gezondheid", 4),
    ("Anouk", "lichamelijke gezondheid", 8),
    ("Carmen", "dagelijks functioneren", 7),
    ("Daan", "dagelijks functioneren", 5),
    ("Gijs", "participatie", 2),
    ("Hanna", "participatie", 7),
    ("Ivo", "opvoeden en opgroeien", 8),
    ("Jasmijn", "opvoeden en opgroeien", 9),
    ("Koen", "opvoeden en opgroeien", 6),
    ("Lotte", "veiligheid", 9),
    ("Mehmet", "veiligheid", 3),
    ("Noor", "psychische gezondheid", 7),
    ("Otto", "psychische gezondheid", 6),
    ("Priya", "generieke competenties", 8),
    ("QuintenVanDenBergHoogland"[:24], "generieke competenties", 5),  # a long name, one word
    ("Rosa", "huisvesting en dakloosheid", 7),
    ("Stijn", "huisvesting en dakloosheid", 4),
    ("Tamara", "verslaving en middelengebruik", 9),
    ("Umut", "verslaving en middelengebruik", 8),
    ("Vera", "huiselijk geweld en kindermishandeling", 8),
    ("Wouter", "huiselijk geweld en kindermishandeling", 9),
    ("Xandra", "huiselijk geweld en kindermishandeling", 7),
    ("Yara", "mantelzorg en informele zorg", 7),
    ("Zeynep", "mantelzorg en informele zorg", 6),
    ("Bram", "mantelzorg en informele zorg", 9),
]


def test_the_projector_fits_twelve_domains_and_thirty_people(pages: Pages, base_url: str) -> None:
    """The most domains a kring may have (12) and a big team (30 people, five in one domain): the projector's entry screen, the pairs and the team map (with and without
    names, and everyone's grades) fit 1920×1080, whole and readable."""
    from playwright.sync_api import expect

    from server.activities.circle import MAX_DOMAINS

    assert len(TWELVE_DOMAINS) == MAX_DOMAINS == len(set(TWELVE_DOMAINS))
    assert {d for _, d, _ in CROWD_30} == set(TWELVE_DOMAINS)
    host = pages.open("host", "/host", LAPTOP)
    host.locator("input[name=quiz][value='kind:circle']").check()
    host.locator("#start-session").click()
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    code = host.locator("#session-code").inner_text().replace(" ", "")
    screen = pages.open("screen", f"/screen/{code}", PROJECTOR)
    host.locator("#kring-domains-edit").fill("\n".join(TWELVE_DOMAINS))
    host.locator("#kring-domains-form button[type=submit]").click()
    expect(screen.locator(".kring-screen-domains li")).to_have_count(12)
    crowd = Crowd(base_url.replace("http://", "ws://") + "/ws")
    try:
        crowd.join(code, [name for name, _, _ in CROWD_30])
        expect(screen.locator("#kring-entered")).to_have_text("0 van 30 hebben een cijfer gegeven")
        pages.shot(screen, "kring-screen-entry-12-domains")
        readable(screen, "entry, 12 domains")

        crowd.run(enter_grades(crowd, CROWD_30))
        expect(screen.locator("#kring-entered")).to_have_text("30 van 30 hebben een cijfer gegeven")
        control(host, "Cijfers vastzetten")
        expect(screen.locator(".kring-pair")).to_have_count(15)
        pages.shot(screen, "kring-screen-rounds-30-people")
        readable(screen, "rounds, 30 people")
        # Two-digit places keep their badge: it is as wide as its number, never squeezed by
        # the names beside it.
        squeezed = screen.eval_on_selector_all(
            ".pair-place",
            """badges => badges.filter(b => {
                const range = document.createRange();
                range.selectNodeContents(b);
                const text = range.getBoundingClientRect().width;
                const em = parseFloat(getComputedStyle(b).fontSize);
                return b.getBoundingClientRect().width < text + 0.3 * em;
            }).map(b => b.textContent)""",
        )
        assert squeezed == [], squeezed
        # A long name of one word wraps inside its pair; none is cut off at the pair's edge.
        cut = screen.eval_on_selector_all(
            ".kring-pair",
            """pairs => pairs.filter(p => {
                const box = p.getBoundingClientRect();
                const names = p.querySelector('.pair-names').getBoundingClientRect();
                return names.right > box.right + 1 || p.scrollWidth > p.clientWidth + 1;
            }).map(p => p.textContent)""",
        )
        assert cut == [], cut

        control(host, "Toon de kennis per domein")
        expect(screen.locator(".kring-domain")).to_have_count(12)
        pages.shot(screen, "kring-screen-reveal-12-domains")
        check_layout(screen, "reveal of 12", cards=12)
        readable(screen, "reveal of 12", floor=36)
        inkomen = screen.locator(".kring-domain", has_text=re.compile(r"^inkomen"))
        expect(inkomen.locator(".kring-named li")).to_have_text(
            ["9: Anne-Marie", "8: Jan-Willem, Mohammed", "7: Fleur, Sanne"]
        )

        control(host, "Toon alle cijfers")
        for name, _, _ in CROWD_30:
            expect(screen.locator("#kring-overview .ov-name", has_text=name)).to_be_visible()
        pages.shot(screen, "kring-screen-reveal-12-domains-overview")
        readable(screen, "overview of 30")
        control(host, "Verberg alle cijfers")
        control(host, "Namen verbergen")
        expect(screen.locator(".kring-private")).to_have_text("Namen zijn verborgen.")
        check_layout(screen, "private, 12", cards=12)
        readable(screen, "private, 12", floor=36)
    finally:
        crowd.close()
    pages.assert_clean()


def test_a_grade_lost_with_a_dead_socket_at_the_lock_says_so(pages: Pages) -> None:
    """Eva saves a grade on a socket that looks open but is dead (its frames are swallowed in
    Playwright's websocket routing); the facilitator locks the grades before her phone is back.
    Her phone then says her grade did not arrive in time for want of a connection, not "Je hebt
    geen cijfer gegeven"; Finn's grade, saved in time, counts."""
    from playwright.sync_api import expect

    net = {"mute": False}

    def route(ws: Any) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda m: None if net["mute"] else server.send(m))
        server.on_message(lambda m: None if net["mute"] else ws.send(m))

    host, code = kring_room(pages)
    eva = routed_phone(pages, code, "Eva", route)
    finn = join_entry(pages, code, "Finn")
    expect(eva.locator("#kring-entry")).to_be_visible()
    enter(finn, "veiligheid", 6, "")
    net["mute"] = True
    eva.locator(".domain-btn", has_text=re.compile(r"^participatie$")).click()
    eva.get_by_role("button", name="Cijfer 8", exact=True).click()
    eva.locator("#kring-save").click()
    expect(eva.locator("#kring-status")).to_have_text("Opslaan…")
    eva.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # checks the socket
    expect(eva.locator("#conn-banner")).to_be_visible(timeout=8_000)  # pong timeout is 5 s
    control(host, "Cijfers vastzetten")
    expect(host.locator("#kring-host-locked")).to_contain_text("1 cijfer vastgezet")
    net["mute"] = False
    expect(eva.locator("#kring-late")).to_contain_text(
        "Je cijfer (participatie: 8) kwam niet aan voordat de cijfers werden vastgezet: "
        "er was geen verbinding.",
        timeout=25_000,  # a muted hello first: the hello timeout is 8 s
    )
    expect(eva.locator("#kring-rounds")).not_to_contain_text("Je hebt geen cijfer gegeven")
    expect(finn.locator(".kring-card.is-own .grade-big")).to_have_text("6")
    pages.assert_clean()


# A big wijkteam's teamdag: 35 people, long Dutch names, one domain where eight know a lot.
CROWD_35 = [
    (name, DEFAULT_DOMAINS[i % 8] if i >= 8 else "inkomen", 7 + i % 3 if i < 8 else 3 + i % 7)
    for i, name in enumerate(
        [
            "Anne-Marie Bakker", "Hendrik-Jan de Vries", "Mohammed El Amrani",
            "Jan-Willem Smit", "Fleur van Dijk", "Rachida Bouzid", "Marloes Visser",
            "Gerrit Jansen", "Latifa Ouali", "Sophie de Boer", "Bart Mulder", "Zoë Peters",
            "Anna", "Kees",
            "Nadia", "Hanneke", "Ümit", "Priya", "Quinten", "Rosalie", "Stijn", "Tamara",
            "Wouter", "Xandra", "Yara", "Zeynep", "Bram", "Carmen", "Daan", "Esra",
            "Floortje", "Gijs", "Hanna", "Ivo", "Jasmijn",
        ]
    )
]  # fmt: skip


def test_the_projector_fits_a_teamday_of_thirty_five(pages: Pages, base_url: str) -> None:
    """35 people (an odd number: a trio) with long names: every pair of the rounds is whole
    inside the 1920×1080 projector, above the prompts; the team map of the eight domains, one
    with eight names at 7–9, has every card whole."""
    from playwright.sync_api import expect

    with graded_kring(pages, base_url, CROWD_35) as (host, screen):
        control(host, "Cijfers vastzetten")
        expect(screen.locator(".kring-pair")).to_have_count(17)
        pages.shot(screen, "kring-screen-rounds-35-people")
        cut = screen.evaluate(
            """() => {
              const prompts = document.querySelector('.kring-screen-prompts').getBoundingClientRect();
              const list = document.querySelector('#kring-pairs').getBoundingClientRect();
              return [...document.querySelectorAll('.kring-pair')].filter((p) => {
                const r = p.getBoundingClientRect();
                return r.bottom > Math.min(prompts.top, list.bottom, innerHeight) + 1
                  || p.scrollHeight > p.clientHeight + 1;
              }).map((p) => p.textContent);
            }"""
        )
        assert cut == [], cut
        readable(screen, "rounds, 35 people", floor=32)
        control(host, "Toon de kennis per domein")
        expect(screen.locator(".kring-domain")).to_have_count(8)
        pages.shot(screen, "kring-screen-reveal-35-people")
        check_layout(screen, "reveal of 35")
        # the eleven at 7–9 in "inkomen" are named or counted, none left out unsaid
        named = screen.locator(".kring-domain", has_text=re.compile(r"^inkomen"))
        items = named.locator(".kring-named li").all_inner_texts()
        shown = sum(len(i.split(": ", 1)[1].split(", ")) for i in items if ": " in i)
        more = [int(i.rsplit(" ", 1)[1]) for i in items if i.startswith("en nog")]
        inkomen = [n for n, d, g in CROWD_35 if d == "inkomen" and 7 <= g <= 9]
        assert shown + sum(more) == len(inkomen) == 11, items
    pages.assert_clean()


def kring_room(pages: Pages) -> tuple[Any, str]:
    """The facilitator's page with a new room whose one werkvorm is the kring."""
    from playwright.sync_api import expect

    host = pages.open("host", "/host", LAPTOP)
    host.locator("input[name=quiz][value='kind:circle']").check()
    host.locator("#start-session").click()
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    return host, host.locator("#session-code").inner_text().replace(" ", "")


@contextlib.contextmanager
def graded_kring(
    pages: Pages, base_url: str, people: list[tuple[str, str, int]]
) -> Iterator[tuple[Any, Any]]:
    """A kring room (host page, projector) whose `people` (name, domain, grade) joined and
    gave their grades over the protocol; their sockets close when the block ends."""
    from playwright.sync_api import expect

    host, code = kring_room(pages)
    screen = pages.open("screen", f"/screen/{code}", PROJECTOR)
    crowd = Crowd(base_url.replace("http://", "ws://") + "/ws")
    try:
        crowd.join(code, [name for name, _, _ in people])
        crowd.run(enter_grades(crowd, people))
        n = len(people)
        expect(screen.locator("#kring-entered")).to_have_text(
            f"{n} van {n} hebben een cijfer gegeven"
        )
        yield host, screen
    finally:
        crowd.close()


# How many columns the domain buttons stand in, and which of them cut their text.
COLUMNS = "(b) => new Set(b.map((n) => Math.round(n.getBoundingClientRect().left))).size"
CLIPPED = "(b) => b.filter((n) => n.scrollWidth > n.clientWidth).map((n) => n.textContent)"


def test_the_kring_fits_narrow_and_zoomed_phones(pages: Pages) -> None:
    """A 240 px phone (a 360 px phone zoomed to 150 %) and a 360 px phone with 150 % text show
    the domains in one column, a 320 px phone in two; the grades stay two rows of five, also
    at 320 px with 150 % text; no kring screen scrolls sideways, and "Opslaan" takes a tap
    (Playwright's click checks nothing else is hit there)."""
    from playwright.sync_api import expect

    host, code = kring_room(pages)
    sizes = {
        "Fleur": ({"width": 240, "height": 427}, False, 1),
        "Johannes-Willem": ({"width": 360, "height": 640}, True, 1),
        "Marieke": ({"width": 320, "height": 568}, False, 2),
        "Sanne": ({"width": 320, "height": 568}, True, 1),
    }
    phones: dict[str, Any] = {}
    for i, (name, (viewport, big_text, columns)) in enumerate(sizes.items()):
        # bypass_csp: the page's CSP would refuse the style that stands in for large text
        phone = pages.open(
            name, f"/join/{code}", viewport, is_mobile=True, has_touch=True, bypass_csp=True
        )
        if big_text:
            phone.add_style_tag(content="html { font-size: 150% !important; }")
        phone.locator("#join-name").fill(name)
        phone.locator("#join-form button[type=submit]").click()
        expect(phone.locator("#kring-entry")).to_be_visible()
        assert phone.locator(".domain-btn").evaluate_all(COLUMNS) == columns, name
        assert phone.locator(".grade-btn").evaluate_all(COLUMNS) == 5, name
        assert phone.locator(".grade-btn").evaluate_all(CLIPPED) == [], name
        assert sideways(phone) == [], name
        pages.shot(phone, f"kring-narrow-entry-{name}", axe=i == 0)
        phone.locator(".domain-btn").nth(5).click()
        phone.get_by_role("button", name="Cijfer 8", exact=True).click()
        phone.locator("#kring-reason").fill("Ik werk al jaren met gezinnen in de wijk")
        phone.locator("#kring-save").click()
        expect(phone.locator("#kring-status")).to_contain_text("Opgeslagen")
        assert sideways(phone) == [], name
        phones[name] = phone

    control(host, "Cijfers vastzetten")
    for name, phone in phones.items():
        expect(phone.locator("#kring-place")).to_be_visible()
        assert sideways(phone) == [], name
    control(host, "Toon de kennis per domein")
    for name, phone in phones.items():
        expect(phone.locator("#kring-reveal .kring-map-row")).to_have_count(1)
        assert sideways(phone) == [], name
    pages.shot(phones["Fleur"], "kring-narrow-reveal-Fleur", axe=False)
    pages.assert_clean()


def test_the_host_sees_who_in_the_circle_is_offline(pages: Pages, base_url: str) -> None:
    """The facilitator's list of pairs marks a partner whose phone dropped out ("(niet
    verbonden)", in English "(not connected)"), and the mark goes when the phone is back."""
    from playwright.sync_api import expect

    from tests.support.phones import Phone

    host, code = kring_room(pages)
    crowd = Crowd(base_url.replace("http://", "ws://") + "/ws")
    try:
        crowd.join(code, ["Anna", "Bram", "Chris", "Dewi"])
        bram = crowd.phones[1]
        token = str((bram.welcome or {})["token"])
        expect(host.locator("#kring-host-entered")).to_have_text(
            "0 van 4 hebben een cijfer gegeven"
        )
        Dialogs(host).next(accept=True)  # locking with no grade asks first
        control(host, "Cijfers vastzetten")
        pairs_list = host.locator("#kring-host-pairs li")
        expect(pairs_list).to_have_count(2)
        expect(host.locator("#kring-host-pairs")).not_to_contain_text("niet verbonden")

        crowd.run(bram.close())  # Bram's phone drops out
        with_bram = pairs_list.filter(has_text="Bram")
        expect(with_bram).to_contain_text("Bram (niet verbonden)")
        expect(host.locator(".kring-host-offline")).to_have_count(1)
        expect(pairs_list.filter(has_not_text="Bram")).not_to_contain_text("niet verbonden")
        pages.shot(host, "kring-host-pairs-offline")

        async def back() -> Phone:
            phone = await Phone(crowd.ws_url).open()
            welcome = await phone.resume(code, token)
            assert welcome["type"] == "welcome", welcome
            return phone

        crowd.phones[1] = crowd.run(back())
        expect(host.locator(".kring-host-offline")).to_have_count(0)
        expect(with_bram).not_to_contain_text("niet verbonden")

        crowd.run(crowd.phones[1].close())
        host.goto(f"{pages.base}/host?lang=en")
        expect(with_bram).to_contain_text("Bram (not connected)")
    finally:
        crowd.close()
    pages.assert_clean()


def seats_on(screen: Any) -> dict[str, tuple[str, int, frozenset[str]]]:
    """Everyone's circle, place and partners, read from the projector's pairs (inner ↔ outer,
    and the trio's third, who stands in the outer circle)."""
    out: dict[str, tuple[str, int, frozenset[str]]] = {}
    for pair in screen.locator(".kring-pair").all():
        place = int(pair.locator(".pair-place").inner_text())
        names = [n.strip() for n in pair.locator(".pair-names").inner_text().split("↔")]
        for i, name in enumerate(names):
            circle = "binnenkring" if i == 0 else "buitenkring"
            out[name] = (circle, place, frozenset(n for n in names if n != name))
    return out


def test_phones_moved_by_a_removal_are_told_the_circle_was_rearranged(pages: Pages) -> None:
    """Six people after a turn; the facilitator removes one. Whoever that moves (the partner
    left behind, the pair that becomes a trio) reads on their phone that the circle was
    rearranged and where they stand now, not the turn's "opgeschoven" line; the others keep
    it. The projector and the facilitator say "opnieuw ingedeeld", not that the circle turned.
    The next turn is a turn again."""
    from playwright.sync_api import expect

    host, code = kring_room(pages)
    screen = pages.open("screen", f"/screen/{code}", PROJECTOR)
    names = ["Anna", "Bram", "Chris", "Dewi", "Eva", "Finn"]
    phones = {name: join_entry(pages, code, name) for name in names}
    expect(host.locator("#kring-host-entered")).to_have_text("0 van 6 hebben een cijfer gegeven")
    Dialogs(host).next(accept=True)  # locking with no grade asks first
    control(host, "Cijfers vastzetten")
    expect(screen.locator(".kring-pair")).to_have_count(3)
    control(host, "Draai 1 plaats")
    expect(screen.locator("#kring-shift")).to_have_text("buitenkring schuift 1 plaats")
    turned = "De buitenkring is 1 plaats opgeschoven."
    for phone in phones.values():
        expect(phone.locator(".kring-shift")).to_have_text(turned)
    before = seats_on(screen)

    # the facilitator removes the inner person of the last place
    leaver = next(n for n, (c, place, _) in before.items() if c == "binnenkring" and place == 3)
    dialogs = Dialogs(host)
    dialogs.next(accept=True)
    host.get_by_role("button", name=f"Verwijder {leaver}", exact=True).click()
    rearranged = "kring opnieuw ingedeeld: kijk op je telefoon waar je nu staat"
    expect(screen.locator("#kring-shift")).to_have_text(rearranged)
    # the question names the session, not a quiz: this is a kring
    assert dialogs.asked == [
        f"Weet je zeker dat je {leaver} uit deze sessie wilt halen? De punten, cijfers en "
        f"stickers van {leaver} tellen dan niet meer mee."
    ]
    expect(screen.locator(".kring-pair")).to_have_count(2)
    expect(host.locator("#kring-host-round")).to_have_text(f"Ronde 2 · {rearranged}")
    after = seats_on(screen)
    assert set(after) == set(names) - {leaver}, after
    moved = {n for n in after if after[n] != before[n]}
    assert moved and moved != set(after), (before, after)  # someone moved, someone did not
    for name in after:
        phone = phones[name]
        circle, place, partners = after[name]
        expect(phone.locator("#kring-circle")).to_have_text(f"Je staat in de {circle}")
        expect(phone.locator("#kring-place")).to_have_text(f"Plaats {place}")
        for partner in partners:
            expect(phone.locator("#kring-opposite")).to_contain_text(partner)
        if name in moved:
            expect(phone.locator("#kring-reseated")).to_have_text(
                "Er kwam iemand bij of ging iemand weg: de kring is opnieuw ingedeeld. "
                f"Je staat nu in de {circle}, op plaats {place}."
            )
            expect(phone.locator(".kring-shift")).to_have_count(0)
        else:
            expect(phone.locator(".kring-shift")).to_have_text(turned)
            expect(phone.locator("#kring-reseated")).to_have_count(0)
    pages.shot(phones[sorted(moved)[0]], "kring-phone-rearranged")
    pages.shot(screen, "kring-screen-rearranged")

    # the next turn is a turn for everyone
    control(host, "Draai 1 plaats")
    expect(screen.locator(".kring-screen-head h1")).to_have_text("Ronde 3")
    expect(screen.locator("#kring-shift")).to_contain_text("buitenkring schuift")
    for name in after:
        expect(phones[name].locator(".kring-round")).to_have_text("Ronde 3")
        expect(phones[name].locator("#kring-reseated")).to_have_count(0)
        expect(phones[name].locator(".kring-shift")).to_contain_text("opgeschoven")
    pages.assert_clean()


def test_a_choice_not_saved_yet_survives_a_reload(pages: Pages) -> None:
    """A domain, a grade and half a reason, then the page reloads (or a cheap phone drops the
    tab while the camera was open): the choice is back, not yet saved; once saved, a reload shows
    the saved entry and no draft is left behind."""
    from playwright.sync_api import expect

    _, code = kring_room(pages)
    phone = pages.open("Noor", f"/join/{code}", PHONE, is_mobile=True, has_touch=True)
    phone.locator("#join-name").fill("Noor")
    phone.locator("#join-form button[type=submit]").click()
    expect(phone.locator("#kring-entry")).to_be_visible()
    domain = phone.locator(".domain-btn").nth(2)
    name = domain.inner_text()
    domain.click()
    phone.get_by_role("button", name="Cijfer 7", exact=True).click()
    phone.locator("#kring-reason").fill("Ik ben er net mee begon")
    phone.reload()
    expect(phone.locator("#kring-entry")).to_be_visible()
    expect(phone.locator(".domain-btn", has_text=name)).to_have_attribute("aria-pressed", "true")
    expect(phone.get_by_role("button", name="Cijfer 7", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(phone.locator("#kring-reason")).to_have_value("Ik ben er net mee begon")
    expect(phone.locator("#kring-save")).to_be_enabled()  # not saved yet: it says so
    phone.locator("#kring-reason").fill("Ik ben er net mee begonnen")
    phone.locator("#kring-save").click()
    expect(phone.locator("#kring-status")).to_contain_text("Opgeslagen")
    assert (
        phone.evaluate("Object.keys(sessionStorage).filter((k) => k.startsWith('kk:draft:'))") == []
    )
    phone.reload()
    expect(phone.locator("#kring-reason")).to_have_value("Ik ben er net mee begonnen")
    expect(phone.locator("#kring-status")).to_contain_text("Opgeslagen")
    pages.assert_clean()


SUBJECTS = ["Nederlands", "Engels", "wiskunde", "geschiedenis", "biologie"]


def test_the_kring_and_the_stickers_are_added_with_their_own_domains(pages: Pages) -> None:
    """A teacher's session: after the quiz the kring is added with school subjects instead of
    the social domains (typed in the programme's form, on a phone-sized page that does not scroll
    sideways); the stickers added next are offered the same subjects, also after a reload, and
    the phones show those subjects in both werkvormen."""
    from playwright.sync_api import expect

    host, _ = programme_host(pages, [{"quiz_id": "demo-kennisdeling"}])
    expect(host.locator("#session-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    code = host.locator("#session-code").inner_text().replace(" ", "")
    phones = [join(pages, code, name) for name in ("Anna", "Bram")]
    host.set_viewport_size(PHONE)
    menu, field = host.locator("#programme-add-kind"), host.locator("#programme-add-domains")
    expect(menu).to_have_value("circle")
    # named apart from the running kring's own list, which has the same kind of field
    add_field = host.get_by_label("Domeinen van de nieuwe werkvorm (één per regel)")
    expect(add_field).to_have_value("\n".join(DEFAULT_DOMAINS))
    field.scroll_into_view_if_needed()
    assert sideways(host) == []
    # a quiz takes no domains: the field goes, and comes back with the kring
    expect(menu.locator("option[value='quiz:demo-kennisdeling']")).to_have_count(1)
    menu.select_option("quiz:demo-kennisdeling")
    expect(field).to_be_hidden()
    menu.select_option("circle")
    expect(field).to_be_visible()
    field.fill("\n".join(SUBJECTS) + "\n\n")  # empty lines are left out
    host.locator("#programme-add-submit").click()
    expect(host.locator("#programme-list li")).to_have_count(2)
    expect(host.locator("#programme-add-error")).to_be_hidden()
    # the page reloaded (another laptop, a refresh): the stickers are offered the kring's subjects
    host.reload()
    menu.select_option("dotvote")
    expect(field).to_have_value("\n".join(SUBJECTS))
    field.scroll_into_view_if_needed()
    assert sideways(host) == []
    pages.shot(host, "programme-add-domains-phone")
    host.locator("#programme-add-submit").click()
    expect(host.locator("#programme-list li")).to_have_count(3)

    host.locator(".action-begin-next").click()  # the kring
    for phone in phones:
        expect(phone.locator(".domain-btn")).to_have_text(SUBJECTS)
    host.locator(".action-begin-next").click()  # the stickers
    for phone in phones:
        expect(phone.locator("#dv-p-domain option:not([value=''])")).to_have_text(SUBJECTS)
    expect(host.locator("#dv-card-form")).to_contain_text("wiskunde")
    pages.assert_clean()


def test_the_stickers_are_offered_the_kring_domains_as_changed_while_it_ran(
    pages: Pages,
) -> None:
    """A kring whose domains the facilitator changed while it ran: once its grades are locked
    (and after its reveal), the stickers added next are offered the changed list, not the one
    the kring was added with."""
    from playwright.sync_api import expect

    host, _ = programme_host(
        pages, [{"kind": "circle", "content": {"domains": ["rekenen", "taal"]}}]
    )
    code = host.locator("#session-code").inner_text().replace(" ", "")
    host.locator("#kring-domains-edit").fill("rekenen\ntaal\nburgerschap")
    host.locator("#kring-domains-form button[type=submit]").click()
    anna = join_entry(pages, code, "Anna")
    expect(anna.locator(".domain-btn")).to_have_text(["rekenen", "taal", "burgerschap"])
    enter(anna, "burgerschap", 8, "")
    control(host, "Cijfers vastzetten")
    menu, field = host.locator("#programme-add-kind"), host.locator("#programme-add-domains")
    menu.select_option("dotvote")
    expect(field).to_have_value("rekenen\ntaal\nburgerschap")
    control(host, "Toon de kennis per domein")
    host.reload()
    menu.select_option("dotvote")
    expect(field).to_have_value("rekenen\ntaal\nburgerschap")
    pages.assert_clean()


def test_domains_the_server_refuses_are_explained_in_the_form_and_kept(pages: Pages) -> None:
    """The running kring's own list is offered for the stickers; a list the server refuses (a
    subject twice) gets the server's Dutch words in the form, the typed text stays, nothing is
    added; corrected, it is added."""
    from playwright.sync_api import expect

    host, _ = programme_host(
        pages, [{"kind": "circle", "content": {"domains": ["rekenen", "taal"]}}]
    )
    menu, field = host.locator("#programme-add-kind"), host.locator("#programme-add-domains")
    expect(host.locator("#programme-list li")).to_have_count(1)
    menu.select_option("dotvote")
    expect(field).to_have_value("rekenen\ntaal")
    typed = "rekenen\ntaal\nwereldoriëntatie\nTaal"
    field.fill(typed)
    host.locator("#programme-add-submit").click()
    error = host.locator("#programme-add-error")
    expect(error).to_have_text("Geef 1 tot 12 verschillende domeinen van hooguit 60 tekens.")
    expect(field).to_have_value(typed)
    expect(host.locator("#programme-list li")).to_have_count(1)
    field.fill("rekenen\ntaal\nwereldoriëntatie")
    host.locator("#programme-add-submit").click()
    expect(host.locator("#programme-list li")).to_have_count(2)
    expect(error).to_be_hidden()
    expect(field).to_have_value("rekenen\ntaal\nwereldoriëntatie")
    pages.assert_clean()


def test_locking_few_grades_or_saving_domains_that_drop_grades_asks_first(pages: Pages) -> None:
    """ "Cijfers vastzetten" with fewer than half of the people graded asks first; a new domain
    list that would drop grades already given says how many; declined, nothing changes."""
    from playwright.sync_api import expect

    host, code = kring_room(pages)
    anna, bram, chris = (join_entry(pages, code, name) for name in ("Anna", "Bram", "Chris"))
    enter(anna, "inkomen", 7, "")
    entered = host.locator("#kring-host-entered")
    expect(entered).to_have_text("1 van 3 hebben een cijfer gegeven")
    dialogs = Dialogs(host)
    dialogs.next(accept=False)
    control(host, "Cijfers vastzetten")
    expect(host.locator(".phase-badge")).to_have_text("Cijfers geven")
    expect(entered).to_have_text("1 van 3 hebben een cijfer gegeven")
    assert dialogs.asked == ["Pas 1 van 3 heeft een cijfer gegeven. Toch vastzetten?"]

    # a list without Anna's domain would drop her grade: declined, the list stays
    editor = host.locator("#kring-domains-edit")
    save = host.locator("#kring-domains-form button[type=submit]")
    editor.fill("wonen\nwerk")
    dialogs.next(accept=False)
    save.click()
    expect(entered).to_have_text("1 van 3 hebben een cijfer gegeven")
    expect(anna.locator(".domain-btn")).to_have_count(len(DEFAULT_DOMAINS))
    assert dialogs.asked[-1] == "Dit wist het cijfer dat al gegeven is. Toch opslaan?"
    enter(bram, "veiligheid", 6, "")
    expect(entered).to_have_text("2 van 3 hebben een cijfer gegeven")
    dialogs.next(accept=False)
    save.click()
    expect(entered).to_have_text("2 van 3 hebben een cijfer gegeven")
    assert dialogs.asked[-1] == "Dit wist de 2 cijfers die al gegeven zijn. Toch opslaan?"
    # only inkomen goes: one of the two grades, and accepted it is saved
    editor.fill("\n".join(d for d in DEFAULT_DOMAINS if d != "inkomen"))
    dialogs.next(accept=True)
    save.click()
    expect(entered).to_have_text("1 van 3 hebben een cijfer gegeven")
    expect(chris.locator(".domain-btn")).to_have_count(len(DEFAULT_DOMAINS) - 1)
    assert dialogs.asked[-1] == (
        "Dit wist 1 van de 2 cijfers die al gegeven zijn (het domein staat niet meer in de "
        "lijst). Toch opslaan?"
    )
    # a list that keeps every graded domain saves without asking
    asked = len(dialogs.asked)
    editor.fill(editor.input_value() + "\nwonen")
    save.click()
    expect(chris.locator(".domain-btn")).to_have_count(len(DEFAULT_DOMAINS))
    # half or more graded: the lock asks nothing
    enter(chris, "wonen", 8, "")
    expect(entered).to_have_text("2 van 3 hebben een cijfer gegeven")
    control(host, "Cijfers vastzetten")
    expect(host.locator(".phase-badge")).to_have_text("Gesprekken in de kring")
    assert len(dialogs.asked) == asked
    pages.assert_clean()


# Trial 8's jeugdteam: twelve people over seven of the eight default domains, three of them at
# 7, 8 and 9 in one domain; "generieke competenties" got no grade.
CROWD_12 = [
    ("Aa", "lichamelijke gezondheid", 4),
    ("Cas", "dagelijks functioneren", 6),
    ("Gijs", "inkomen", 6),
    ("Kim", "inkomen", 7),
    ("Hanna", "participatie", 5),
    ("Ivo", "opvoeden en opgroeien", 9),
    ("Fleur", "opvoeden en opgroeien", 8),
    ("Anouk", "opvoeden en opgroeien", 7),
    ("Daan", "veiligheid", 9),
    ("Bram", "veiligheid", 8),
    ("Jasmijn", "psychische gezondheid", 6),
    ("Esra", "psychische gezondheid", 7),
]


def test_the_map_names_everyone_at_7_to_9_where_the_screen_has_room(
    pages: Pages, base_url: str
) -> None:
    """Trial 8: the projector's card said "9: Ivo · en nog 2" with two grid cells free beside
    the last card; the plenary question ("jij gaf een 7, waarom geen 6?") needs every name. The
    line of domains without a grade stands in the last row's free cells, not under the grid."""
    from playwright.sync_api import expect

    with graded_kring(pages, base_url, CROWD_12) as (host, screen):
        control(host, "Cijfers vastzetten")
        control(host, "Toon de kennis per domein")
        expect(screen.locator(".kring-domain")).to_have_count(7)
        pages.shot(screen, "kring-screen-reveal-7-domains-12-people")
        card = screen.locator(".kring-domain", has_text=re.compile(r"^opvoeden"))
        expect(card.locator(".kring-named li")).to_have_text(["9: Ivo", "8: Fleur", "7: Anouk"])
        expect(screen.locator(".kring-named-more")).to_have_count(0)
        expect(screen.locator(".kring-empty")).to_have_text(
            "Geen cijfers voor: generieke competenties"
        )
        check_layout(screen, "reveal of 12", cards=7)
        readable(screen, "reveal of 12")
    pages.assert_clean()
