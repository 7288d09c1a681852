// The participant's phone: join with code + name, then render whatever the latest view says.

import { Connection } from "./connection.js";
import {
  $,
  Countdown,
  answerText,
  bindBanner,
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
} from "./render.js";

const app = $("#app");
const banner = bindBanner($("#conn-banner"));
const countdown = new Countdown();
const CODE_RE = /^\d{6}$/;
const NAME_MAX = 24;

let conn = null;
let code = "";
let view = null;
let me = null;
let pending = null; // {question, choice?|value?} tapped but not yet acknowledged
let notice = null; // {question, text}: a refusal to show with the current question
let timeUp = false;
let renderedKey = null;

// ---------------------------------------------------------------- storage

const playerKey = (c) => `kk:player:${c}`;

function loadPlayer(c) {
  try {
    const data = JSON.parse(localStorage.getItem(playerKey(c)) || "null");
    return data && typeof data.token === "string" ? data : null;
  } catch {
    return null;
  }
}

function savePlayer(c, data) {
  try {
    localStorage.setItem(playerKey(c), JSON.stringify(data));
    if (data.name) localStorage.setItem("kk:name", data.name);
  } catch {
    /* private mode: the player just cannot resume after a reload */
  }
}

function clearPlayer(c) {
  const old = loadPlayer(c);
  try {
    localStorage.removeItem(playerKey(c));
  } catch {
    /* ignore */
  }
  return old;
}

/** A random id this browser keeps: a phone the facilitator removed cannot rejoin under a new name. */
function deviceId() {
  try {
    let id = localStorage.getItem("kk:device");
    if (!id) {
      id = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem("kk:device", id);
    }
    return id;
  } catch {
    return undefined;
  }
}

function lastName() {
  try {
    return localStorage.getItem("kk:name") || "";
  } catch {
    return "";
  }
}

// ---------------------------------------------------------------- join form

function showForm({ code: presetCode = "", name = "", error = "" } = {}) {
  stopConnection();
  renderedKey = "form";
  const withCode = CODE_RE.test(presetCode);
  const errorBox = el("div", { class: "form-error", role: "alert", id: "join-error" }, error || null);
  errorBox.hidden = !error;
  const roomInfo = el("p", { class: "room-info", id: "room-info" });
  const codeInput = el("input", {
    id: "join-code",
    name: "code",
    class: "code-input",
    type: "text",
    inputmode: "numeric",
    autocomplete: "off",
    pattern: "[0-9]{6}",
    maxlength: "6",
    required: true,
    placeholder: "123456",
    value: presetCode,
    "aria-describedby": "join-error",
  });
  const nameInput = el("input", {
    id: "join-name",
    name: "name",
    type: "text",
    autocomplete: "nickname",
    maxlength: String(NAME_MAX * 4), // longer input is refused with a message, not cut silently
    required: true,
    value: name || lastName(),
    placeholder: t("join_name_placeholder"),
    "aria-describedby": "join-error",
  });
  const submit = el("button", { type: "submit", class: "btn btn-primary btn-block" }, t("join_submit"));
  const form = el(
    "form",
    { class: "join-form card", novalidate: true, id: "join-form" },
    el("h1", null, t("join_title")),
    withCode ? roomInfo : null,
    withCode
      ? el("input", { type: "hidden", name: "code", value: presetCode })
      : el("div", { class: "field" }, el("label", { for: "join-code" }, t("join_code_label")), codeInput),
    el("div", { class: "field" }, el("label", { for: "join-name" }, t("join_name_label")), nameInput),
    errorBox,
    submit,
    withCode ? el("p", { class: "other-code" }, el("a", { href: `/${location.search}` }, t("join_other_code"))) : null,
  );

  const showError = (text) => {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const c = withCode ? presetCode : codeInput.value.replace(/\s+/g, "");
    const n = nameInput.value.trim();
    if (!CODE_RE.test(c)) return showError(t("err_code_format"));
    if (!n) return showError(t("err_name_empty"));
    if ([...n.normalize("NFC")].length > NAME_MAX) return showError(t("err_name_long", { max: NAME_MAX }));
    showError("");
    submit.disabled = true;
    submit.textContent = t("join_busy");
    const problem = await checkRoom(c);
    if (problem) {
      submit.disabled = false;
      submit.textContent = t("join_submit");
      return showError(problem);
    }
    connect(c, { name: n });
  });

  replace(app, form);
  (withCode ? nameInput : codeInput).focus({ preventScroll: true });

  if (withCode) {
    // Early, clear feedback for a wrong or expired code (the hello would say the same later).
    checkRoom(presetCode, (info) => {
      roomInfo.textContent = info.title ? t("join_room_title", { title: info.title }) : "";
    }).then((problem) => {
      if (problem && !error) showError(problem);
    });
  }
}

/** Returns a Dutch (or English) problem text, or "" when the room can be joined. */
async function checkRoom(c, onInfo) {
  let res;
  try {
    res = await fetch(`/api/rooms/${encodeURIComponent(c)}?lang=${lang()}`, {
      headers: { Accept: "application/json" },
    });
  } catch {
    return ""; // network trouble: let the websocket try (and show its banner)
  }
  if (res.status === 404) return t("err_room_not_found");
  if (!res.ok) return "";
  let info = {};
  try {
    info = await res.json();
  } catch {
    return "";
  }
  if (onInfo) onInfo(info);
  if (info.locked) return t("err_room_locked");
  return "";
}

// ---------------------------------------------------------------- connection

function stopConnection() {
  if (conn) conn.stop();
  conn = null;
  countdown.stop();
}

function connect(c, { name = "" } = {}) {
  stopConnection();
  code = c;
  view = null;
  me = null;
  pending = null;
  notice = null;
  renderedKey = null;
  renderWaiting(t("conn_connecting"));
  conn = new Connection({
    hello: () => {
      const stored = loadPlayer(code);
      if (stored) return { role: "phone", room: code, token: stored.token, lang: lang(), device: deviceId() };
      return { role: "phone", room: code, name, lang: lang(), device: deviceId() };
    },
    onWelcome: (msg) => {
      if (msg.token) savePlayer(code, { token: msg.token, name: msg.name || name, player: msg.player });
      const path = `/join/${code}`;
      if (location.pathname !== path) {
        // A reload (or the language switch) must land on this room, not on the empty form.
        history.replaceState(null, "", path + location.search);
        const switcher = document.querySelector(".lang-switch");
        if (switcher) {
          const url = new URL(switcher.href, location.href);
          url.pathname = path;
          switcher.href = url.pathname + url.search;
        }
      }
      render();
    },
    onView: (msg) => {
      view = msg;
      render();
    },
    onMe: (msg) => {
      me = msg;
      if (pending && msg.answer && msg.answer.question === pending.question) pending = null;
      render();
    },
    onAck: (msg) => {
      if (pending && msg.question === pending.question) pending = null;
      render();
    },
    onError: onError,
    onState: banner,
  }).start();
}

function onError(err) {
  const message = errorText(err);
  switch (err.code) {
    case "bad_token": {
      const old = clearPlayer(code);
      showForm({ code, name: old ? old.name : "", error: message });
      break;
    }
    case "kicked":
      clearPlayer(code);
      showForm({ code, error: message });
      break;
    case "room_not_found":
      clearPlayer(code);
      showForm({ code: "", error: message });
      break;
    case "room_locked":
    case "room_full":
    case "name_invalid":
    case "bad_frame":
      if (!conn || !conn.everWelcomed) {
        showForm({ code, name: (loadPlayer(code) || {}).name || "", error: message });
      } else {
        setNotice(message);
      }
      break;
    case "already_answered":
    case "not_open":
    case "too_late":
    case "invalid_choice":
      pending = null;
      setNotice(message);
      break;
    case "overloaded":
      break; // the server closes the socket; the connection reconnects by itself
    default:
      setNotice(message);
  }
}

function errorText(err) {
  const key = `err_${err.code}`;
  const own = t(key);
  return own !== key ? own : err.message || t("err_generic");
}

function setNotice(text) {
  notice = { question: view && view.question ? view.question.index : -1, text };
  renderedKey = null;
  render();
}

function sendAnswer(question, payload) {
  if (pending || !conn) return;
  pending = { question: question.index, ...payload };
  notice = null;
  conn.send({ type: "input", item: view ? view.item || 0 : 0, data: { question: question.index, ...payload } });
  render();
}

// ---------------------------------------------------------------- rendering

function renderWaiting(text) {
  renderedKey = "waiting";
  replace(app, el("div", { class: "card center" }, el("div", { class: "spinner", "aria-hidden": "true" }), el("p", null, text)));
}

function render() {
  if (!view) return;
  const q = view.question;
  const open = view.phase === "question" && q;
  if (!open) {
    pending = null;
    notice = null;
  } else if (pending && pending.question !== q.index) {
    pending = null;
  }
  const answered = open && me && me.answer && me.answer.question === q.index ? me.answer : null;
  const noticeText = open && notice && notice.question === q.index ? notice.text : "";
  const key = open ? `q:${q.index}:${answered ? "a" : pending ? "p" : "-"}:${noticeText}` : null;
  if (key && key === renderedKey) {
    // Same question on screen: only re-sync the clock, never rebuild the buttons under a thumb.
    syncCountdown(q);
    updateHeader();
    return;
  }
  if (!key || !renderedKey || !renderedKey.startsWith(`q:${q.index}:`)) timeUp = false;
  renderedKey = key;

  const parts = [header()];
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
  replace(app, ...parts);
  if (view.phase === "question" && q) syncCountdown(q);
  else countdown.stop();
}

function myName() {
  return (me && me.name) || (loadPlayer(code) || {}).name || "";
}

function header() {
  return el(
    "div",
    { class: "phone-top" },
    el("span", { class: "me-name", id: "me-name" }, myName()),
    el("span", { class: "me-score", id: "me-score" }, me ? t("points_n", { n: fmtNumber(me.score) }) : ""),
  );
}

function updateHeader() {
  const name = $("#me-name");
  const score = $("#me-score");
  if (name) name.textContent = myName();
  if (score && me) score.textContent = t("points_n", { n: fmtNumber(me.score) });
}

function syncCountdown(q) {
  const nodes = [...app.querySelectorAll(".countdown, .timebar")];
  countdown.set(q.remaining_ms, q.time_limit, nodes, () => {
    if (view && view.phase === "question" && !timeUp) {
      timeUp = true;
      for (const button of app.querySelectorAll(".answers button, .estimate button")) button.disabled = true;
      const hint = $("#time-up");
      if (hint) hint.hidden = false;
    }
  });
}

function lobby() {
  return el(
    "section",
    { class: "card center lobby" },
    el("p", { class: "joined-as" }, t("phone_joined_as", { name: myName() })),
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
        el("p", { class: "muted" }, t("phone_your_choice")),
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

function estimateForm(q) {
  const min = Number(q.min);
  const max = Number(q.max);
  const step = estimateStep(q);
  const middle = Math.round((min + (max - min) / 2) / step) * step;
  const unit = q.unit || "";
  const number = el("input", {
    id: "estimate-value",
    type: "number",
    inputmode: "decimal",
    min: String(min),
    max: String(max),
    step: step === 1 ? "1" : "any",
    value: String(middle),
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
    if (number.value !== "") slider.value = number.value;
  });
  slider.addEventListener("input", () => {
    number.value = slider.value;
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
      el("span", null, `${fmtNumber(min)} ${unit}`),
      el("span", null, `${fmtNumber(max)} ${unit}`),
    ),
    error,
    el("button", { type: "submit", class: "btn btn-primary btn-block", disabled: timeUp }, t("phone_estimate_send")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = Number(String(number.value).replace(",", "."));
    if (number.value === "" || !Number.isFinite(value) || value < min || value > max) {
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
  const counting = !result && me && me.answer && q && me.answer.question === q.index;
  const r = view.reveal || {};
  let verdict;
  if (counting) {
    verdict = el("div", { class: "verdict neutral" }, el("h1", null, t("phone_counting")));
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
    yours ? el("p", { class: "muted" }, t("phone_you_answered", { answer: yours })) : null,
    me && me.streak >= 2 && q.type !== "poll" ? el("p", { class: "streak" }, t("phone_streak", { n: me.streak })) : null,
    rankLine(),
    explain ? el("details", { class: "explain-details", open: true }, el("summary", null, t("explain_title")), explain) : null,
  );
}

function correctText(q, r) {
  if (q.type === "estimate") {
    return r.answer === undefined || r.answer === null ? "" : `${fmtNumber(r.answer)}${q.unit ? ` ${q.unit}` : ""}`;
  }
  return (r.correct || []).map((i) => optionTexts(q)[i]).filter((x) => x !== undefined).join(" / ");
}

function rankLine() {
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
    scoreboardList(top, { me: myName() }),
  );
}

function podium() {
  const p = view.podium || {};
  const line = bokaalLine(p.bokaal);
  return el(
    "section",
    { class: "podium-phone center" },
    me && me.rank
      ? el("h1", { class: "final-place" }, t("phone_final_place", { rank: me.rank, of: me.of }))
      : el("h1", null, t("podium_title")),
    me ? el("p", { class: "muted" }, t("phone_total", { n: fmtNumber(me.score) })) : null,
    el(
      "ol",
      { class: "podium-list" },
      (p.top || []).map((row) =>
        el(
          "li",
          { class: ["podium-row", `place-${row.rank}`, row.name === myName() && "is-me"] },
          el("span", { class: "podium-rank" }, String(row.rank)),
          el("span", { class: "score-name" }, row.name),
          el("span", { class: "score-points" }, fmtNumber(row.score)),
        ),
      ),
    ),
    line ? el("p", { class: "bokaal-line" }, trophyIcon(), line) : null,
    el("p", null, t("phone_thanks")),
  );
}

// ---------------------------------------------------------------- start

function start() {
  const initial = (app.dataset.code || "").trim();
  if (CODE_RE.test(initial) && loadPlayer(initial)) {
    connect(initial); // resume: same player, name and score after a reload or screen lock
  } else {
    showForm({ code: initial });
  }
}

start();
