// The facilitator (laptop, or a phone as remote): pick a quiz, start a room, pace it, export results.

import { withOrganiserKey } from "./keys.js";
import { Connection } from "./connection.js";
import {
  $,
  Countdown,
  barChart,
  bindBanner,
  bokaalLine,
  el,
  fmtNumber,
  binLabels,
  histogramBin,
  histogramLabels,
  lang,
  optionTexts,
  optionTile,
  replace,
  saveBlob,
  scoreboardList,
  t,
  trophyIcon,
} from "./render.js";

const app = $("#app");
const banner = bindBanner($("#conn-banner"));
const countdown = new Countdown();
const STORE = "kk:host";
const DEMO_QUIZ = "demo-kennisdeling";

let conn = null;
let session = null; // {code, secret, join_url}
let view = null;
let busyUntilV = null; // a control was sent: buttons stay disabled until a newer view arrives
let busyTimer = null;
let lastQuestion = null; // {number, total} of the last question seen, for the "next" label
const sectionData = new Map();

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
  replace(app, form);

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
  if (!quizzes.length) {
    replace(list, el("p", null, t("host_no_quizzes")));
    submit.disabled = true;
    return;
  }
  // The README tells a first-time facilitator to try the demo: preselect it when it is there.
  const preselected = quizzes.some((quiz) => quiz.id === DEMO_QUIZ) ? DEMO_QUIZ : quizzes[0].id;
  replace(
    list,
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
            [quiz.theme, quiz.author, t("questions_n", { n: quiz.questions })].filter(Boolean).join(" · "),
          ),
        ),
      ),
    ),
  );

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
        body: JSON.stringify({ quiz_id: chosen.value, team: team.value.trim(), lang: lang() }),
      });
      const body = await res.json().catch(() => ({}));
      if (res.status !== 201 && !res.ok) throw new Error(body.error || t("err_generic"));
      rememberTeam(team.value.trim());
      const s = { code: String(body.code), secret: body.host_secret, join_url: body.join_url };
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
  countdown.stop();
}

function connect(s) {
  stopConnection();
  session = s;
  view = null;
  sectionData.clear();
  buildSessionLayout();
  conn = new Connection({
    hello: () => ({ role: "host", room: session.code, secret: session.secret, lang: lang() }),
    onView: (msg) => {
      view = msg;
      if (busyUntilV !== null && msg.v > busyUntilV) setBusy(null);
      render();
    },
    onError: onError,
    onState: banner,
  }).start();
}

function onError(err) {
  const key = `err_${err.code}`;
  const text = t(key) !== key ? t(key) : err.message || t("err_generic");
  if (err.code === "room_not_found" || err.code === "not_host") {
    clearSession();
    showSetup(t("host_session_gone"));
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
        ),
      ),
      el("div", { class: "notice", id: "host-notice", role: "alert", hidden: true }),
      el("div", { class: "controls", id: "controls", role: "group", "aria-label": t("host_controls") }),
      el("div", { class: "mirror card", id: "mirror", "aria-live": "polite" }, el("p", { class: "muted" }, t("conn_connecting"))),
      el("div", { class: "players card", id: "players" }),
      el("div", { class: "exports card", id: "exports" }, exportLinks(s)),
    ),
  );
  // The setup form was scrolled down to its button: on a phone the code and the projector link
  // would stay off-screen. Start at the top, with focus on the code for screen readers.
  window.scrollTo(0, 0);
  const code = $("#session-code");
  code.setAttribute("tabindex", "-1");
  code.focus({ preventScroll: true });
}

function exportLinks(s) {
  // The host secret travels in a header, never in a URL (logs, history, proxies): each export is
  // fetched with it and handed to the browser as a download.
  const exports = [
    { query: "results.csv", file: `kenniskring-${s.code}.csv`, label: "host_export_csv" },
    { query: "results.csv?dialect=excel-nl", file: `kenniskring-${s.code}-excel.csv`, label: "host_export_excel" },
    { query: "results.json", file: `kenniskring-${s.code}.json`, label: "host_export_json" },
  ];
  return [
    el("h2", null, t("host_exports")),
    el(
      "p",
      { class: "export-links" },
      exports.map((e) =>
        el("button", { type: "button", class: "btn btn-ghost", onclick: () => download(s, e.query, e.file) }, t(e.label)),
      ),
    ),
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

function newSession() {
  if (!confirm(t("host_new_session_confirm"))) return;
  clearSession();
  showSetup();
}

function send(action, extra = {}) {
  if (!conn || busyUntilV !== null) return;
  conn.send({ type: "control", action, ...extra });
  setBusy(view ? view.v : 0);
}

function setBusy(v) {
  busyUntilV = v;
  clearTimeout(busyTimer);
  if (v !== null) busyTimer = setTimeout(() => setBusy(null), 4000);
  for (const b of app.querySelectorAll("#controls button, .kick")) b.disabled = v !== null;
}

/** Re-render one section only when its data changed, so buttons are not replaced under the cursor. */
function section(id, data, build) {
  const node = document.getElementById(id);
  if (!node) return;
  const json = JSON.stringify(data);
  if (sectionData.get(id) === json) return;
  sectionData.set(id, json);
  replace(node, build(data));
}

function render() {
  if (!view || !session) return;
  const q = view.question;
  if (q) lastQuestion = { number: q.number, total: q.total };
  const room = view.room || {};
  if (room.join_url) $("#join-url").textContent = room.join_url;
  section("controls", { can: view.can || [], locked: room.locked, phase: view.phase, q: lastQuestion }, controls);
  section(
    "mirror",
    {
      phase: view.phase,
      question: q ? { ...q, remaining_ms: undefined } : null,
      reveal: view.reveal,
      scoreboard: view.scoreboard,
      podium: view.podium,
      quiz: view.quiz,
      lobby: view.phase === "lobby" ? (view.lobby || {}).count : null,
      locked: room.locked,
    },
    mirror,
  );
  const scores = view.scores || {};
  const listed = (view.players || []).map((p) => ({ ...p, score: scores[p.id] || 0 }));
  section("players", { list: listed, removed: view.removed || [] }, ({ list, removed }) => [
    ...players(list),
    ...removedList(removed),
  ]);
  const answered = $("#host-answered");
  if (answered) answered.textContent = answeredText();
  if (view.phase === "question" && q) {
    countdown.set(q.remaining_ms, q.time_limit, [...app.querySelectorAll("#mirror .countdown, #mirror .timebar")]);
  } else {
    countdown.stop();
  }
  setBusy(busyUntilV);
}

const ACTION_ORDER = ["start", "close", "scoreboard", "next", "finish", "restart", "lock", "unlock"];
const PRIMARY = new Set(["start", "next", "close", "restart"]);

function actionLabel(action, data) {
  if (action === "next") {
    const last = data.q && data.q.number >= data.q.total;
    return last ? t("host_action_podium") : t("host_action_next");
  }
  return t(`host_action_${action}`);
}

function controls(data) {
  const can = new Set(data.can);
  const buttons = ACTION_ORDER.filter((action) => can.has(action))
    .filter((action) => !(action === "lock" && data.locked) && !(action === "unlock" && !data.locked))
    .map((action) =>
      el(
        "button",
        {
          type: "button",
          class: ["btn", PRIMARY.has(action) ? "btn-primary" : action === "lock" || action === "unlock" ? "btn-ghost" : "btn-secondary", `action-${action}`],
          dataset: { action },
          onclick: () => {
            if (action === "finish" && !confirm(t("host_finish_confirm"))) return;
            send(action);
          },
        },
        actionLabel(action, data),
      ),
    );
  return buttons.length ? buttons : el("p", { class: "muted" }, t("host_no_actions"));
}

function phaseLabel() {
  return t(`phase_${view.phase}`);
}

function answeredText() {
  const a = view.answered || { count: 0, of: (view.room && view.room.players) || 0 };
  return t("answered_x_of_n", { x: a.count, n: a.of });
}

function mirror() {
  const parts = [
    el(
      "div",
      { class: "mirror-head" },
      el("span", { class: "phase-badge" }, phaseLabel()),
      view.quiz ? el("span", { class: "muted" }, view.quiz.title) : null,
    ),
  ];
  const q = view.question;
  switch (view.phase) {
    case "lobby":
      parts.push(
        el("p", { class: "big-number" }, t("players_n", { n: (view.lobby || {}).count || 0 })),
        (view.room || {}).locked ? el("p", { class: "locked-badge" }, t("screen_locked")) : null,
        el("p", { class: "muted" }, t("host_lobby_hint")),
      );
      break;
    case "question":
      if (q) {
        parts.push(
          el(
            "div",
            { class: "q-meta" },
            el("span", null, t("question_n_of", { n: q.number, total: q.total })),
            el("span", { class: "countdown", role: "timer" }, ""),
          ),
          el("div", { class: "timebar", "aria-hidden": "true" }),
          el("h2", { class: "q-text" }, q.text),
          q.type === "estimate"
            ? el("p", null, t("screen_estimate_between", { min: fmtNumber(q.min), max: fmtNumber(q.max), unit: q.unit || "" }))
            : el("div", { class: "mini-options" }, optionTexts(q).map((text, i) => optionTile("div", i, text))),
          el("p", { class: "answered-count", id: "host-answered" }, answeredText()),
        );
      }
      break;
    case "reveal":
      if (q) {
        const r = view.reveal || {};
        parts.push(
          el("p", null, t("question_n_of", { n: q.number, total: q.total })),
          el("h2", { class: "q-text" }, q.text),
          revealChart(q, r),
          el("p", { class: "answered-count", id: "host-answered" }, answeredText()),
        );
      }
      break;
    case "scoreboard":
      parts.push(scoreboardList((view.scoreboard || {}).top || []));
      break;
    case "podium": {
      const p = view.podium || {};
      const line = bokaalLine(p.bokaal);
      parts.push(
        el(
          "ol",
          { class: "podium-list" },
          (p.top || []).map((row) =>
            el(
              "li",
              { class: ["podium-row", `place-${row.rank}`] },
              el("span", { class: "podium-rank" }, String(row.rank)),
              el("span", { class: "score-name" }, row.name),
              el("span", { class: "score-points" }, fmtNumber(row.score)),
            ),
          ),
        ),
        line ? el("p", { class: "bokaal-line" }, trophyIcon(), line) : null,
      );
      break;
    }
    default:
      break;
  }
  return parts;
}

function revealChart(q, r) {
  if (q.type === "estimate") {
    const bins = (r.distribution || []).length || 10;
    const right = typeof r.answer_bin === "number" ? [r.answer_bin] : typeof r.answer === "number" ? [histogramBin(r.answer, q.min, q.max, bins)] : [];
    const labels = Array.isArray(r.bins) ? binLabels(r.bins, q.unit || "") : histogramLabels(Number(q.min), Number(q.max), bins, q.unit || "");
    return [
      el("p", { class: "right-answer" }, t("right_answer_is", { answer: `${fmtNumber(r.answer)} ${q.unit || ""}`.trim() })),
      barChart(labels, r.distribution, right, { shapes: false }),
    ];
  }
  return barChart(optionTexts(q), r.distribution, q.type === "poll" ? [] : r.correct || []);
}

function players(list) {
  const sorted = [...list].sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  return [
    el("h2", null, t("host_players", { n: list.length })),
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
              el("span", { class: "player-score" }, fmtNumber(p.score)),
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

const stored = loadSession();
if (stored) connect(stored);
else showSetup();
