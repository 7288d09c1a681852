"""The facilitator page's shell, seen in Chromium: panels a werkvorm builds anew when a phase
comes back are filled again, a control that changed nothing gives the buttons back without
waiting for a view that will not come, the programme leads on once a werkvorm reached its end,
and a phone that joins midway is welcomed."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from tests.conftest import FAST_QUIZ, upload
from tests.support.browser import (
    PHONE,
    PROJECTOR,
    Dialogs,
    Pages,
    answer,
    control,
    join_phone,
    programme_host,
    sideways,
    start_quiz,
)

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
CARDS = [
    {"domain": "inkomen", "onderwerp": "Gesprekken over geldzorgen"},
    {"domain": "veiligheid", "onderwerp": "Meldcode huiselijk geweld"},
    {"domain": "participatie", "onderwerp": "Signalen van eenzaamheid"},
]


def stickers_host(pages: Pages) -> tuple[Any, list[str]]:
    """A room running zes stickers with three cards, its host page, and that page's console."""
    return programme_host(pages, [{"kind": "dotvote", "content": {"cards": CARDS}}])


def test_panels_are_filled_again_when_their_phase_comes_back(pages: Pages) -> None:
    """The stickers' host rebuilds its panels on every phase change; a panel whose data is the
    same as the last time it was shown (the cut, the card form) must not stay an empty box."""
    from playwright.sync_api import expect

    host, _ = stickers_host(pages)
    expect(host.locator("#dv-card-form")).to_be_visible()
    control(host, "Stemmen openen")
    expect(host.locator(".phase-badge")).to_have_text("Stickers plakken")
    # the card form of the cards phase, with the same data, in the voting phase's new panel
    expect(host.locator("#dv-card-form")).to_be_visible()
    control(host, "Stemmen sluiten")
    expect(host.locator("#dv-cut-form")).to_be_visible()
    control(host, "Stemmen weer openen")
    expect(host.locator(".phase-badge")).to_have_text("Stickers plakken")
    control(host, "Stemmen sluiten")
    expect(host.locator(".phase-badge")).to_have_text("Uitslag")
    expect(host.locator("#dv-cut-form")).to_be_visible()
    control(host, "Naar de samenvatting")
    expect(host.locator("#dv-h-owners")).not_to_be_empty()
    control(host, "Terug naar de uitslag")
    expect(host.locator("#dv-cut-form")).to_be_visible()
    control(host, "Naar de samenvatting")
    expect(host.locator("#dv-h-owners")).not_to_be_empty()
    pages.assert_clean()


def test_a_control_that_changes_nothing_gives_the_buttons_back(pages: Pages) -> None:
    """Saving the cut that is already set is stored (`done`) but shows nothing new, so no view
    follows: the buttons come back after the `done` instead of after the 4 s fallback."""
    from playwright.sync_api import expect

    host, console = stickers_host(pages)
    control(host, "Stemmen openen")
    control(host, "Stemmen sluiten")
    expect(host.locator("#dv-cut-form")).to_be_visible()
    back = host.locator("#controls button", has_text="Stemmen weer openen")
    expect(back).to_be_enabled()
    host.locator("#dv-cut-save").click()
    expect(back).to_be_disabled()  # the control is on its way
    expect(back).to_be_enabled(timeout=2500)  # the fallback alone would take 4 s
    assert not [line for line in console if "unknown frame type" in line], console
    pages.assert_clean()


def test_texts_take_their_singular_for_one(pages: Pages) -> None:
    """`t(key, {n: 1})` uses `key_one` where the catalogue has it ("1 punt", not "1 punten"),
    in both languages; other counts and keys without a singular are unchanged."""
    page = pages.open("host", "/host", LAPTOP)
    asked = """async () => {
      const url = performance.getEntriesByType('resource').map((e) => e.name)
        .find((name) => /\\/js\\/render[.-]/.test(name) || name.includes('/js/render.js'));
      const { t } = await import(url);
      const { fmtNumber } = await import(url);
      return [t('points_n', {n: 1}), t('points_n', {n: '1'}), t('points_n', {n: 2}),
              t('players_n', {n: 1}), t('question_n_of', {n: 1, total: 3}),
              t('points_n', {n: fmtNumber(1000)}), t('points_n', {n: fmtNumber(1)})];
    }"""
    assert page.evaluate(asked) == [
        "1 punt",
        "1 punt",
        "2 punten",
        "1 deelnemer",
        "Vraag 1 van 3",
        "1.000 punten",  # a formatted thousand is no "1 punt"
        "1 punt",
    ]
    english = pages.open("host-en", "/host?lang=en", LAPTOP)
    assert english.evaluate(asked)[:4] == ["1 point", "1 point", "2 points", "1 player"]
    assert english.evaluate(asked)[5] == "1,000 points"
    pages.assert_clean()


def test_a_projector_for_an_unknown_room_leads_to_a_new_session(pages: Pages) -> None:
    """A projector tab whose room is gone (a typo, a restarted in-memory server) says so in its
    own words and offers the way on: a new session on the facilitator's page."""
    from playwright.sync_api import expect

    screen = pages.open("screen", "/screen/000000", {"width": 1920, "height": 1080})
    expect(screen.locator(".screen-error")).to_have_text("Deze sessie bestaat niet (meer).")
    screen.get_by_role("link", name="Start een nieuwe sessie").click()
    expect(screen.get_by_role("button", name="Start een sessie")).to_be_visible()
    # a code mistyped in the address bar (five digits): the same page, in the language asked
    typo = pages.open("typo", "/screen/12345?lang=en", {"width": 1920, "height": 1080})
    expect(typo.locator(".screen-error")).to_have_text("This session does not exist (any more).")
    expect(typo.get_by_label("Session code")).to_be_visible()
    pages.assert_clean()


def test_a_projector_whose_room_is_gone_shows_another_from_its_code(pages: Pages) -> None:
    """After a restart of an in-memory server the projector's session is gone; once the
    facilitator started a new one, the projector tab shows it from the new code as typed from
    the screen ("123 456"), without going through the facilitator's page."""
    from playwright.sync_api import expect

    host, _ = programme_host(pages, [{"quiz_id": "demo-kennisdeling"}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    screen = pages.open("screen", "/screen/000000", {"width": 1280, "height": 720})
    expect(screen.locator(".screen-error")).to_have_text("Deze sessie bestaat niet (meer).")
    pages.shot(screen, "screen-session-gone")
    screen.get_by_label("Code van de sessie").fill(f"{code[:3]} {code[3:]}")
    screen.get_by_role("button", name="Toon op dit scherm").click()
    expect(screen.locator(".join-panel")).to_be_visible()
    assert screen.url.endswith(f"/screen/{code}"), screen.url
    pages.assert_clean()


def test_the_facilitator_page_fits_a_phone(pages: Pages) -> None:
    """At 360×640 nothing on the facilitator's page reaches beyond the screen: not the setup,
    not the running session, not the programme's menu, which a select would make as wide as its
    longest option ("Themaquiz: Armoede en schulden: wie kun je inschakelen?", 513 px) unless
    told to shrink; chosen, that option is cut in the closed menu."""
    from playwright.sync_api import expect

    host = pages.open("host", "/host", PHONE)
    demo = host.locator(".quiz-choice", has_text="Snelle demo")
    demo.click()
    assert sideways(host) == []
    host.get_by_role("button", name="Start een sessie").click()
    expect(host.locator("#session-code")).to_be_visible()
    menu = host.locator("#programme-add-kind")
    longest = menu.locator("option", has_text="Armoede en schulden")
    expect(longest).to_have_count(1)  # the library is in the menu
    menu.scroll_into_view_if_needed()
    assert sideways(host) == []
    menu.select_option(label=longest.inner_text())
    assert sideways(host) == []
    pages.shot(host, "host-phone-programme")
    pages.assert_clean()


def test_addresses_without_a_page_lead_on(pages: Pages) -> None:
    """`…/join` typed from a poster is the page where a phone types its code; the projector's
    page opened without a code says it is opened from the facilitator's page and leads there;
    an address that is no page says so in Dutch, in the pages' own style, and leads home."""
    from playwright.sync_api import expect

    poster = pages.open("poster", "/join", PHONE, is_mobile=True, has_touch=True)
    expect(poster.locator("#join-code")).to_be_visible()

    lost = pages.open("lost", "/doe-mee", PHONE, is_mobile=True, has_touch=True)
    expect(lost.get_by_role("heading", level=1)).to_have_text("Pagina niet gevonden")
    expect(lost.locator(".site-header .brand")).to_be_visible()
    assert sideways(lost) == []
    pages.shot(lost, "not-found-phone")
    lost.get_by_role("link", name="Naar de startpagina").click()
    expect(lost.locator("#join-code")).to_be_visible()

    screen = pages.open("screen", "/screen", LAPTOP)
    expect(screen.get_by_role("heading", level=1)).to_have_text("Scherm voor de beamer")
    expect(screen.locator("main")).to_contain_text("Open het scherm voor de beamer")
    pages.shot(screen, "screen-without-code")
    screen.get_by_role("link", name="Naar de pagina van de begeleider").click()
    expect(screen.get_by_role("button", name="Start een sessie")).to_be_visible()
    pages.assert_clean()


def test_starting_a_quiz_nobody_joined_asks_first(pages: Pages) -> None:
    """Start in an empty lobby asks before the first question runs for nobody; cancelling keeps
    the lobby, confirming starts."""
    from playwright.sync_api import expect

    host = pages.open("host", "/host", LAPTOP)
    host.get_by_role("button", name="Start een sessie").click()
    expect(host.locator("#session-code")).to_be_visible()
    dialogs = Dialogs(host)
    dialogs.next(accept=False)
    control(host, "Start")
    expect(host.locator(".phase-badge")).to_have_text("Wachten op deelnemers")
    assert dialogs.asked == ["Er doet nog niemand mee. Toch de eerste vraag starten?"]
    dialogs.next(accept=True)
    control(host, "Start")
    expect(host.locator(".phase-badge")).to_have_text("Vraag loopt")
    assert len(dialogs.asked) == 2
    pages.assert_clean()


def test_quizzes_with_the_same_title_can_be_told_apart(pages: Pages) -> None:
    """Two uploads with one title: the setup list and the programme's menu name each with its
    id and say they were uploaded; the programme does not repeat a title that is its kind."""
    from playwright.sync_api import expect

    from tests.conftest import FAST_QUIZ, upload

    twins = [{**FAST_QUIZ, "id": f"tweeling-{suffix}", "title": "Tweelingquiz"} for suffix in "ab"]
    for quiz in twins:
        upload(pages.base, quiz)
    host = pages.open("host", "/host", LAPTOP)
    choices = host.locator(".quiz-choice", has_text="Tweelingquiz")
    expect(choices).to_have_count(2)
    for i, quiz in enumerate(twins):
        expect(choices.nth(i).locator("small")).to_contain_text(f"geüpload · {quiz['id']}")
    # a title nobody else has keeps its plain line
    demo = host.locator(".quiz-choice", has_text="Snelle demo")
    expect(demo.locator("small")).not_to_contain_text("snelle-demo")
    expect(demo.locator("small")).not_to_contain_text("geüpload")

    # Every quiz in the library leads to a session with it: "Spelen" chooses it here.
    library = pages.open("library", "/quizzes", LAPTOP)
    library.locator(".quiz-card[data-id='tweeling-b'] .quiz-play").click()
    expect(library).to_have_url(re.compile(r"/host\?quiz=tweeling-b$"))
    expect(library.locator("input[name=quiz][value='tweeling-b']")).to_be_checked()

    host.get_by_role("button", name="Start een sessie").click()
    expect(host.locator("#session-code")).to_be_visible()
    menu = host.locator("#programme-add-kind")
    expect(menu.locator("option", has_text="Tweelingquiz (tweeling-a)")).to_have_count(1)
    expect(menu.locator("option", has_text="Tweelingquiz (tweeling-b)")).to_have_count(1)
    menu.select_option(label="Binnen- en buitenkring")
    host.locator("#programme-add-submit").click()
    row = host.locator(".programme-item").last
    expect(row).to_contain_text("Binnen- en buitenkring · nog niet gestart")
    expect(row).not_to_contain_text("Binnen- en buitenkring · Binnen- en buitenkring")
    pages.assert_clean()


def test_the_programme_leads_on_once_a_werkvorm_reached_its_end(pages: Pages) -> None:
    """At the quiz's podium the programme's next werkvorm is the main button and playing the
    quiz again asks first (it resets everyone's points); back at a finished quiz, the next
    button skips nothing done and the programme says what is done and what is halfway."""
    from playwright.sync_api import expect

    quiz_id = upload(pages.base, FAST_QUIZ)
    host, _ = programme_host(pages, [{"quiz_id": quiz_id}, {"kind": "circle", "content": {}}])
    dialogs = Dialogs(host)
    dialogs.next(accept=True)  # nobody joined: start anyway
    host.locator("#controls .action-start").click()
    expect(host.locator(".phase-badge")).to_have_text("Vraag loopt")
    dialogs.next(accept=True)
    control(host, "Afronden")
    expect(host.locator(".phase-badge")).to_have_text("Podium")

    begin_next = host.locator(".action-begin-next")
    expect(begin_next).to_have_text("Start volgende: Binnen- en buitenkring")
    expect(begin_next).to_have_class(re.compile(r"\bbtn-primary\b"))
    restart = host.locator("#controls .action-restart")
    expect(restart).to_have_class(re.compile(r"\bbtn-secondary\b"))
    dialogs.next(accept=False)
    restart.click()
    expect(restart).to_be_enabled()  # the page took the refusal: nothing was sent
    assert dialogs.asked[-1].startswith("Nog een keer spelen? Iedereen begint weer met 0 punten")
    expect(host.locator(".phase-badge")).to_have_text("Podium")

    begin_next.click()
    items = host.locator("#programme-list li")
    expect(items.nth(1)).to_contain_text("loopt nu")
    expect(items.nth(0)).to_contain_text("gedaan")
    expect(host.locator(".action-begin-next")).to_have_count(0)  # nothing after the kring

    items.nth(0).get_by_role("button", name="Terug hierheen").click()
    expect(host.locator(".phase-badge")).to_have_text("Podium")
    expect(items.nth(0)).to_contain_text("gedaan · nu op het scherm")
    expect(items.nth(1)).to_contain_text("onderbroken")
    expect(host.locator(".action-begin-next")).to_have_text("Verder met: Binnen- en buitenkring")
    pages.assert_clean()


def test_a_latecomer_is_welcomed_rather_than_left_off_the_scoreboard(pages: Pages) -> None:
    """A phone that joins at the reveal or the scoreboard has no place yet: it says welcome and
    that it plays from the next question (no verdict on a question it never saw); a phone that
    played shows its place, not the welcome."""
    from playwright.sync_api import expect

    quiz_id = upload(pages.base, FAST_QUIZ)
    host, _ = programme_host(pages, [{"quiz_id": quiz_id}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    anna = join_phone(pages, code, "Anna", ".joined-as")
    start_quiz(host)
    answer(anna, "Niemand", last=True)
    expect(host.locator(".phase-badge")).to_have_text("Antwoord")
    # Joined during the reveal: a welcome, not "Geen antwoord gegeven" as if she had missed it
    dirk = join_phone(pages, code, "Dirk", ".reveal")
    expect(dirk.locator(".joined-midway")).to_have_text(
        "Welkom, Dirk! Je speelt mee vanaf de volgende vraag."
    )
    expect(dirk.locator(".verdict")).to_have_count(0)
    expect(anna.locator(".verdict h1")).to_have_text("Helaas, fout")
    control(host, "Toon tussenstand")
    expect(anna.locator(".scoreboard-phone")).to_be_visible()
    eva = join_phone(pages, code, "Eva", ".scoreboard-phone")
    expect(eva.locator(".joined-midway")).to_have_text(
        "Welkom, Eva! Je speelt mee vanaf de volgende vraag."
    )
    expect(anna.locator(".rank")).to_have_text("Je staat op plek 1 van 1")
    expect(anna.locator(".joined-midway")).to_have_count(0)
    Dialogs(host).next(accept=True)  # "Afronden" asks first
    control(host, "Afronden")
    expect(anna.locator(".podium-phone")).to_contain_text("Bedankt voor het meedoen!")
    # Joined once it is over: welcomed to watch the winners, not thanked for 0 points
    fleur = join_phone(pages, code, "Fleur", ".podium-phone")
    expect(fleur.locator(".joined-late")).to_have_text(
        "Welkom, Fleur! Deze quiz is net afgelopen: kijk mee wie er gewonnen heeft."
    )
    expect(fleur.locator(".podium-phone")).not_to_contain_text("Bedankt voor het meedoen")
    expect(fleur.locator(".podium-phone")).not_to_contain_text("Totaal")
    expect(anna.locator(".joined-late")).to_have_count(0)
    pages.assert_clean()


def test_a_control_pressed_from_the_keyboard_keeps_the_focus_in_the_bar(pages: Pages) -> None:
    """Enter on "Start" disables it on its way and rebuilds the bar: focus comes back to the
    bar's first control, not to the page's body, so keyboard and screen-reader users go on
    from there; a control that stays ("Vergrendel") keeps it."""
    from playwright.sync_api import expect

    quiz_id = upload(pages.base, FAST_QUIZ)
    host, _ = programme_host(pages, [{"quiz_id": quiz_id}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    join_phone(pages, code, "Anna", ".joined-as")
    expect(host.locator("#players h2")).not_to_have_text(re.compile(r"\(0\)"))
    focused = "() => document.activeElement.closest('#controls') ? document.activeElement.textContent : document.activeElement.tagName"
    host.locator("#controls button", has_text="Start").focus()
    host.keyboard.press("Enter")
    expect(host.locator(".phase-badge")).to_have_text("Vraag loopt")
    _focus_settles(host, focused)
    first = host.locator("#controls button:not(:disabled)").first.inner_text()
    assert host.evaluate(focused) == first
    host.locator("#controls button", has_text="Vergrendel").focus()
    host.keyboard.press("Enter")
    expect(host.locator("#controls button", has_text="Ontgrendel")).to_be_visible()
    _focus_settles(host, focused)
    assert host.evaluate(focused) in (
        "Ontgrendel",
        host.locator("#controls button").first.inner_text(),
    )
    pages.assert_clean()


def _focus_settles(page: Any, focused: str) -> None:
    """Wait (bounded) until the focus left the body: polled from here, since the page's CSP
    forbids the string evaluation Playwright's own polling would use."""
    for _ in range(40):
        if page.evaluate(focused) != "BODY":
            return
        page.wait_for_timeout(100)


def test_each_page_names_a_werkvorm_in_its_own_language(pages: Pages, live_server: Any) -> None:
    """An English room runs a kring, then zes stickers, both given no title: the facilitator's
    programme, the projector, an English phone and the bokaal page name them in English, a
    Dutch phone in the same room in Dutch. A team record an earlier version kept with the Dutch
    name written out reads in each page's language too; a title given is shown as given."""
    from playwright.sync_api import expect

    from server.hub.bokaal import team_key
    from server.hub.filestore import FileStore

    team = f"Team Tulp {uuid.uuid4().hex[:6]}"
    kept = [
        {"date": 1_700_000_000, "title": "Zes stickers prioriteren", "themes": [], "others": []},
        {"date": 1_700_100_000, "title": "Scholingsplan 2026", "themes": [], "others": []},
    ]
    FileStore(live_server.data_dir).put("dotvote", team_key(team), json.dumps(kept).encode())
    kring, stickers = (
        {"kind": "circle", "content": {}},
        {"kind": "dotvote", "content": {"cards": CARDS}},
    )
    host, _ = programme_host(pages, [kring, stickers], lang="en", team=team)
    code = host.locator("#session-code").inner_text().replace(" ", "")
    names = ["Inner and outer circle", "Six stickers: set priorities"]
    items = host.locator("#programme-list .programme-title")
    expect(items).to_have_text(names)
    screen = pages.open("screen", f"/screen/{code}?lang=en", {"width": 1920, "height": 1080})
    expect(screen.locator(".screen-title")).to_have_text(names[0])
    emma = pages.open("Emma", f"/join/{code}?lang=en", PHONE, is_mobile=True, has_touch=True)
    expect(emma.locator("#room-info")).to_have_text(f"You are joining: {names[0]}")
    emma.locator("#join-name").fill("Emma")
    emma.locator("#join-form button[type=submit]").click()
    expect(emma.locator(".kring-heading")).to_have_text(names[0])
    daan = join_phone(pages, code, "Daan", "#kring-entry")
    expect(daan.locator(".kring-heading")).to_have_text("Binnen- en buitenkring")

    expect(host.locator(".action-begin-next")).to_have_text(f"Start next: {names[1]}")
    host.locator(".action-begin-next").click()
    expect(screen.locator(".screen-title")).to_have_text(names[1])
    expect(emma.locator(".dv-heading")).to_have_text(names[1])
    expect(daan.locator(".dv-heading")).to_have_text("Zes stickers prioriteren")
    for page in (host, screen, emma):
        for dutch in ("Binnen- en buitenkring", "Zes stickers prioriteren"):
            expect(page.locator("body")).not_to_contain_text(dutch)
    pages.shot(host, "titles-host-en")

    bokaal = pages.open("bokaal", f"/bokaal?team={team}&lang=en", LAPTOP)
    meetings = bokaal.locator("#team-themes h3")
    expect(meetings).to_have_count(2)
    expect(meetings.nth(0)).to_contain_text("· Scholingsplan 2026")
    expect(meetings.nth(1)).to_contain_text(f"· {names[1]}")
    bokaal.goto(f"{pages.base}/bokaal?team={team}&lang=nl")
    expect(meetings.nth(1)).to_contain_text("· Zes stickers prioriteren")
    pages.assert_clean()


def test_the_session_can_be_controlled_from_another_device(pages: Pages) -> None:
    """A second laptop (a browser without the session) opens the host page's hand-over link and
    controls the running session; the secret leaves its address bar at once. A link whose key
    is wrong says so and leads to a new session, and leaving a session says what it means."""
    from playwright.sync_api import expect

    quiz_id = upload(pages.base, FAST_QUIZ)
    host, _ = programme_host(pages, [{"quiz_id": quiz_id}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    anna = join_phone(pages, code, "Anna", ".joined-as")
    host.get_by_text("Op een ander apparaat bedienen").click()
    link = host.get_by_label("Link om deze sessie op een ander apparaat te bedienen")
    expect(link).to_be_visible()
    url = link.input_value()
    assert url.startswith(f"{pages.base}/host") and f"#room={code}&key=" in url, url
    pages.shot(host, "host-handover-open")

    other = pages.open(
        "second laptop", url.removeprefix(pages.base), {"width": 1366, "height": 768}
    )
    expect(other.locator("#session-code")).to_have_text(f"{code[:3]} {code[3:]}")
    assert "#" not in other.url and "key=" not in other.url, other.url
    expect(other.locator("#players h2")).not_to_have_text(re.compile(r"\(0\)"))
    control(other, "Start")  # from the second laptop: the phone and the first laptop follow
    expect(anna.locator(".answers button").first).to_be_visible()
    expect(host.locator(".phase-badge")).to_have_text("Vraag loopt")
    other.reload()  # the session is this browser's own now
    expect(other.locator(".phase-badge")).to_have_text("Vraag loopt")

    wrong = url.split("&key=")[0] + "&key=fout"
    stranger = pages.open(
        "stranger", wrong.removeprefix(pages.base), {"width": 1366, "height": 768}
    )
    expect(stranger.locator("#host-setup .form-error")).to_have_text(
        "Deze link opent geen sessie: die bestaat niet meer, of de link is niet compleet. "
        "Start een nieuwe sessie."
    )
    assert "key=" not in stranger.url

    dialogs = Dialogs(host)
    dialogs.next(accept=False)
    host.locator("#new-session").click()
    expect(host.locator("#session-code")).to_be_visible()  # dismissed: still in the session
    assert dialogs.asked == [
        "Deze sessie verlaten en een nieuwe starten? De resultaten blijven op dit apparaat te "
        "downloaden onder ‘Eerdere sessies op dit apparaat’. De sessie bedien je daarna niet "
        "meer vanaf dit apparaat (wel met de link van ‘Op een ander apparaat bedienen’)."
    ]
    pages.assert_clean()


def test_a_control_pressed_without_a_connection_is_refused_not_kept(pages: Pages) -> None:
    """Offline, a control is not sent minutes later when the meeting moved on: the page says
    nothing was sent, and once the connection is back the same button works."""
    from playwright.sync_api import expect

    quiz_id = upload(pages.base, FAST_QUIZ)
    host, _ = programme_host(pages, [{"quiz_id": quiz_id}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    anna = join_phone(pages, code, "Anna", ".joined-as")
    expect(host.locator("#players h2")).not_to_have_text(re.compile(r"\(0\)"))
    host.context.set_offline(True)
    expect(host.locator("#conn-banner")).to_be_visible()
    control(host, "Start")
    expect(host.locator("#host-notice")).to_have_text(
        "Geen verbinding met de server: er is niets verstuurd. "
        "Druk opnieuw zodra de verbinding terug is."
    )
    host.context.set_offline(False)
    expect(host.locator("#conn-banner")).to_be_hidden()
    host.wait_for_timeout(1_000)  # a queued control would have gone by now
    expect(anna.locator(".answers button")).to_have_count(0)
    expect(host.locator(".phase-badge")).to_have_text("Wachten op deelnemers")
    control(host, "Start")
    expect(anna.locator(".answers button").first).to_be_visible()
    pages.assert_clean()


def test_a_locked_session_says_so_in_words_of_any_werkvorm(pages: Pages) -> None:
    """A stickers round locked by the facilitator: a latecomer reads that the session is closed
    to new players, in their own language, with no word of a quiz."""
    from playwright.sync_api import expect

    host, _ = programme_host(pages, [{"kind": "dotvote"}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    join_phone(pages, code, "Anna", "main")
    control(host, "Vergrendel")
    expect(host.locator("#controls button", has_text="Ontgrendel")).to_be_visible()
    for lang, name, says in (
        ("en", "Ben", "The facilitator has closed this session to new players."),
        ("nl", "Cas", "De begeleider heeft de deelname gesloten."),
    ):
        phone = pages.open(name, f"/join/{code}?lang={lang}", PHONE, is_mobile=True)
        phone.locator("#join-name").fill(name)
        phone.locator("#join-form button[type=submit]").click()
        expect(phone.locator("#join-error")).to_have_text(says)
        assert "quiz" not in phone.locator("main").inner_text().lower()
    pages.assert_clean()


def test_a_resized_projector_keeps_the_werkvorm_that_runs(pages: Pages) -> None:
    """The quiz's podium, then the stickers: the phone's podium says another werkvorm follows;
    when the projector's window is resized (full screen on, another beamer) it lays out the
    stickers again, never the quiz that ran before."""
    from playwright.sync_api import expect

    quiz_id = upload(pages.base, FAST_QUIZ)
    host, _ = programme_host(pages, [{"quiz_id": quiz_id}, {"kind": "dotvote"}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    screen = pages.open("screen", f"/screen/{code}", PROJECTOR)
    zoe = join_phone(pages, code, "Zoë", ".joined-as")
    expect(host.locator("#players h2")).not_to_have_text(re.compile(r"\(0\)"))
    host.locator("#controls .action-start").click()
    expect(host.locator(".phase-badge")).to_have_text("Vraag loopt")
    Dialogs(host).next(accept=True)  # "Afronden" asks first
    control(host, "Afronden")
    expect(screen.locator(".screen-podium")).to_be_visible()
    # The phone's podium says the meeting goes on: the stickers follow.
    expect(zoe.locator(".next-werkvorm")).to_have_text(
        "Er volgt nog een werkvorm: laat deze pagina open."
    )
    host.locator(".action-begin-next").click()
    expect(host.locator(".phase-badge")).to_have_text("Kaarten maken")
    expect(screen.locator(".dv-screen-cards")).to_be_visible()
    for size in ({"width": 1280, "height": 720}, {"width": 1920, "height": 1080}):
        screen.set_viewport_size(size)
        screen.wait_for_timeout(300)  # the resize's redraw
        expect(screen.locator(".dv-screen-cards")).to_be_visible()
        expect(screen.locator(".screen-podium")).to_have_count(0)
    pages.assert_clean()


def test_the_projector_says_how_to_join_in_the_other_language_too(pages: Pages) -> None:
    """An international class reads a Dutch projector: under the code, the way to join in
    English (marked as English for screen readers), and on an English projector in Dutch. The
    join panel with its QR code stays whole on a 1024×768 projector and on 1920×1080; a short
    1280×720 one keeps its room for the QR code instead (test_projector_readability.py)."""
    from playwright.sync_api import expect

    host, _ = programme_host(pages, [{"quiz_id": "demo-kennisdeling"}])
    code = host.locator("#session-code").inner_text().replace(" ", "")
    for size, lang, text, marked in (
        ({"width": 1920, "height": 1080}, "", "On your phone: go to", "en"),
        ({"width": 1024, "height": 768}, "", "On your phone: go to", "en"),
        ({"width": 1024, "height": 768}, "?lang=en", "Op je telefoon: ga naar", "nl"),
    ):
        screen = pages.open(f"screen-{size['width']}{lang}", f"/screen/{code}{lang}", size)
        line = screen.locator(".join-panel .join-other-lang")
        expect(line).to_contain_text(text)
        expect(line).to_contain_text("127.0.0.1")  # the address, as on the line above
        expect(line).to_have_attribute("lang", marked)
        inside = screen.evaluate(
            """() => [...document.querySelectorAll('.join-panel, .join-panel .qr')].every((n) => {
                 const r = n.getBoundingClientRect();
                 return r.top >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
               })"""
        )
        assert inside, f"the join panel is cut off at {size} {lang}"
        pages.shot(screen, f"screen-join-other-lang-{size['width']}{lang.replace('?', '-')}")
    short = pages.open("screen-1280", f"/screen/{code}", {"width": 1280, "height": 720})
    expect(short.locator(".join-panel .room-code")).to_be_visible()
    expect(short.locator(".join-panel .join-other-lang")).to_be_hidden()
    pages.assert_clean()
