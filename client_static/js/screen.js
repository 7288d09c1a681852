// The projector screen (1920×1080): join code + QR, live counters, questions, reveal, scoreboard, podium.

import { Connection } from "./connection.js";
import {
  $,
  Countdown,
  barChart,
  bindBanner,
  bokaalLine,
  displayUrl,
  el,
  fmtNumber,
  binLabels,
  histogramBin,
  histogramLabels,
  lang,
  optionTexts,
  optionTile,
  replace,
  scoreboardList,
  t,
  toelichtingBlock,
  trophyIcon,
} from "./render.js";

const app = $("#app");
const code = (app.dataset.code || "").trim();
const banner = bindBanner($("#conn-banner"));
const countdown = new Countdown();
// Above this length a question is set at the 48 px floor instead of 60 px (the schema allows 300).
const LONG_QUESTION = 140;

let view = null;
let renderedKey = null;
let conn = null;

function start() {
  if (!/^\d{6}$/.test(code)) {
    fatal(t("err_room_not_found"));
    return;
  }
  replace(app, el("div", { class: "screen-center" }, el("p", { class: "screen-wait" }, t("conn_connecting"))));
  conn = new Connection({
    hello: () => ({ role: "screen", room: code, lang: lang() }),
    onView: (msg) => {
      view = msg;
      render();
    },
    onError: (err) => {
      if (err.code === "room_not_found") {
        conn.stop();
        fatal(t("err_room_not_found"));
      }
    },
    onState: banner,
  }).start();
}

function fatal(text) {
  countdown.stop();
  replace(app, el("div", { class: "screen-center" }, el("h1", { class: "screen-error", role: "alert" }, text)));
}

/** Full re-render only when something other than counters changed. */
function render() {
  if (!view) return;
  const q = view.question;
  const key = JSON.stringify([view.phase, q && q.index, view.reveal ? 1 : 0, view.phase === "lobby" ? view.lobby : null, view.scoreboard, view.podium, view.room && view.room.locked]);
  if (key === renderedKey && view.phase === "question") {
    updateCounters();
    return;
  }
  renderedKey = key;
  let body;
  switch (view.phase) {
    case "lobby":
      body = lobby();
      break;
    case "question":
      body = question();
      break;
    case "reveal":
      body = reveal();
      break;
    case "scoreboard":
      body = scoreboard();
      break;
    case "podium":
      body = podium();
      break;
    default:
      body = el("div", { class: "screen-center" }, view.phase);
  }
  replace(app, topBar(), body);
  if (view.phase === "question" && q) updateCounters();
  else countdown.stop();
}

function topBar() {
  const quiz = view.quiz || {};
  const room = view.room || {};
  return el(
    "header",
    { class: "screen-top" },
    el("div", { class: "screen-title" }, el("strong", null, quiz.title || ""), quiz.theme ? el("span", null, ` · ${quiz.theme}`) : null),
    view.phase !== "lobby"
      ? el("div", { class: "screen-join-small" }, t("screen_join_small", { url: joinHost(room), code: room.code || code }))
      : null,
  );
}

function joinHost(room) {
  const url = room.join_url || `${location.origin}/join/${code}`;
  try {
    return new URL(url).host;
  } catch {
    return displayUrl(url);
  }
}

function lobby() {
  const room = view.room || {};
  const lob = view.lobby || { names: [], count: 0 };
  const quiz = view.quiz || {};
  const joinUrl = room.join_url || `${location.origin}/join/${code}`;
  return el(
    "main",
    { class: "screen-lobby" },
    el(
      "section",
      { class: "join-panel" },
      el("p", { class: "join-step" }, t("screen_join_go_to")),
      el("p", { class: "join-url" }, joinHost(room)),
      el("p", { class: "join-step" }, t("screen_join_enter_code")),
      el("p", { class: "room-code", "aria-label": t("screen_code_aria", { code: spaced(room.code || code) }) }, spaced(room.code || code)),
      el(
        "div",
        { class: "qr-box" },
        qrImage(joinUrl),
        el("p", { class: "join-step" }, t("screen_join_scan")),
      ),
    ),
    el(
      "section",
      { class: "players-panel" },
      el("h1", { class: "lobby-title" }, quiz.title || ""),
      quiz.author ? el("p", { class: "lobby-author" }, t("quiz_theme_by", { theme: quiz.theme || "", author: quiz.author })) : null,
      el("p", { class: "player-count", "aria-live": "polite" }, t("players_n", { n: lob.count || 0 })),
      room.locked ? el("p", { class: "locked-badge" }, t("screen_locked")) : null,
      lob.count
        ? el("ul", { class: "name-cloud" }, (lob.names || []).map((name) => el("li", null, name)))
        : el("p", { class: "screen-wait" }, t("screen_wait_players")),
    ),
  );
}

let qr = null;

/** One <img> kept across lobby re-renders, so a joining player does not reload the QR code. */
function qrImage(joinUrl) {
  if (!qr) {
    qr = el("img", {
      class: "qr",
      src: `/api/rooms/${encodeURIComponent(code)}/qr.svg`,
      alt: t("screen_qr_alt", { url: displayUrl(joinUrl) }),
      width: "320",
      height: "320",
    });
  }
  return qr;
}

function spaced(c) {
  const s = String(c || "");
  return s.length === 6 ? `${s.slice(0, 3)} ${s.slice(3)}` : s;
}

function questionHeader(q, withClock, extra = null) {
  return el(
    "div",
    { class: "screen-q-head" },
    el("span", { class: "q-number" }, t("question_n_of", { n: q.number, total: q.total })),
    q.type === "poll" ? el("span", { class: "q-kind" }, t("kind_poll")) : null,
    q.type === "estimate" ? el("span", { class: "q-kind" }, t("kind_estimate")) : null,
    withClock ? el("span", { class: "countdown big-clock", role: "timer" }, "") : null,
    extra,
  );
}

function question() {
  const q = view.question;
  if (!q) return el("main", { class: "screen-center" });
  const options = optionTexts(q);
  return el(
    "main",
    { class: "screen-question" },
    questionHeader(q, true),
    el("div", { class: "timebar", "aria-hidden": "true" }),
    el("h1", { class: ["screen-q-text", String(q.text).length > LONG_QUESTION && "long"] }, q.text),
    q.type === "estimate"
      ? el(
          "p",
          { class: "estimate-range-text" },
          t("screen_estimate_between", { min: fmtNumber(q.min), max: fmtNumber(q.max), unit: q.unit || "" }),
        )
      : el("div", { class: `screen-options options-${options.length}` }, options.map((text, i) => optionTile("div", i, text))),
    el(
      "p",
      { class: "answered-count", "aria-live": "polite" },
      el("span", { id: "answered" }, answeredText()),
    ),
  );
}

function answeredText() {
  const a = view.answered || { count: 0, of: (view.room && view.room.players) || 0 };
  return t("answered_x_of_n", { x: a.count, n: a.of });
}

function updateCounters() {
  const q = view.question;
  const answered = $("#answered");
  if (answered) answered.textContent = answeredText();
  countdown.set(q.remaining_ms, q.time_limit, [...app.querySelectorAll(".countdown, .timebar")]);
}

function hasExplanation(r) {
  return Boolean(r.toelichting || (r.learn_more && r.learn_more.length) || (r.experts && r.experts.length));
}

function reveal() {
  const q = view.question;
  const r = view.reveal || {};
  if (!q) return el("main", { class: "screen-center" });
  const correct = r.correct || [];
  let chart;
  let answerLine = null;
  if (q.type === "estimate") {
    const bins = (r.distribution || []).length || 10;
    const right = typeof r.answer_bin === "number" ? [r.answer_bin] : typeof r.answer === "number" ? [histogramBin(r.answer, q.min, q.max, bins)] : [];
    const labels = Array.isArray(r.bins) ? binLabels(r.bins, "") : histogramLabels(Number(q.min), Number(q.max), bins, "");
    // Rows, not columns: ten bins side by side cannot hold "900.000–1.000.000" at 36 px.
    chart = barChart(labels, r.distribution, right, {
      shapes: false,
    });
    const est = r.estimate || {};
    answerLine = el(
      "div",
      { class: "estimate-result" },
      el("p", { class: "right-answer" }, t("right_answer_is", { answer: `${fmtNumber(r.answer)} ${q.unit || ""}`.trim() })),
      // Beside a toelichting the column is narrow and the chart needs the height: the average
      // goes (goed / bijna / fout and the closest guesses are what every screen agrees on).
      est.average !== null && est.average !== undefined && !hasExplanation(r)
        ? el("p", null, t("screen_estimate_average", { avg: `${fmtNumber(est.average)} ${q.unit || ""}`.trim() }))
        : null,
      est.closest && est.closest.length ? el("p", null, t("screen_estimate_closest", { names: est.closest.join(", ") })) : null,
      est.outcomes
        ? el("p", null, t("screen_estimate_outcomes", { correct: est.outcomes.correct, near: est.outcomes.near, wrong: est.outcomes.wrong }))
        : null,
    );
  } else {
    // Columns read best from the back of the room; long option texts need rows.
    const vertical = optionTexts(q).every((text) => String(text).length <= 32);
    chart = barChart(optionTexts(q), r.distribution, q.type === "poll" ? [] : correct, { vertical });
    // With long options the highlighted rows already show the answer; keep the room for them.
    if (q.type !== "poll" && correct.length && vertical) {
      answerLine = el(
        "p",
        { class: "right-answer" },
        t("right_answer_is", { answer: correct.map((i) => optionTexts(q)[i]).join(" / ") }),
      );
    }
  }
  const explain = toelichtingBlock(r, { links: false });
  return el(
    "main",
    { class: ["screen-reveal", explain && "has-explain"] },
    el(
      "section",
      { class: "reveal-main" },
      questionHeader(q, false, el("span", { class: "answered-count" }, answeredText())),
      el("h1", { class: "screen-q-text small" }, q.text),
      answerLine,
      chart,
    ),
    explain ? el("aside", { class: "reveal-explain" }, explain) : null,
  );
}

function scoreboard() {
  const top = (view.scoreboard && view.scoreboard.top) || [];
  return el(
    "main",
    { class: "screen-scoreboard" },
    el("h1", null, t("scoreboard_title")),
    top.length ? scoreboardList(top) : el("p", { class: "screen-wait" }, t("scoreboard_empty")),
  );
}

function podium() {
  const p = view.podium || {};
  const top = p.top || [];
  const byRank = (rank) => top.find((row) => row.rank === rank);
  const line = bokaalLine(p.bokaal);
  const block = (rank) => {
    const row = byRank(rank);
    return el(
      "div",
      { class: ["podium-step", `place-${rank}`, !row && "empty"] },
      el("div", { class: "podium-name" }, row ? row.name : ""),
      el("div", { class: "podium-score" }, row ? t("points_n", { n: fmtNumber(row.score) }) : ""),
      el("div", { class: "podium-block" }, el("span", { class: "podium-rank" }, String(rank))),
    );
  };
  return el(
    "main",
    { class: "screen-podium" },
    el("h1", null, top.length ? t("screen_winner", { name: top[0].name }) : t("podium_title")),
    el("div", { class: "podium" }, block(2), block(1), block(3)),
    line ? el("p", { class: "bokaal-line" }, trophyIcon(), line) : null,
  );
}

start();
