// The Themaquiz on the projector: lobby with join code, question, reveal, scoreboard, podium.
//
// A werkvorm renderer for screen.js: render(ctx) draws ctx.view into ctx.root, with the shell's
// top bar (ctx.topBar) and join panel (ctx.joinPanel).

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
  replace,
  scoreboardList,
  shapeIcon,
  t,
  toelichtingBlock,
  trophyIcon,
  withUnit,
} from "../render.js";

const countdown = new Countdown();
// Above this length a question is set at the 48 px floor instead of 60 px (the schema allows 300).
const LONG_QUESTION = 140;

let ctx = null;
let view = null;
let renderedKey = null;

export function reset() {
  countdown.stop();
  renderedKey = null;
  // Another werkvorm (or the join form) has the page now: the resize handler below must not
  // draw this quiz's last view over it.
  ctx = null;
  view = null;
}

export function render(context) {
  ctx = context;
  view = ctx.view;
  draw();
}

/** Full re-render only when something other than counters changed. */
function draw() {
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
  replace(ctx.root, topBar(), body);
  if (view.phase === "lobby") fitNames();
  if (view.phase === "reveal") fitReveal();
  if (view.phase === "question" && q) updateCounters();
  else countdown.stop();
}

function topBar() {
  const quiz = view.quiz || {};
  return ctx.topBar(
    el("div", { class: "screen-title" }, el("strong", null, quiz.title || ""), quiz.theme ? el("span", null, ` · ${quiz.theme}`) : null),
    view.phase !== "lobby",
  );
}

function lobby() {
  const room = view.room || {};
  const lob = view.lobby || { names: [], count: 0 };
  const quiz = view.quiz || {};
  return el(
    "main",
    { class: "screen-lobby" },
    ctx.joinPanel(),
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

/** A full room does not fit the lobby with every name at its longest: the newest names stay, the
 * oldest make way for one "+ 37 anderen" (the count above says how many are in). */
function fitNames() {
  const cloud = ctx.root.querySelector(".name-cloud");
  if (!cloud) return;
  const fits = () => cloud.scrollHeight <= cloud.clientHeight + 1;
  if (fits()) return;
  const items = [...cloud.children];
  const total = Math.max((view.lobby && view.lobby.count) || 0, items.length);
  const more = el("li", { class: "more-names" });
  cloud.append(more);
  let shown = items.length;
  do {
    items[items.length - shown].remove();
    shown -= 1;
    more.textContent = t("screen_more_players", { n: total - shown });
  } while (shown > 0 && !fits());
}

// The projector window may be resized (full screen on, another beamer): lay the phase out again.
addEventListener("resize", () => {
  if (!ctx) return;
  renderedKey = null;
  draw();
});

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
  // "3 van 5 beantwoord" sits in the header line beside the clock: the height is the options'.
  const answered = el("span", { class: "answered-count", "aria-live": "polite", id: "answered" }, answeredText());
  return el(
    "main",
    { class: "screen-question" },
    questionHeader(q, true, answered),
    el("div", { class: "timebar", "aria-hidden": "true" }),
    el("h1", { class: ["screen-q-text", String(q.text).length > LONG_QUESTION && "long"] }, q.text),
    q.type === "estimate"
      ? el(
          "p",
          { class: "estimate-range-text" },
          t("screen_estimate_between", { min: fmtNumber(q.min), max: fmtNumber(q.max), unit: q.unit || "" }),
        )
      : el("div", { class: `screen-options options-${options.length}` }, options.map((text, i) => optionTile("div", i, text))),
  );
}

function answeredText() {
  const a = view.answered || { count: 0, of: (view.room && view.room.players) || 0 };
  return t("answered_x_of_n", { x: a.count, n: a.of });
}

function updateCounters() {
  const q = view.question;
  const answered = ctx.root.querySelector("#answered");
  if (answered) answered.textContent = answeredText();
  countdown.set(q.remaining_ms, q.time_limit, [...ctx.root.querySelectorAll(".countdown, .timebar")], null, q);
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
      el("p", { class: "right-answer" }, t("right_answer_is", { answer: withUnit(r.answer, q) })),
      // Beside a toelichting the column is narrow and the chart needs the height: the average
      // goes (goed / bijna / fout and the closest guesses are what every screen agrees on).
      est.average !== null && est.average !== undefined && !hasExplanation(r)
        ? el("p", null, t("screen_estimate_average", { avg: withUnit(est.average, q) }))
        : null,
      est.closest && est.closest.length
        ? el("p", { class: "closest" }, t("screen_estimate_closest", { names: est.closest.join(", ") }))
        : null,
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
  // The question across the top; under it the outcome and, beside it, the toelichting.
  return el(
    "main",
    { class: ["screen-reveal", explain && "has-explain"] },
    el(
      "header",
      { class: "reveal-head" },
      questionHeader(q, false, el("span", { class: "answered-count" }, answeredText())),
      el("h1", { class: "screen-q-text small" }, q.text),
    ),
    el("section", { class: "reveal-main" }, answerLine, chart),
    explain ? el("aside", { class: "reveal-explain" }, explain) : null,
  );
}

/** Six long options beside a long toelichting do not fit one screen at 36 px, nor do six short
 * ones as columns with their texts. Then the chart becomes columns of shapes and counts (the room
 * has just seen the options with their shapes and colours) and the right answer is written out
 * above it; when even that is too long (several right answers), their shapes stand there. */
function fitReveal() {
  const main = ctx.root.querySelector(".reveal-main");
  fitClosest(main);
  const chart = main && main.querySelector(".bar-chart:not(.histogram)");
  const overflows = (node) => node.scrollHeight > node.clientHeight + 1 || node.scrollWidth > node.clientWidth + 1;
  if (!chart) return;
  const crowded = () => overflows(main) || [...chart.querySelectorAll(".bar-label")].some(overflows);
  // Options in rows read best wide: they take the wider column whenever the toelichting still
  // fits the narrower one (a short toelichting leaves room).
  const screen = main.closest(".screen-reveal");
  const aside = screen && screen.querySelector(".reveal-explain");
  if (aside && !chart.classList.contains("vertical")) {
    screen.classList.add("wide-chart");
    if (overflows(aside)) screen.classList.remove("wide-chart");
  }
  if (!crowded()) return;
  if (screen && screen.classList.contains("wide-chart")) {
    screen.classList.remove("wide-chart"); // the compact columns below fit the narrow one
  }
  const q = view.question;
  const r = view.reveal || {};
  const texts = optionTexts(q);
  const correct = q.type === "poll" ? [] : r.correct || [];
  const compact = barChart(texts.map(() => ""), r.distribution, correct, { vertical: true });
  compact.classList.add("compact");
  [...compact.children].forEach((row, i) => {
    row.setAttribute("aria-label", `${texts[i]}: ${(r.distribution || [])[i] || 0}`);
  });
  chart.replaceWith(compact);
  if (!correct.length) return;
  let line = main.querySelector(".right-answer");
  const written = el("p", { class: "right-answer" }, t("right_answer_is", { answer: correct.map((i) => texts[i]).join(" / ") }));
  if (line) line.replaceWith(written);
  else main.prepend(written);
  line = written;
  if (overflows(main)) {
    const shapes = el(
      "p",
      { class: "right-answer", "aria-label": t("right_answer_is", { answer: correct.map((i) => texts[i]).join(" / ") }) },
      t("screen_right_answers"),
      " ",
      correct.map((i) => shapeIcon(i)),
    );
    line.replaceWith(shapes);
  }
}

/** Ten guesses tied for closest, each name at its longest, crowd out the chart: the first names
 * stay, with "+ 7 anderen" for the rest. */
function fitClosest(main) {
  const line = main && main.querySelector(".closest");
  const names = (((view.reveal || {}).estimate || {}).closest || []).slice();
  if (!line) return;
  const fits = () => main.scrollHeight <= main.clientHeight + 1;
  let shown = names.length;
  while (shown > 1 && !fits()) {
    shown -= 1;
    const rest = t("screen_more_players", { n: names.length - shown });
    line.textContent = t("screen_estimate_closest", { names: `${names.slice(0, shown).join(", ")} ${rest}` });
  }
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
    p.no_points ? el("p", { class: "podium-no-points" }, t("podium_no_points")) : null,
    line ? el("p", { class: "bokaal-line" }, trophyIcon(), line) : null,
  );
}

