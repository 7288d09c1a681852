// The Themaquiz on the facilitator's page: its buttons (from `can`) and a mirror of the screen.
//
// A werkvorm renderer for host.js: render(ctx) fills #controls' werkvorm part and #mirror.

import {
  Countdown,
  barChart,
  bokaalLine,
  el,
  fmtNumber,
  binLabels,
  histogramBin,
  histogramLabels,
  optionTexts,
  optionTile,
  scoreboardList,
  t,
  toelichtingBlock,
  trophyIcon,
  withUnit,
} from "../render.js";

const countdown = new Countdown();
let view = null;
let ctx = null; // {view, root, section, send, confirm}
let lastQuestion = null; // {number, total} of the last question seen, for the "next" label

export function reset() {
  countdown.stop();
  lastQuestion = null;
}

export function render(context) {
  ctx = context;
  view = ctx.view;
  const q = view.question;
  if (q) lastQuestion = { number: q.number, total: q.total };
  const room = view.room || {};
  ctx.section("werkvorm-controls", { can: view.can || [], phase: view.phase, q: lastQuestion }, controls);
  ctx.section(
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
  const answered = ctx.root.querySelector("#host-answered");
  if (answered) answered.textContent = answeredText();
  if (view.phase === "question" && q) {
    countdown.set(q.remaining_ms, q.time_limit, [...ctx.root.querySelectorAll("#mirror .countdown, #mirror .timebar")], null, q);
  } else {
    countdown.stop();
  }
}

const ACTION_ORDER = ["start", "close", "scoreboard", "next", "finish", "restart"];
// Not "restart": at the podium the programme's next werkvorm is the main action (host.js).
const PRIMARY = new Set(["start", "next", "close"]);

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
    .map((action) =>
      el(
        "button",
        {
          type: "button",
          class: ["btn", PRIMARY.has(action) ? "btn-primary" : "btn-secondary", `action-${action}`],
          dataset: { action },
          onclick: () => {
            if (action === "finish" && !confirm(t("host_finish_confirm"))) return;
            if (action === "restart" && !confirm(t("host_restart_confirm"))) return;
            const players = (view.room || {}).players || 0;
            if (action === "start" && !players && !confirm(t("host_start_empty_confirm"))) return;
            ctx.send(action);
          },
        },
        actionLabel(action, data),
      ),
    );
  return buttons;
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
          // What the facilitator talks about next: the toelichting, with its links to open.
          toelichtingBlock(r),
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
    const labels = Array.isArray(r.bins) ? binLabels(r.bins, q.unit || "", q.unit_one || "") : histogramLabels(Number(q.min), Number(q.max), bins, q.unit || "");
    return [
      el("p", { class: "right-answer" }, t("right_answer_is", { answer: withUnit(r.answer, q) })),
      barChart(labels, r.distribution, right, { shapes: false }),
    ];
  }
  return barChart(optionTexts(q), r.distribution, q.type === "poll" ? [] : r.correct || []);
}

