// The Themaquiz on a phone: lobby, question (buttons or estimate), reveal, scoreboard, podium.
//
// A werkvorm renderer for phone.js: render(ctx) draws ctx.view (and this phone's `me`) into
// ctx.root; ack/notice report what the server said about an input.

import {
  Countdown,
  answerText,
  bokaalLine,
  el,
  fmtNumber,
  lang,
  optionTexts,
  optionTile,
  replace,
  scoreboardList,
  t,
  toelichtingBlock,
  trophyIcon,
  withUnit,
} from "../render.js";

const countdown = new Countdown();
let ctx = null; // {root, view, me, send, name, header, updateHeader, code}
let view = null;
let me = null;
let pending = null; // {question, choice?|value?} tapped but not yet acknowledged
// The question whose answer this phone tapped and the server never had: the connection broke
// before it arrived and the question closed meanwhile. Its reveal says so.
let missed = null;
// The question whose answer the server refused as too late (tapped as its time ran out, on a
// connection that worked): its reveal says so rather than "no answer given".
let late = null;
let heard = false; // a `me` came since the last welcome: this session's word on the answer
// {question, choice, value} the server acknowledged, shown as received until this phone's `me`
// says so too: a busy server sends the ack at once and the `me` with its next render.
let acked = null;
let notice = null; // {question, text}: a refusal to show with the current question
let timeUp = false;
let renderedKey = null;

/** Forget what is on screen (another werkvorm or the join form took the page). */
export function reset() {
  countdown.stop();
  pending = null;
  missed = null;
  late = null;
  acked = null;
  notice = null;
  timeUp = false;
  renderedKey = null;
}

/** A new session on the server (a reconnect): its views and `me` are the truth again. An
 * answer not acknowledged yet was tapped without a connection (the connection did not keep it)
 * or sent on a socket that turned out dead: it goes again once this session's `me` shows the
 * server does not have it and its question is still open, never into a later question. */
export function onWelcome() {
  acked = null;
  heard = false;
  if (pending) pending.lost = pending.interrupted = true;
}

export function onMe(me) {
  heard = true;
  if (pending && me.answer && me.answer.question === pending.question) pending = null;
  if (pending && pending.lost && ctx) transmit();
  const known = (me.answer && me.answer.question) ?? (me.result && me.result.question);
  if (acked && known === acked.question) acked = null;
}

export function onAck(msg) {
  if (pending && msg.question === pending.question) pending = null;
  acked = { question: msg.question, choice: msg.choice, value: msg.value };
}

/** This phone's answer to question `q`: as its `me` says, else as the server acknowledged it. */
function givenTo(q) {
  if (me && me.answer && me.answer.question === q.index) return me.answer;
  return acked && acked.question === q.index ? acked : null;
}

/** A refusal from the server: shown with the current question. */
export function onNotice(err, text) {
  if (err.code === "too_late") late = pending ? pending.question : view && view.question ? view.question.index : null;
  if (["already_answered", "not_open", "too_late", "invalid_choice"].includes(err.code)) pending = null;
  notice = { question: view && view.question ? view.question.index : -1, text };
  renderedKey = null;
}

function sendAnswer(question, payload) {
  if (pending || !ctx) return;
  pending = { question: question.index, ...payload };
  notice = null;
  transmit();
  render(ctx);
}

/** Send the pending answer now, or keep it `lost` until the next session's `me` (not queued in
 * the connection: by then its question may have closed). */
function transmit() {
  const { question, choice, value } = pending;
  pending.lost = !ctx.send(value === undefined ? { question, choice } : { question, value }, { queue: false });
}

export function render(context) {
  ctx = context;
  view = ctx.view;
  me = ctx.me;
  const q = view.question;
  const open = view.phase === "question" && q;
  if (!open) {
    // Still on its way when its question closed, and the connection broke meanwhile.
    if (pending && pending.interrupted && q && pending.question === q.index) missed = q.index;
    pending = null;
    // Kept through its question's reveal: until the result comes, the answer is "counting".
    if (!(acked && view.phase === "reveal" && q && acked.question === q.index)) acked = null;
    notice = null;
  } else {
    missed = null;
    if (late !== q.index) late = null;
    if (pending && pending.question !== q.index) pending = null;
  }
  const answered = open ? givenTo(q) : null;
  const noticeText = open && notice && notice.question === q.index ? notice.text : "";
  const key = open ? `q:${q.index}:${answered ? "a" : pending ? "p" : "-"}:${noticeText}` : null;
  if (key && key === renderedKey) {
    // Same question on screen: only re-sync the clock, never rebuild the buttons under a thumb.
    syncCountdown(q);
    ctx.updateHeader(scoreText());
    return;
  }
  if (!key || !renderedKey || !renderedKey.startsWith(`q:${q.index}:`)) timeUp = false;
  renderedKey = key;

  const parts = [ctx.header(scoreText())];
  switch (view.phase) {
    case "lobby":
      parts.push(lobby());
      break;
    case "question":
      parts.push(question(q, answered, noticeText));
      break;
    case "reveal":
      parts.push(reveal(q));
      break;
    case "scoreboard":
      parts.push(scoreboard());
      break;
    case "podium":
      parts.push(podium());
      break;
    default:
      parts.push(el("p", null, view.phase));
  }
  replace(ctx.root, ...parts);
  if (view.phase === "question" && q) syncCountdown(q);
  else countdown.stop();
}

function scoreText() {
  return ctx.me && typeof ctx.me.score === "number" ? t("points_n", { n: fmtNumber(ctx.me.score) }) : "";
}

function syncCountdown(q) {
  const root = ctx.root;
  const nodes = [...root.querySelectorAll(".countdown, .timebar")];
  countdown.set(q.remaining_ms, q.time_limit, nodes, () => {
    if (ctx.view && ctx.view.phase === "question" && !timeUp) {
      timeUp = true;
      for (const button of root.querySelectorAll(".answers button, .estimate button")) button.disabled = true;
      const hint = root.querySelector("#time-up");
      if (hint) hint.hidden = false;
    }
  }, q);
}

function lobby() {
  return el(
    "section",
    { class: "card center lobby" },
    el("p", { class: "joined-as" }, t("phone_joined_as", { name: ctx.name() })),
    el("div", { class: "spinner", "aria-hidden": "true" }),
    el("h1", { class: "wait" }, t("phone_wait_start")),
    view.quiz ? el("p", { class: "quiz-title" }, view.quiz.title) : null,
    view.quiz && view.quiz.theme ? el("p", { class: "muted" }, t("quiz_theme_by", { theme: view.quiz.theme, author: view.quiz.author || "" })) : null,
    view.room && typeof view.room.players === "number" ? el("p", { class: "muted" }, t("players_n", { n: view.room.players })) : null,
  );
}

function questionHead(q) {
  return [
    el(
      "div",
      { class: "q-meta" },
      el("span", null, t("question_n_of", { n: q.number, total: q.total })),
      view.phase === "question"
        ? el("span", { class: "countdown", role: "timer", "aria-label": t("seconds_left") }, "")
        : null,
    ),
    view.phase === "question" ? el("div", { class: "timebar", "aria-hidden": "true" }) : null,
    el("h2", { class: "q-text" }, q.text),
  ];
}
function question(q, answered, noticeText) {
  const section = el("section", { class: `question type-${q.type}` }, questionHead(q));
  const noticeBox = noticeText ? el("p", { class: "notice", role: "alert" }, noticeText) : null;
  if (answered || pending) {
    const given = answered || pending;
    section.append(
      el(
        "div",
        { class: ["received", answered ? "is-received" : "is-sending"], role: "status" },
        el("div", { class: "big-mark", "aria-hidden": "true" }, answered ? "✓" : "…"),
        el("h2", null, answered ? t("phone_answer_received") : t("phone_answer_sending")),
        el("p", { class: "muted" }, t(q.type === "estimate" ? "phone_your_estimate" : "phone_your_choice")),
        chosen(q, given),
        noticeBox,
        answered ? el("p", { class: "muted" }, t("phone_wait_others")) : null,
      ),
    );
    return section;
  }
  if (noticeBox) section.append(noticeBox);
  const timeUpHint = el("p", { class: "notice", id: "time-up", role: "status" }, t("phone_time_up"));
  timeUpHint.hidden = !timeUp;
  if (q.type === "estimate") {
    section.append(estimateForm(q), timeUpHint);
  } else {
    const options = optionTexts(q);
    section.append(
      el(
        "div",
        { class: `answers answers-${options.length}` },
        options.map((text, i) =>
          optionTile("button", i, text, {
            type: "button",
            class: "answer-btn",
            disabled: timeUp,
            onclick: () => sendAnswer(q, { choice: i }),
          }),
        ),
      ),
      timeUpHint,
    );
    if (q.type === "poll") section.append(el("p", { class: "muted center" }, t("phone_poll_hint")));
  }
  return section;
}

function chosen(q, given) {
  if (q.type === "estimate") {
    return el("p", { class: "chosen-value" }, answerText(q, given));
  }
  if (typeof given.choice !== "number") return null;
  return optionTile("div", given.choice, optionTexts(q)[given.choice] ?? "", { class: "chosen" });
}

function estimateStep(q) {
  const span = Number(q.max) - Number(q.min);
  if (Number.isInteger(q.min) && Number.isInteger(q.max) && span <= 1000) return 1;
  return span / 200;
}

/** A typed number as people write it: "10,5" and "10.5" are 10.5; "2.000" is 2000 in Dutch and
 * "2,000" in English (thousands); the question's `unit` may be typed with it ("20 %"); NaN for
 * anything else. */
export function parseDecimal(text, language = lang(), unit = "") {
  let s = withoutUnit(String(text), unit).replace(/[\s\u00a0']/g, "");
  const [group, point] = language === "en" ? [",", "."] : [".", ","];
  if (new RegExp(`^-?\\d{1,3}(\\${group}\\d{3})+(\\${point}\\d+)?$`).test(s)) s = s.split(group).join("");
  s = s.replace(",", ".");
  return /^-?(\d+\.?\d*|\.\d+)$/.test(s) ? Number(s) : NaN;
}

/** `text` without the question's unit typed after or before the number ("20 %", "€ 20"). */
function withoutUnit(text, unit) {
  const s = text.trim();
  const u = String(unit).trim().toLowerCase();
  if (!u) return s;
  if (s.toLowerCase().endsWith(u)) return s.slice(0, s.length - u.length);
  if (s.toLowerCase().startsWith(u)) return s.slice(u.length);
  return s;
}

/** The value as the page's language writes it, without grouping: "10,5" in Dutch. */
function typedValue(value) {
  return lang() === "en" ? String(value) : String(value).replace(".", ",");
}

function estimateForm(q) {
  const min = Number(q.min);
  const max = Number(q.max);
  const step = estimateStep(q);
  const middle = Math.round((min + (max - min) / 2) / step) * step;
  const unit = q.unit || "";
  // Text, not type=number: a number field drops a decimal comma in some browsers ("10,5" → 105).
  const number = el("input", {
    id: "estimate-value",
    type: "text",
    inputmode: "decimal",
    autocomplete: "off",
    value: typedValue(middle),
    required: true,
  });
  const slider = el("input", {
    type: "range",
    class: "estimate-range",
    min: String(min),
    max: String(max),
    step: String(step),
    value: String(middle),
    "aria-label": t("phone_estimate_label"),
  });
  const error = el("p", { class: "form-error", role: "alert" });
  error.hidden = true;
  number.addEventListener("input", () => {
    const value = parseDecimal(number.value, lang(), unit);
    if (Number.isFinite(value)) slider.value = String(value);
  });
  slider.addEventListener("input", () => {
    number.value = typedValue(slider.value);
  });
  const form = el(
    "form",
    { class: "estimate card", novalidate: true },
    el("label", { for: "estimate-value" }, t("phone_estimate_label")),
    el("div", { class: "estimate-row" }, number, unit ? el("span", { class: "unit" }, unit) : null),
    slider,
    el(
      "div",
      { class: "range-ends", "aria-hidden": "true" },
      el("span", null, withUnit(min, q)),
      el("span", null, withUnit(max, q)),
    ),
    error,
    el("button", { type: "submit", class: "btn btn-primary btn-block", disabled: timeUp }, t("phone_estimate_send")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = parseDecimal(number.value, lang(), unit);
    if (!Number.isFinite(value) || value < min || value > max) {
      error.textContent = t("phone_estimate_range", { min: fmtNumber(min), max: fmtNumber(max), unit });
      error.hidden = false;
      return;
    }
    sendAnswer(q, { value });
  });
  return form;
}

function reveal(q) {
  const result = me && me.result && q && me.result.question === q.index ? me.result : null;
  // The reveal view can arrive a moment before this phone's own result (`me`): an answer given
  // but not yet scored is "counting", never "no answer".
  // An answer that was on its way without a connection: counting until this session's `me`
  // says whether the server had it.
  const lost = q && missed === q.index;
  const counting = q && ((!result && givenTo(q)) || (lost && !heard));
  const r = view.reveal || {};
  let verdict;
  if (counting) {
    verdict = el("div", { class: "verdict neutral" }, el("h1", null, t("phone_counting")));
  } else if (!result && !lost && me && me.of && !me.rank) {
    verdict = null; // joined after this question was scored: the welcome below says what's next
  } else if (q && late === q.index && !(result && result.answered)) {
    verdict = el(
      "div",
      { class: "verdict neutral missed" },
      el("h1", null, t("phone_answer_late")),
      el("p", null, t("phone_answer_late_why")),
    );
  } else if (lost && !(result && result.answered)) {
    verdict = el(
      "div",
      { class: "verdict neutral missed" },
      el("h1", null, t("phone_answer_missed")),
      el("p", null, t("phone_answer_missed_why")),
    );
  } else if (q && q.type === "poll") {
    verdict = result && result.answered
      ? el("div", { class: "verdict neutral" }, el("h1", null, t("phone_thanks_vote")))
      : el("div", { class: "verdict neutral" }, el("h1", null, t("phone_no_vote")));
  } else if (!result || !result.answered) {
    verdict = el("div", { class: "verdict neutral" }, el("h1", null, t("phone_no_answer")));
  } else if (result.correct) {
    verdict = el(
      "div",
      { class: "verdict good" },
      el("div", { class: "big-mark", "aria-hidden": "true" }, "✓"),
      el("h1", null, t("phone_correct")),
      el("p", { class: "gained" }, t("points_plus", { n: fmtNumber(result.points) })),
      result.streak_bonus ? el("p", { class: "bonus" }, t("phone_streak_bonus", { n: fmtNumber(result.streak_bonus) })) : null,
    );
  } else if (result.outcome === "near") {
    // An estimate beyond the tolerance that still earned points: "bijna", never a red ✗.
    verdict = el(
      "div",
      { class: "verdict near" },
      el("div", { class: "big-mark", "aria-hidden": "true" }, "≈"),
      el("h1", null, t("phone_near")),
      el("p", { class: "gained" }, t("points_plus", { n: fmtNumber(result.points) })),
    );
  } else {
    verdict = el(
      "div",
      { class: "verdict bad" },
      el("div", { class: "big-mark", "aria-hidden": "true" }, "✗"),
      el("h1", null, t("phone_wrong")),
      result.points ? el("p", { class: "gained" }, t("points_plus", { n: fmtNumber(result.points) })) : null,
    );
  }
  const rightAnswer = q ? correctText(q, r) : "";
  // From the reveal on, the given answer comes with the result.
  const yours = result && result.answered ? answerText(q, result) : "";
  const explain = toelichtingBlock(r);
  return el(
    "section",
    { class: "reveal" },
    verdict,
    q ? el("p", { class: "q-small" }, q.text) : null,
    rightAnswer && q.type !== "poll" ? el("p", { class: "right-answer" }, t("right_answer_is", { answer: rightAnswer })) : null,
    yours ? el("p", { class: "muted" }, t(q.type === "estimate" ? "phone_you_estimated" : "phone_you_answered", { answer: yours })) : null,
    me && me.streak >= 2 && q.type !== "poll" ? el("p", { class: "streak" }, t("phone_streak", { n: me.streak })) : null,
    rankLine(),
    explain ? el("details", { class: "explain-details", open: true }, el("summary", null, t("explain_title")), explain) : null,
  );
}

function correctText(q, r) {
  if (q.type === "estimate") {
    return r.answer === undefined || r.answer === null ? "" : withUnit(r.answer, q);
  }
  return (r.correct || []).map((i) => optionTexts(q)[i]).filter((x) => x !== undefined).join(" / ");
}

function rankLine() {
  // Joined after the last question was scored (`of` counts the scored, this phone is not among
  // them): no place yet, but a welcome and when it starts.
  if (me && me.of && !me.rank) return el("p", { class: "notice joined-midway" }, t("phone_joined_midway", { name: me.name || ctx.name() }));
  if (!me || !me.rank) return null;
  return el(
    "div",
    { class: "rank-box" },
    el("p", { class: "rank" }, t("phone_rank", { rank: me.rank, of: me.of })),
    el("p", { class: "muted" }, t("phone_total", { n: fmtNumber(me.score) })),
  );
}

function scoreboard() {
  const top = (view.scoreboard && view.scoreboard.top) || [];
  return el(
    "section",
    { class: "scoreboard-phone" },
    el("h1", null, t("scoreboard_title")),
    rankLine(),
    scoreboardList(top, { me: ctx.name() }),
  );
}

function podium() {
  const p = view.podium || {};
  const line = bokaalLine(p.bokaal);
  // Joined after the last question was scored: nothing to total up or thank for.
  const late = Boolean(me && me.of && !me.rank);
  return el(
    "section",
    { class: "podium-phone center" },
    me && me.rank && !p.no_points
      ? el("h1", { class: "final-place" }, t("phone_final_place", { rank: me.rank, of: me.of }))
      : el("h1", null, t("podium_title")),
    late ? el("p", { class: "notice joined-late" }, t("phone_joined_after_end", { name: me.name || ctx.name() })) : null,
    me && !late ? el("p", { class: "muted" }, t("phone_total", { n: fmtNumber(me.score) })) : null,
    p.no_points ? el("p", { class: "podium-no-points" }, t("podium_no_points")) : null,
    el(
      "ol",
      { class: "podium-list" },
      (p.top || []).map((row) =>
        el(
          "li",
          { class: ["podium-row", `place-${row.rank}`, row.name === ctx.name() && "is-me"] },
          el("span", { class: "podium-rank" }, String(row.rank)),
          el("span", { class: "score-name" }, row.name),
          el("span", { class: "score-points" }, fmtNumber(row.score)),
        ),
      ),
    ),
    line ? el("p", { class: "bokaal-line" }, trophyIcon(), line) : null,
    late ? null : el("p", { class: "podium-thanks" }, t("phone_thanks")),
    view.room && view.room.next ? el("p", { class: "muted next-werkvorm" }, t("phone_more_follows")) : null,
  );
}

