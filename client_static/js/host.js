// The facilitator (laptop, or a phone as remote): pick a quiz, start a room, pace it, export results.

import { withOrganiserKey } from "./keys.js";
import { Connection } from "./connection.js";
import { $, bindBanner, el, fmtNumber, lang, replace, saveBlob, t } from "./render.js";
import * as quizHost from "./werkvormen/quiz-host.js";
import * as circleHost from "./werkvormen/circle-host.js";
import * as dotvoteHost from "./werkvormen/dotvote-host.js";

// Each werkvorm draws its own buttons and mirror; the shell keeps the room, programme, players.
const RENDERERS = { quiz: quizHost, circle: circleHost, dotvote: dotvoteHost };
// The werkvormen that start from their own default content (no quiz file needed).
const KINDS = ["circle", "dotvote"];
// What each werkvorm gets without content of its own (`GET /api/werkvormen`), fetched once: the
// programme's add form offers the kring's and the stickers' default domains from it when the
// session has no kring or stickers yet.
let defaults = null;

const app = $("#app");
const banner = bindBanner($("#conn-banner"));
const STORE = "kk:host";
// Sessions this device left with "Nieuwe sessie" ({code, secret, team, date}, newest first): their
// results stay downloadable here while their rooms exist.
const EARLIER = "kk:host:earlier";
const EARLIER_MAX = 5;
const DEMO_QUIZ = "demo-kennisdeling";

let conn = null;
let session = null; // {code, secret, join_url}
let view = null;
let busyUntilV = null; // a control was sent: buttons stay disabled until a newer view arrives
let busyTimer = null;
let pressed = null; // the label of the control sent from #controls, to give focus back to
const DONE_GRACE_MS = 500; // after a `done`, how long the buttons wait for the view that follows
// The buttons come back no sooner than this after a control was sent, even when its view came
// at once: the second click (or Enter) of a tired "did it work?" double press must not land on
// the button that took the first one's place (Start, then "Vraag nu sluiten" under the pointer).
const SETTLE_MS = 800;
let sentAt = 0;
let settleTimer = null;
let current = null; // the werkvorm renderer on the page
let library = null; // the quizzes that can be added to the programme (fetched once per session)
let addForm = null; // the programme's add form: made once per session, so what is typed survives
let offered = { from: null, domains: [] }; // what the add form's domains field offers
const sectionData = new Map(); // section id -> {node, json}: the element and the data it shows

// ---------------------------------------------------------------- storage

function loadSession() {
  try {
    const s = JSON.parse(localStorage.getItem(STORE) || "null");
    return s && /^\d{6}$/.test(s.code) && typeof s.secret === "string" ? s : null;
  } catch {
    return null;
  }
}

function saveSession(s) {
  try {
    localStorage.setItem(STORE, JSON.stringify(s));
  } catch {
    /* private mode: a refresh will not find the room again */
  }
}

function clearSession() {
  try {
    localStorage.removeItem(STORE);
  } catch {
    /* ignore */
  }
}

function loadEarlier() {
  try {
    const list = JSON.parse(localStorage.getItem(EARLIER) || "[]");
    return Array.isArray(list) ? list.filter((e) => e && /^\d{6}$/.test(e.code) && typeof e.secret === "string") : [];
  } catch {
    return [];
  }
}

function saveEarlier(list) {
  try {
    localStorage.setItem(EARLIER, JSON.stringify(list.slice(0, EARLIER_MAX)));
  } catch {
    /* private mode: the list is not kept */
  }
}

/** Session `s` is left on this device: kept in the list of earlier sessions (once). */
function rememberEarlier(s) {
  if (!s || !/^\d{6}$/.test(s.code) || typeof s.secret !== "string") return;
  const entry = { code: s.code, secret: s.secret, team: s.team || "", date: s.started || Date.now() };
  saveEarlier([entry, ...loadEarlier().filter((e) => e.code !== s.code || e.secret !== s.secret)]);
}

function forgetEarlier(entry) {
  saveEarlier(loadEarlier().filter((e) => e.code !== entry.code || e.secret !== entry.secret));
}

// ---------------------------------------------------------------- setup: choose a quiz, start

async function showSetup(message = "") {
  stopConnection();
  session = null;
  view = null;
  sectionData.clear();
  const list = el("div", { class: "quiz-choices", id: "quiz-choices" }, el("p", { class: "muted" }, t("loading")));
  const team = el("input", {
    id: "team",
    type: "text",
    maxlength: "60",
    autocomplete: "organization",
    placeholder: t("host_team_placeholder"),
    value: lastTeam(),
  });
  const error = el("div", { class: "form-error", role: "alert" }, message || null);
  error.hidden = !message;
  const submit = el("button", { type: "submit", class: "btn btn-primary btn-block", id: "start-session" }, t("host_start_session"));
  const form = el(
    "form",
    { class: "host-setup card", id: "host-setup" },
    el("h1", null, t("host_setup_title")),
    el("fieldset", null, el("legend", null, t("host_choose_quiz")), list),
    el("p", { class: "muted" }, el("a", { href: `/quizzes${location.search}` }, t("host_upload_link"))),
    el(
      "div",
      { class: "field" },
      el("label", { for: "team" }, t("host_team_label")),
      team,
      el("p", { class: "hint" }, t("host_team_hint")),
    ),
    error,
    submit,
  );
  const earlier = el("section", { class: "earlier card", id: "earlier-sessions", hidden: true });
  replace(app, form, earlier);
  showEarlier(earlier);

  let quizzes = [];
  try {
    const res = await fetch("/api/quizzes", { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(String(res.status));
    quizzes = await res.json();
  } catch {
    replace(list, el("p", { class: "form-error" }, t("host_quizzes_failed")));
    submit.disabled = true;
    return;
  }
  // A quiz just uploaded (`?quiz=` from the quizzes page) is chosen; else the demo, which the
  // README tells a first-time facilitator to try.
  const asked = new URLSearchParams(location.search).get("quiz");
  const known = (id) => quizzes.some((quiz) => quiz.id === id);
  const preselected = known(asked) ? asked : known(DEMO_QUIZ) ? DEMO_QUIZ : quizzes.length ? quizzes[0].id : `kind:${KINDS[0]}`;
  replace(
    list,
    quizzes.length ? null : el("p", null, t("host_no_quizzes")),
    quizzes.map((quiz) =>
      el(
        "label",
        { class: "quiz-choice" },
        el("input", { type: "radio", name: "quiz", value: quiz.id, checked: quiz.id === preselected, required: true }),
        el(
          "span",
          { class: "quiz-choice-text" },
          el("strong", null, quiz.title),
          el(
            "small",
            null,
            quizFacts(quiz, quizzes).join(" · "),
          ),
        ),
      ),
    ),
    // A meeting may also open with a werkvorm that needs no quiz (the kring, the stickers).
    KINDS.map((kind) =>
      el(
        "label",
        { class: "quiz-choice" },
        el("input", { type: "radio", name: "quiz", value: `kind:${kind}`, checked: `kind:${kind}` === preselected, required: true }),
        el("span", { class: "quiz-choice-text" }, el("strong", null, t(KIND_LABELS[kind])), el("small", null, t(`host_kind_hint_${kind}`))),
      ),
    ),
  );
  // The quiz asked for may sit below the list's fold: show it.
  if (known(asked)) list.querySelector("input:checked")?.closest("label")?.scrollIntoView({ block: "nearest" });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = form.querySelector("input[name=quiz]:checked");
    if (!chosen) {
      error.textContent = t("host_pick_quiz");
      error.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = t("host_starting");
    try {
      const box = document.getElementById("organiser-box") || error.insertAdjacentElement("afterend", el("div", { id: "organiser-box" }));
      const res = await withOrganiserKey(box, `/api/rooms?lang=${lang()}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({
          ...(chosen.value.startsWith("kind:") ? { programme: [{ kind: chosen.value.slice(5), content: {} }] } : { quiz_id: chosen.value }),
          team: team.value.trim(),
          lang: lang(),
        }),
      });
      const body = await res.json().catch(() => ({}));
      if (res.status !== 201 && !res.ok) throw new Error(body.error || t("err_generic"));
      rememberTeam(team.value.trim());
      const s = { code: String(body.code), secret: body.host_secret, join_url: body.join_url, team: team.value.trim(), started: Date.now() };
      saveSession(s);
      connect(s);
    } catch (err) {
      error.textContent = err.message || t("err_generic");
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = t("host_start_session");
    }
  });
}

/** The sessions left on this device, each with the downloads of what ran, while its room exists
 * (asked with its host secret: a room gone, or a code since given to another room, is dropped
 * from the list quietly). */
async function showEarlier(box) {
  const entries = loadEarlier();
  if (!entries.length) return;
  const found = await Promise.all(
    entries.map(async (entry) => {
      try {
        const res = await fetch(`/api/rooms/${entry.code}?lang=${lang()}`, { headers: { Accept: "application/json", "X-Host-Secret": entry.secret } });
        if (res.status === 404) return { entry, gone: true };
        if (!res.ok) return { entry, gone: false, info: null };
        const info = await res.json();
        return { entry, gone: !Array.isArray(info.programme), info };
      } catch {
        return { entry, gone: false, info: null }; // unreachable now: kept for later
      }
    }),
  );
  for (const f of found) if (f.gone) forgetEarlier(f.entry);
  const shown = found.filter((f) => !f.gone);
  if (!shown.length || !box.isConnected) return;
  replace(
    box,
    el("h2", null, t("host_earlier_title")),
    el("div", { class: "notice", id: "host-notice", role: "alert", hidden: true }),
    el(
      "ul",
      { class: "earlier-list" },
      shown.map(({ entry, info }) => {
        const facts = [entry.team, entry.date ? new Date(entry.date).toLocaleString(lang()) : ""].filter(Boolean).join(" · ");
        const items = info ? info.programme.map((p, i) => ({ ...p, item: i })).filter((p) => p.ran) : [];
        return el(
          "li",
          { class: "earlier-session", dataset: { code: entry.code } },
          el("strong", null, t("host_earlier_session", { code: `${entry.code.slice(0, 3)} ${entry.code.slice(3)}` })),
          facts ? el("span", { class: "muted" }, ` · ${facts}`) : null,
          info ? downloadList(entry, items) : el("p", { class: "muted" }, t("err_generic")),
        );
      }),
    ),
  );
  box.hidden = false;
}

/** Every programme item that ran, each with its downloads (an ended or earlier session). */
function downloadList(s, items) {
  if (!items.length) return el("p", { class: "muted" }, t("host_ended_none"));
  return el(
    "ul",
    { class: "programme-list download-list" },
    items.map((p) => {
      const title = itemTitle(p);
      return el(
        "li",
        { class: "programme-item", dataset: { item: p.item } },
        el("div", { class: "programme-line" }, el("strong", { class: "programme-title" }, title), kindLabel({ ...p, title }) ? el("span", { class: "muted" }, ` · ${kindLabel({ ...p, title })}`) : null),
        el("div", { class: "programme-actions" }, exportButtons(s, p.item, { small: true, title, kind: p.kind })),
      );
    }),
  );
}

function lastTeam() {
  try {
    return localStorage.getItem("kk:team") || "";
  } catch {
    return "";
  }
}

function rememberTeam(name) {
  try {
    localStorage.setItem("kk:team", name);
  } catch {
    /* ignore */
  }
}

// ---------------------------------------------------------------- session

function stopConnection() {
  if (conn) conn.stop();
  conn = null;
  rendererFor(null);
}

/** The renderer of the view's werkvorm; switching werkvorm resets the old one and its sections. */
function rendererFor(activity) {
  const next = RENDERERS[activity] || null;
  if (next !== current) {
    if (current) current.reset();
    if (next) next.reset();
    current = next;
    for (const id of ["werkvorm-controls", "mirror", "werkvorm-extra"]) sectionData.delete(id);
    const extra = document.getElementById("werkvorm-extra");
    if (extra) replace(extra);
  }
  return next;
}

function connect(s) {
  stopConnection();
  session = s;
  view = null;
  sectionData.clear();
  addForm = null;
  offered = { from: null, domains: [] };
  buildSessionLayout();
  conn = new Connection({
    hello: () => ({ role: "host", room: session.code, secret: session.secret, lang: lang() }),
    onView: (msg) => {
      if (session.handedOver) {
        // the link worked: from now on this is the session of this device like any other
        delete session.handedOver;
        saveSession(session);
      }
      view = msg;
      if (busyUntilV !== null && msg.v > busyUntilV) setBusy(null);
      render();
    },
    onDone: onDone,
    onError: onError,
    onState: banner,
  }).start();
}

/** A control took effect. Its view follows at a higher `v` (then the buttons come back at
 * once); a control that changed nothing has no view to wait for, so they come back soon anyway. */
function onDone() {
  if (busyUntilV === null) return;
  clearTimeout(busyTimer);
  busyTimer = setTimeout(() => setBusy(null) || restoreFocus(), DONE_GRACE_MS);
}

function onError(err) {
  const key = `err_${err.code}`;
  const text = t(key) !== key ? t(key) : err.message || t("err_generic");
  if (err.code === "room_not_found" || err.code === "not_host") {
    const viaLink = session && session.handedOver && !view;
    clearSession();
    showSetup(t(viaLink ? "host_handover_invalid" : "host_session_gone"));
    return;
  }
  setBusy(null);
  flash(text);
}

function flash(text) {
  const box = $("#host-notice");
  if (!box) return;
  box.textContent = text;
  box.hidden = !text;
  clearTimeout(flash.timer);
  if (text) flash.timer = setTimeout(() => (box.hidden = true), 6000);
}

function buildSessionLayout() {
  const s = session;
  const screenUrl = `/screen/${s.code}${location.search}`;
  replace(
    app,
    el(
      "section",
      { class: "host-session" },
      el(
        "div",
        { class: "session-head card" },
        el(
          "div",
          { class: "session-code" },
          el("span", { class: "muted" }, t("host_code")),
          el("strong", { class: "code-digits", id: "session-code" }, `${s.code.slice(0, 3)} ${s.code.slice(3)}`),
          el("span", { class: "join-url", id: "join-url" }, s.join_url || `${location.origin}/join/${s.code}`),
        ),
        el(
          "div",
          { class: "session-actions" },
          el("a", { class: "btn btn-secondary", href: screenUrl, target: "_blank", rel: "noopener", id: "open-screen" }, t("host_open_screen")),
          el("button", { type: "button", class: "btn btn-ghost", id: "new-session", onclick: newSession }, t("host_new_session")),
          // last, away from the projector's button that a facilitator presses first
          el("button", { type: "button", class: "btn btn-ghost", id: "end-session", onclick: endSession }, t("host_end_session")),
        ),
        handoverPanel(s),
      ),
      el("div", { class: "notice", id: "host-notice", role: "alert", hidden: true }),
      el(
        "div",
        { class: "controls", id: "controls", role: "group", "aria-label": t("host_controls") },
        el("div", { class: "werkvorm-controls", id: "werkvorm-controls" }),
        el("div", { class: "room-controls", id: "room-controls" }),
      ),
      el("div", { class: "mirror card", id: "mirror", "aria-live": "polite" }, el("p", { class: "muted" }, t("conn_connecting"))),
      el("div", { id: "werkvorm-extra" }),
      el("div", { class: "programme card", id: "programme" }, el("div", { id: "programme-rows" }), programmeAddForm()),
      el("div", { class: "players card", id: "players" }),
      el("div", { class: "exports card", id: "exports" }),
    ),
  );
  // The setup form was scrolled down to its button: on a phone the code and the projector link
  // would stay off-screen. Start at the top, with focus on the code for screen readers.
  window.scrollTo(0, 0);
  const code = $("#session-code");
  code.setAttribute("tabindex", "-1");
  code.focus({ preventScroll: true });
}

const EXPORTS = [
  { query: "results.csv", suffix: ".csv", label: "host_export_csv" },
  { query: "results.csv?dialect=excel-nl", suffix: "-excel.csv", label: "host_export_excel" },
  { query: "results.json", suffix: ".json", label: "host_export_json" },
];

/** A download's file name that says what it holds: "kenniskring-722132-2-binnen-en-buitenkring.csv"
 * (the session's code, the item's place in the programme, its title or werkvorm). */
function fileName(s, item, title, suffix) {
  const slug = (title || "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  return `kenniskring-${s.code}-${item + 1}${slug ? `-${slug}` : ""}${suffix}`;
}

/** The downloads of programme item `item`: the three of every werkvorm, plus the werkvorm's own. */
function exportButtons(s, item, { small = false, title = "", kind = "" } = {}) {
  const own = (RENDERERS[kind] && RENDERERS[kind].exports) || [];
  return [...EXPORTS, ...own].map((e) =>
    el(
      "button",
      {
        type: "button",
        class: ["btn", "btn-ghost", small && "btn-small", "export"],
        dataset: { item, export: e.label },
        "aria-label": title ? `${t(e.label)} · ${title}` : null,
        onclick: () => download(s, `${e.query}${e.query.includes("?") ? "&" : "?"}item=${item}`, fileName(s, item, title || (kind && kindName(kind)), e.suffix)),
      },
      t(e.label),
    ),
  );
}

function exportLinks({ item, title, kind }) {
  // The host secret travels in a header, never in a URL (logs, history, proxies): each export is
  // fetched with it and handed to the browser as a download.
  return [
    el("h2", null, t("host_exports")),
    title ? el("p", { class: "muted" }, t("host_exports_item", { n: item + 1, title })) : null,
    el("p", { class: "export-links" }, exportButtons(session, item, { kind })),
  ];
}

async function download(s, query, filename) {
  try {
    const res = await fetch(`/api/rooms/${s.code}/${query}`, { headers: { "X-Host-Secret": s.secret } });
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || String(res.status));
    saveBlob(await res.blob(), filename);
  } catch (err) {
    flash(err.message || t("err_generic"));
  }
}

// ---------------------------------------------------------------- hand-over to another device

/** The session's link for another device (a second laptop, the facilitator's phone). The host
 * secret travels in the fragment: a browser never sends it to the server, so it is in no log
 * and no Referer, and the page that opens it takes it out of the address bar at once. */
function handoverLink(s) {
  const fragment = new URLSearchParams({ room: s.code, key: s.secret });
  return `${location.origin}/host${location.search}#${fragment}`;
}

function handoverPanel(s) {
  const link = el("input", { id: "handover-link", type: "text", readonly: true, value: handoverLink(s), "aria-label": t("host_handover_link") });
  const status = el("p", { class: "hint", id: "handover-status", role: "status" });
  const copy = el(
    "button",
    {
      type: "button",
      class: "btn btn-secondary btn-small",
      id: "handover-copy",
      onclick: async () => {
        link.select();
        try {
          await navigator.clipboard.writeText(link.value);
          status.textContent = t("host_handover_copied");
        } catch {
          status.textContent = t("host_handover_select"); // no clipboard (plain http): selected
        }
      },
    },
    t("host_handover_copy"),
  );
  return el(
    "details",
    { class: "handover", id: "handover" },
    el("summary", null, t("host_handover")),
    el("p", null, t("host_handover_text")),
    el("div", { class: "handover-row" }, link, copy),
    status,
  );
}

/** A hand-over link opened here: its session is taken on (it replaces one stored before, since
 * the facilitator opened the link on purpose), and the secret leaves the address bar. */
function takeHandover() {
  if (!location.hash) return null;
  const given = new URLSearchParams(location.hash.slice(1));
  history.replaceState(null, "", location.pathname + location.search);
  const code = given.get("room") || "";
  const secret = given.get("key") || "";
  if (!/^\d{6}$/.test(code) || !secret) return null;
  const before = loadSession();
  if (before && (before.code !== code || before.secret !== secret)) rememberEarlier(before); // its results stay here
  const s = { code, secret, join_url: null, handedOver: true, started: Date.now() };
  saveSession(s);
  return s;
}

function newSession() {
  // An ended session has nothing left to lose; a running one stays downloadable from the list.
  if (!(view && view.room && view.room.ended) && !confirm(t("host_new_session_confirm"))) return;
  rememberEarlier(session);
  clearSession();
  showSetup();
}

/** "Sessie afsluiten": phones and the projector show the session's end, the room takes nothing
 * more; this page then shows the downloads (see showEnded). */
function endSession() {
  // A werkvorm that did not reach its end gets none (no podium, no summary): say so first.
  const programme = (view && view.programme) || [];
  const running = programme[view ? view.item : 0];
  const unfinished = running && !running.finished ? `${t("host_end_unfinished", { title: itemTitle(running) })}\n\n` : "";
  // The programme's werkvormen that never ran are dropped with the session: name them.
  const waiting = programme.filter((p) => p !== running && !p.ran && !p.finished).map((p) => `‘${itemTitle(p)}’`);
  const dropped = waiting.length ? `${t("host_end_waiting", { titles: waiting.join(", ") })}\n\n` : "";
  if (!confirm(unfinished + dropped + t("host_end_session_confirm"))) return;
  send("end_session");
}

/** The session ended: its downloads (every programme item that ran) and a new session; no
 * controls. Nothing changes in the room any more, so the connection is closed. */
function showEnded() {
  const s = session;
  const programme = (view.programme || []).map((p, i) => ({ ...p, item: i })).filter((p) => p.ran || p.finished);
  stopConnection();
  setBusy(null);
  replace(
    app,
    el(
      "section",
      { class: "host-session host-ended card", id: "session-ended" },
      el("h1", null, t("host_ended_title")),
      el("p", { class: "muted" }, `${t("host_code")} ${s.code.slice(0, 3)} ${s.code.slice(3)}${s.team ? ` · ${s.team}` : ""}`),
      el("p", null, t("host_ended_text")),
      el("div", { class: "notice", id: "host-notice", role: "alert", hidden: true }),
      el("h2", null, t("host_exports")),
      downloadList(s, programme),
      el("p", null, el("button", { type: "button", class: "btn btn-primary", id: "new-session", onclick: newSession }, t("host_new_session"))),
    ),
  );
}

/** Sends one control; false when the previous one is still on its way (nothing is sent). */
function send(action, extra = {}) {
  if (!conn || busyUntilV !== null) return false;
  if (conn.state !== "open") {
    // Not queued for later: a control that goes off minutes after the press, when the meeting
    // has moved on, would surprise the facilitator more than pressing it again.
    flash(t("host_control_offline"));
    return false;
  }
  const active = document.activeElement;
  pressed = active && active.closest("#controls") ? active.textContent : null;
  conn.send({ type: "control", action, ...extra });
  sentAt = performance.now();
  setBusy(view ? view.v : 0);
  return true;
}

function setBusy(v) {
  busyUntilV = v;
  clearTimeout(busyTimer);
  if (v !== null) busyTimer = setTimeout(() => setBusy(null) || restoreFocus(), 4000);
  disableControls();
}

/** How many ms the control bar still waits after the last press (SETTLE_MS); ≤ 0 when not. */
function settlingFor() {
  return sentAt + SETTLE_MS - performance.now();
}

/** The control bar's buttons are disabled while a control is on its way, and until SETTLE_MS
 * after it was sent, also when its view came sooner (then they come back, with the focus, at
 * the end of that moment). Other buttons of the page are not under the pointer of a double
 * press: only `send` refuses them, and only while a control is on its way. */
function disableControls() {
  const settling = settlingFor();
  const off = busyUntilV !== null || settling > 0;
  for (const b of app.querySelectorAll("#controls button, .kick")) b.disabled = off;
  clearTimeout(settleTimer);
  if (busyUntilV === null && settling > 0) settleTimer = setTimeout(() => disableControls() || restoreFocus(), settling);
  return off;
}

/** A control pressed from the keyboard is disabled while on its way and its bar rebuilt after:
 * focus comes back to the same control if it is still there, else to the bar's first. */
function restoreFocus() {
  if (busyUntilV !== null || settlingFor() > 0) return; // when they are back
  const label = pressed;
  pressed = null;
  if (label === null || (document.activeElement && document.activeElement !== document.body)) return;
  const buttons = [...app.querySelectorAll("#controls button:not(:disabled)")];
  const target = buttons.find((b) => b.textContent === label) || buttons[0];
  if (target) target.focus();
}

/** Re-render one section only when its data changed, so buttons are not replaced under the cursor.
 * A section whose element was made anew (a werkvorm rebuilt its panels for a phase that came
 * back) is filled again even with the same data: the new element is still empty. */
function section(id, data, build) {
  const node = document.getElementById(id);
  if (!node) return;
  const json = JSON.stringify(data);
  const known = sectionData.get(id);
  if (known && known.node === node && known.json === json) return;
  sectionData.set(id, { node, json });
  // A field saved with Enter is rebuilt with the section (trial 8): focus stays in it, instead of
  // falling to <body> and starting the keyboard's Tab order at the top of the page again.
  const active = document.activeElement;
  const kept = active && active.id && node.contains(active) ? active.id : null;
  replace(node, build(data));
  const again = kept && document.getElementById(kept);
  if (again && node.contains(again) && !again.disabled) again.focus({ preventScroll: true });
}

function render() {
  if (!view || !session) return;
  const room = view.room || {};
  if (typeof room.team === "string" && session.team !== room.team) {
    session.team = room.team; // a session handed over: its team, for the list of earlier ones
    saveSession(session);
  }
  if (room.ended) {
    showEnded();
    return;
  }
  if (room.join_url) $("#join-url").textContent = room.join_url;
  const renderer = rendererFor(view.activity);
  if (renderer) {
    renderer.render({
      root: app,
      view,
      section,
      send,
      flash,
      secret: session.secret,
      code: session.code,
    });
  }
  // An item without a title of its own is called by its werkvorm's name in this page's language.
  const programme = (view.programme || []).map((p) => ({ ...p, title: itemTitle(p) }));
  section("room-controls", { can: view.can || [], locked: room.locked, item: view.item, programme }, roomControls);
  section("programme-rows", { item: view.item, programme }, programmePanel);
  offerDomains(programme);
  const scores = view.scores || null;
  const listed = (view.players || []).map((p) => ({ ...p, score: scores ? scores[p.id] || 0 : null }));
  const canRemoveOffline = (view.can || []).includes("remove_offline");
  section("players", { list: listed, removed: view.removed || [], canRemoveOffline }, ({ list, removed }) => [
    ...players(list, canRemoveOffline),
    ...removedList(removed),
  ]);
  const currentItem = programme[view.item || 0] || {};
  section("exports", { item: view.item || 0, title: programme.length > 1 ? currentItem.title || "" : "", kind: currentItem.kind || view.activity }, exportLinks);
  if (!disableControls()) restoreFocus(); // after the bar was rebuilt
}

/** The room's own buttons: the next programme item, lock and unlock. */
function roomControls({ can, locked, item, programme }) {
  const allowed = new Set(can);
  const buttons = [];
  // The next item still to do (one done already is reached through the programme panel); once
  // the running werkvorm reached its end, going on is the main action.
  const current = item || 0;
  const next = programme.findIndex((p, i) => i > current && !p.finished);
  if (allowed.has("begin") && next > current) {
    const done = Boolean((programme[current] || {}).finished);
    buttons.push(
      el(
        "button",
        { type: "button", class: ["btn", done ? "btn-primary" : "btn-secondary", "action-begin-next"], onclick: () => send("begin", { item: next }) },
        t(programme[next].ran ? "host_resume_next" : "host_begin_next", { title: programme[next].title }),
      ),
    );
  }
  for (const action of ["lock", "unlock"]) {
    if (!allowed.has(action) || (action === "lock" && locked) || (action === "unlock" && !locked)) continue;
    buttons.push(
      el("button", { type: "button", class: ["btn", "btn-ghost", `action-${action}`], dataset: { action }, onclick: () => send(action) }, t(`host_action_${action}`)),
    );
  }
  return buttons;
}

/** What tells a quiz apart in a list: theme, author, size, and for an upload that it is one
 * (with its id where another quiz has the same title). */
function quizFacts(quiz, all) {
  const same = all.some((other) => other !== quiz && other.title === quiz.title);
  return [
    quiz.theme,
    quiz.author,
    t("questions_n", { n: quiz.questions }),
    quiz.builtin ? "" : t("host_uploaded"),
    same ? quiz.id : "",
  ].filter(Boolean);
}

const KIND_LABELS = { quiz: "kind_quiz", circle: "kind_circle", dotvote: "kind_dotvote" };

/** A werkvorm's name in the page's language. */
function kindName(kind) {
  return t(KIND_LABELS[kind] || kind);
}

/** A programme item's title: its own, else its werkvorm's name. */
function itemTitle(p) {
  return p.title || kindName(p.kind);
}

/** A programme item's kind, unless its title says it already (an item without a title of its
 * own is called by its kind's name). */
function kindLabel(p) {
  const label = kindName(p.kind);
  return label === p.title ? "" : label;
}

/** The meeting's programme: what ran, what runs, what is next; add a werkvorm; earlier exports. */
function programmePanel({ item, programme }) {
  const rows = programme.map((p, i) => {
    const running = i === item;
    // Left at its end: "gedaan"; left halfway (a quiz before its podium): "onderbroken".
    const action = p.finished ? t("programme_back") : p.ran ? t("programme_resume") : t("programme_begin");
    const status = running
      ? t(p.finished ? "programme_running_done" : "programme_running")
      : p.finished
        ? t("programme_ran")
        : p.ran
          ? t("programme_paused")
          : t("programme_waiting");
    return el(
      "li",
      { class: ["programme-item", running && "is-current"], dataset: { item: i } },
      el(
        "div",
        { class: "programme-line" },
        el("strong", { class: "programme-title" }, p.title),
        el("span", { class: "muted" }, ` · ${[kindLabel(p), status].filter(Boolean).join(" · ")}`),
      ),
      el(
        "div",
        { class: "programme-actions" },
        running
          ? null
          : el(
              "button",
              {
                type: "button",
                class: "btn btn-small btn-secondary begin",
                "aria-label": t("programme_action_aria", { action, title: p.title }),
                onclick: () => send("begin", { item: i }),
              },
              action,
            ),
        !running && p.ran ? exportButtons(session, i, { small: true, title: p.title, kind: p.kind }) : null,
      ),
    );
  });
  return [
    el("h2", null, t("programme_title")),
    el("ol", { class: "programme-list", id: "programme-list" }, rows),
  ];
}

/** One domain per line, as the kring's and the stickers' `domains` (empty lines left out). */
function domainLines(text) {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

/** "Werkvorm toevoegen": a werkvorm from the menu, and for the kring and the stickers their
 * domains. Made once per session (the list above it is rebuilt when the programme changes; what
 * is typed here stays). */
function programmeAddForm() {
  if (addForm) return addForm;
  const select = el("select", { id: "programme-add-kind" }, KINDS.map((kind) => el("option", { value: kind }, t(KIND_LABELS[kind]))));
  const fill = () => {
    for (const quiz of library || []) {
      const same = library.some((other) => other !== quiz && other.title === quiz.title);
      const title = same ? `${quiz.title} (${quiz.id})` : quiz.title;
      select.append(el("option", { value: `quiz:${quiz.id}` }, t("programme_add_quiz", { title })));
    }
  };
  if (library) fill();
  else {
    fetch("/api/quizzes", { headers: { Accept: "application/json" } })
      .then((res) => (res.ok ? res.json() : []))
      .then((list) => {
        library = Array.isArray(list) ? list : [];
        fill();
      })
      .catch(() => {
        library = [];
      });
  }
  const area = el("textarea", { id: "programme-add-domains", rows: "5", spellcheck: "false", "aria-describedby": "programme-add-domains-hint" });
  area.value = offered.domains.join("\n");
  area.addEventListener("input", () => {
    area.dataset.edited = "1";
  });
  const domains = el(
    "div",
    { class: "field programme-add-domains", id: "programme-add-domains-field" },
    el("label", { for: "programme-add-domains" }, t("programme_add_domains")),
    area,
    el("p", { class: "hint", id: "programme-add-domains-hint" }, t("programme_add_domains_hint")),
  );
  const error = el("div", { class: "form-error", id: "programme-add-error", role: "alert", hidden: true });
  const submit = el("button", { type: "submit", class: "btn btn-secondary", id: "programme-add-submit" }, t("programme_add"));
  const showDomains = () => {
    domains.hidden = !KINDS.includes(select.value);
    error.hidden = true;
  };
  select.addEventListener("change", showDomains);
  showDomains();
  const form = el(
    "form",
    { class: "programme-add", id: "programme-add" },
    el("label", { for: "programme-add-kind" }, t("programme_add_label")),
    el("div", { class: "programme-add-row" }, select),
    domains,
    error,
    el("div", { class: "programme-add-row" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const choice = select.value;
    const content = {};
    if (KINDS.includes(choice)) {
      const list = domainLines(area.value);
      if (list.length) content.domains = list; // left empty: the default list
    }
    error.hidden = true;
    submit.disabled = true;
    const failed = await addToProgramme(choice, content);
    submit.disabled = false;
    if (failed) {
      // the server's words, in the form; what was typed stays as it was
      error.textContent = failed;
      error.hidden = false;
      return;
    }
    if (content.domains) {
      // what was just added is now the latest: offered again, until the facilitator types
      offered = { from: offered.from, domains: content.domains };
      area.value = content.domains.join("\n");
    }
    delete area.dataset.edited;
  });
  addForm = form;
  return form;
}

/** The add form offers the domains of the programme's latest kring or stickers item: the running
 * one's from its view (a kring's list may have been edited while it runs), another's from its
 * export (what it used) or, not run yet, its content; with none, the default list. Not over
 * what the facilitator typed. */
async function offerDomains(programme) {
  let latest = -1;
  programme.forEach((p, i) => {
    if (KINDS.includes(p.kind)) latest = i;
  });
  const live = latest >= 0 && latest === view.item && Array.isArray(view.domains) && view.domains.every((d) => typeof d === "string");
  // The running item's results hold its domains as they are now (changed while it ran); its
  // `ran` only turns true once another item took over.
  const ran = latest >= 0 && (programme[latest].ran || latest === view.item);
  const from = latest < 0 ? "none" : live ? `live:${latest}:${view.domains.join("\n")}` : `item:${latest}:${ran}:${view.phase}`;
  if (from === offered.from) return;
  offered.from = from;
  await loadDefaults();
  if (offered.from !== from) return; // a newer programme asked meanwhile
  let domains = defaultDomains();
  if (live) domains = view.domains;
  else if (latest >= 0) {
    const s = session;
    const query = ran ? `results.json?item=${latest}` : `content?item=${latest}`;
    try {
      const res = await fetch(`/api/rooms/${s.code}/${query}`, { headers: { Accept: "application/json", "X-Host-Secret": s.secret } });
      const body = res.ok ? await res.json() : {};
      if (Array.isArray(body.domains) && body.domains.length) domains = body.domains;
    } catch {
      /* the default list, then */
    }
    if (s !== session || offered.from !== from) return; // a newer programme asked meanwhile
  }
  offered.domains = domains;
  const area = addForm && addForm.querySelector("#programme-add-domains");
  if (area && !area.dataset.edited) area.value = domains.join("\n");
}

async function loadDefaults() {
  if (defaults) return;
  try {
    const res = await fetch("/api/werkvormen", { headers: { Accept: "application/json" } });
    defaults = res.ok ? (await res.json()).defaults || {} : {};
  } catch {
    defaults = {}; // no list offered: the server gives an item without domains its own
  }
}

/** The default domains of the werkvormen the add form takes domains for. */
function defaultDomains() {
  for (const kind of KINDS) {
    const content = defaults && defaults[kind];
    if (content && Array.isArray(content.domains)) return content.domains;
  }
  return [];
}

/** Adds the chosen werkvorm; null when it was added, else what went wrong (the server's words). */
async function addToProgramme(choice, content = {}) {
  const body = choice.startsWith("quiz:") ? { quiz_id: choice.slice(5) } : { kind: choice, content };
  try {
    const res = await fetch(`/api/rooms/${session.code}/programme?lang=${lang()}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-Host-Secret": session.secret },
      body: JSON.stringify(body),
    });
    const reply = await res.json().catch(() => ({}));
    if (res.status !== 201) throw new Error(reply.error || t("err_generic"));
    flash(t("programme_added"));
    return null;
  } catch (err) {
    return err.message || t("err_generic");
  }
}

function players(list, canRemoveOffline = false) {
  const offline = list.filter((p) => !p.online).length;
  const sorted = [...list].sort((a, b) => (b.score || 0) - (a.score || 0) || a.name.localeCompare(b.name));
  return [
    el("h2", null, t("host_players", { n: list.length })),
    canRemoveOffline && offline
      ? el(
          "button",
          {
            type: "button",
            class: "btn btn-small btn-danger kick remove-offline",
            onclick: () => {
              if (confirm(t("host_remove_offline_confirm", { n: offline }))) send("remove_offline");
            },
          },
          t("host_remove_offline", { n: offline }),
        )
      : null,
    list.length
      ? el(
          "ul",
          { class: "player-list" },
          sorted.map((p) =>
            el(
              "li",
              { class: ["player-row", !p.online && "is-offline"] },
              el("span", { class: ["dot", p.online ? "online" : "offline"], title: p.online ? t("host_online") : t("host_offline") }),
              el("span", { class: "player-name" }, p.name),
              p.score === null ? null : el("span", { class: "player-score" }, fmtNumber(p.score)),
              el(
                "button",
                {
                  type: "button",
                  class: "btn btn-small btn-danger kick",
                  "aria-label": t("host_kick_aria", { name: p.name }),
                  onclick: () => {
                    if (confirm(t("host_kick_confirm", { name: p.name }))) send("kick", { player: p.id });
                  },
                },
                t("host_kick"),
              ),
            ),
          ),
        )
      : el("p", { class: "muted" }, t("host_no_players")),
  ];
}

/** Removed players (kicked), each with a button to let their phone back in. */
function removedList(list) {
  if (!list || !list.length) return [];
  return [
    el("h3", null, t("host_removed", { n: list.length })),
    el(
      "ul",
      { class: "player-list removed-list" },
      list.map((p) =>
        el(
          "li",
          { class: "player-row is-offline" },
          el("span", { class: "removed-name" }, p.name),
          el(
            "button",
            {
              type: "button",
              class: "btn btn-small kick",
              "aria-label": t("host_unkick_aria", { name: p.name }),
              onclick: () => send("unkick", { player: p.id }),
            },
            t("host_unkick"),
          ),
        ),
      ),
    ),
  ];
}

// ---------------------------------------------------------------- start

const stored = takeHandover() || loadSession();
if (stored) connect(stored);
else showSetup();
