// The participant's phone: join with code + name, then render whatever the latest view says.

import { Connection } from "./connection.js";
import { $, bindBanner, el, lang, replace, t } from "./render.js";

// Each werkvorm draws its own part of the page; the shell knows the room, not the werkvorm.
// The join form needs none of them: they load while the phone connects (guest Wi-Fi).
const LOADERS = {
  quiz: () => import("./werkvormen/quiz-phone.js"),
  circle: () => import("./werkvormen/circle-phone.js"),
  dotvote: () => import("./werkvormen/dotvote-phone.js"),
};
const RENDERERS = {}; // kind → loaded module
const loading = {}; // kind → promise

function load(kind) {
  if (!LOADERS[kind] || RENDERERS[kind]) return;
  if (!loading[kind]) {
    loading[kind] = LOADERS[kind]()
      .then((module) => {
        RENDERERS[kind] = module;
        render();
      })
      .catch(() => {
        delete loading[kind]; // a later view tries again
      });
  }
}

const app = $("#app");

// What a screen reader hears: the headings new on the screen (a question, "Antwoord
// ontvangen!", "Goed!"), once, not every re-render of the page (#app is no live region).
const live = $("#announce");
let headings = [];
// The control last focused on the page: when a render replaces it ("Doe mee", "Opslaan", an
// answer button as the next question comes), focus would fall back to <body> and a screen
// reader would start again at the top. It goes to the new page's first heading instead.
let focused = null;
app.addEventListener("focusin", (event) => (focused = event.target));
new MutationObserver(() => {
  const now = [...app.querySelectorAll("h1, h2")].map((h) => h.textContent.trim()).filter(Boolean);
  let fresh = now.filter((text) => !headings.includes(text)).slice(0, 2);
  headings = now;
  const moved = keepFocus(fresh);
  if (moved) fresh = fresh.filter((text) => text !== moved); // read out once, by the focus
  if (fresh.length && live) live.textContent = fresh.join(". ");
  // What it said is gone from the page (another werkvorm, the end): a screen reader that reads
  // the page through must not find it there any more (trial 8). Emptying it says nothing.
  else if (live && live.textContent && !now.some((text) => live.textContent.includes(text))) live.textContent = "";
}).observe(app, { childList: true, subtree: true, characterData: true });

/** After a render removed the focused control: focus the page's first new heading (`fresh`:
 * "Antwoord ontvangen!" under the question), else its first heading, else its first button or
 * link, and return the heading's text, or "" when focus stayed where it was. */
function keepFocus(fresh) {
  if (!focused || focused.isConnected) return "";
  const active = document.activeElement;
  if (active && active !== document.body && active.isConnected) {
    focused = null;
    return "";
  }
  // Not a text field: on a phone that would open the keyboard. A page still without either (the
  // spinner while connecting) is tried again at the next render.
  const all = [...app.querySelectorAll("h1, h2")];
  const target =
    all.find((h) => fresh.includes(h.textContent.trim())) || all[0] || app.querySelector("button:not([disabled]), a[href]");
  if (!target) return "";
  focused = null;
  if (target.matches("h1, h2") && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
  target.focus({ preventScroll: true });
  return target.matches("h1, h2") ? target.textContent.trim() : "";
}
const banner = bindBanner($("#conn-banner"));
const CODE_RE = /^\d{6}$/;
const NAME_MAX = 24;

let conn = null;
let code = "";
let view = null;
let me = null;
let current = null; // the werkvorm renderer on screen (null: the form or a wait)
let shownPhase = null; // "item:phase" of the werkvorm page last drawn
// {text, at}: why the room gave this phone another name than the one typed ("Anna" was taken:
// "anna 2"), under the name until the running item's phase changes (`at`: the item and phase
// it was first shown in).
let nameNote = null;

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

/** The name to suggest on the next join form: as typed ("anna"), not as a room made it unique;
 * "" forgets it. */
function rememberName(name) {
  try {
    if (name) localStorage.setItem("kk:name", name);
    else localStorage.removeItem("kk:name");
  } catch {
    /* private mode: no suggestion next time */
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

/** Removed by the facilitator: no join form to press in vain (this browser stays refused), but
 * what to do about it, and a way back once the facilitator let this phone in again. */
function showRemoved(text) {
  stopConnection();
  rendererFor(null);
  replace(
    app,
    el(
      "section",
      { class: "card center", id: "removed" },
      el("p", { class: "form-error", role: "alert", id: "join-error" }, text),
      el("p", { class: "muted" }, t("removed_hint")),
      el("button", { type: "button", class: "btn btn-secondary btn-block", id: "removed-retry", onclick: () => showForm({ code }) }, t("removed_retry")),
    ),
  );
}

/** The facilitator ended the session: thanks, and the way to another session (the code form).
 * Nothing changes in this room any more, so the connection is closed. */
function showEnded() {
  stopConnection();
  replace(
    app,
    el(
      "section",
      { class: "card center", id: "session-ended" },
      el("h1", null, t("phone_ended_title")),
      el("p", { class: "other-code" }, el("a", { href: `/${location.search}`, id: "ended-other" }, t("phone_ended_other"))),
    ),
  );
}

/** `checked`: what start() already asked the server about the room ({problem, info}). */
function showForm({ code: presetCode = "", name = "", error = "", checked = null } = {}) {
  stopConnection();
  rendererFor(null);
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
    // As the projector shows it ("123 456") or as six digits: the space (or a dash) is dropped.
    pattern: "[0-9]{3}[ \\-]?[0-9]{3}",
    maxlength: "7",
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
    const c = withCode ? presetCode : codeInput.value.replace(/[\s-]+/g, "");
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
    const onInfo = (info) => {
      const title = info.title || (info.activity && t(`kind_${info.activity}`));
      roomInfo.textContent = title ? t("join_room_title", { title }) : "";
    };
    let check;
    if (checked) {
      if (checked.info) onInfo(checked.info);
      check = Promise.resolve(checked.problem);
    } else {
      check = checkRoom(presetCode, (info) => (info.ended ? showEnded() : onInfo(info)));
    }
    check.then((problem) => {
      if (problem && !error && form.isConnected) showError(problem);
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
  if (info.ended) return t("err_session_ended");
  if (info.locked) return t("err_room_locked");
  return "";
}

// ---------------------------------------------------------------- connection

function stopConnection() {
  if (conn) conn.stop();
  conn = null;
  rendererFor(null);
}

function connect(c, { name = "" } = {}) {
  stopConnection();
  code = c;
  view = null;
  me = null;
  nameNote = null;
  for (const kind of Object.keys(LOADERS)) load(kind);
  renderWaiting(t("conn_connecting"));
  conn = new Connection({
    hello: () => {
      const stored = loadPlayer(code);
      if (stored) return { role: "phone", room: code, token: stored.token, lang: lang(), device: deviceId() };
      return { role: "phone", room: code, name, lang: lang(), device: deviceId() };
    },
    onWelcome: (msg) => {
      // Joined with the name typed (not resumed): the room may have made it unique ("anna 2").
      const typed = name && msg.name && !loadPlayer(code) ? cleanName(name) : "";
      if (typed) nameNote = renamed(typed, msg.name);
      if (msg.token) savePlayer(code, { token: msg.token, name: msg.name || name, player: msg.player });
      if (typed) rememberName(typed);
      if (current && current.onWelcome) current.onWelcome(msg);
      // A reload (or the language switch) must land on this room, not on the empty form.
      setPath(`/join/${code}`);
      render();
    },
    onView: (msg) => {
      view = msg;
      render();
    },
    onMe: (msg) => {
      me = msg;
      if (current && view && msg.item === view.item && current.onMe) current.onMe(msg);
      render();
    },
    onAck: (msg) => {
      if (current && view && msg.item === view.item && current.onAck) current.onAck(msg);
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
      rememberName(""); // a name the facilitator removed is not suggested again
      showRemoved(message);
      break;
    case "session_ended":
      showEnded();
      break;
    case "room_not_found": {
      const old = clearPlayer(code);
      if (old || (conn && conn.everWelcomed)) {
        // The room this phone was in is gone (the server restarted, the room expired): nobody
        // typed a wrong code. Ask for the new one, with the name kept; a reload shows the form.
        const name = (old && old.name) || myName();
        setPath("/");
        showForm({ code: "", name, error: t("err_room_gone") });
      } else {
        showForm({ code: "", error: message });
      }
      break;
    }
    case "room_locked":
    case "room_full":
    case "name_invalid":
    case "bad_frame":
      if (!conn || !conn.everWelcomed) {
        showForm({ code, name: (loadPlayer(code) || {}).name || "", error: message });
      } else {
        setNotice(err, message);
      }
      break;
    default:
      setNotice(err, message);
  }
}

/** The page's address (and the language switch's) without reloading: `/join/CODE` or `/`. */
function setPath(path) {
  if (location.pathname === path) return;
  history.replaceState(null, "", path + location.search);
  const switcher = document.querySelector(".lang-switch");
  if (switcher) {
    const url = new URL(switcher.href, location.href);
    url.pathname = path;
    switcher.href = url.pathname + url.search;
  }
}

/** A typed name as the server cleans it: NFC, one space between words. */
function cleanName(typed) {
  return typed.normalize("NFC").replace(/\s+/g, " ").trim();
}

/** The note for a name the room changed to keep names unique (`typed` "anna", `given` "anna 2",
 * both cleaned), or null when it is the name typed. */
function renamed(typed, given) {
  if (typed === given || !/ \d+$/.test(given)) return null;
  return { text: t("phone_name_taken", { typed, name: given }), at: "" };
}

function errorText(err) {
  const key = `err_${err.code}`;
  const own = t(key);
  return own !== key ? own : err.message || t("err_generic");
}

/** A refusal the werkvorm on screen shows in its own place (e.g. with the question). */
function setNotice(err, text) {
  if (current && current.onNotice) current.onNotice(err, text);
  render();
}

// ---------------------------------------------------------------- rendering

function renderWaiting(text) {
  current = null;
  replace(app, el("div", { class: "card center" }, el("div", { class: "spinner", "aria-hidden": "true" }), el("p", null, text)));
}

/** The renderer of the werkvorm the view belongs to; switching werkvorm resets the old one. */
function rendererFor(activity) {
  const next = RENDERERS[activity] || null;
  if (next !== current) {
    if (current) current.reset();
    if (next) next.reset();
    current = next;
  }
  return next;
}

function render() {
  // A new page shows a werkvorm only once it has this phone's own frame too (the server sends
  // one right after the view): before it, a reveal would say "no answer" to one who answered.
  if (view && view.room && view.room.ended) {
    showEnded(); // instead of the werkvorm: the session is over
    return;
  }
  if (!view || !me) return;
  load(view.activity);
  const at = `${view.item}:${view.phase}`;
  if (nameNote && !nameNote.at) nameNote.at = at;
  else if (nameNote && nameNote.at !== at) nameNote = null;
  if (!nameNote) {
    const note = $("#name-note"); // a werkvorm that only updates its page keeps its header
    if (note) note.remove();
  }
  const renderer = rendererFor(view.activity);
  if (!renderer) {
    replace(app, header(""), el("section", { class: "card center" }, el("p", null, t("phone_wait_activity"))));
    return;
  }
  renderer.render({
    root: app,
    view,
    // A `me` of an earlier programme item is not this werkvorm's.
    me: me && me.item === view.item ? me : null,
    send: (data, options) => Boolean(conn && conn.send({ type: "input", item: view.item || 0, data }, options)),
    name: myName,
    header,
    updateHeader,
    code,
  });
  // A new phase starts at the top of its page (trial 9: when voting closed, a phone scrolled
  // down the cards kept its place, and the question for the minority stood above the screen).
  if (shownPhase !== null && shownPhase !== at) window.scrollTo(0, 0);
  shownPhase = at;
}

function myName() {
  return (me && me.name) || (loadPlayer(code) || {}).name || "";
}

/** The phone's top line: the player's name and the werkvorm's own figure (the quiz's points);
 * under it, just after joining, why the name is not the one typed. */
function header(right) {
  return [
    el(
      "div",
      { class: "phone-top" },
      el("span", { class: "me-name", id: "me-name" }, myName()),
      el("span", { class: "me-score", id: "me-score" }, right || ""),
    ),
    nameNote ? el("p", { class: "notice name-note", id: "name-note", role: "status" }, nameNote.text) : null,
  ];
}

function updateHeader(right) {
  const name = $("#me-name");
  const score = $("#me-score");
  if (name) name.textContent = myName();
  if (score) score.textContent = right || "";
}

// ---------------------------------------------------------------- start

function start() {
  const initial = (app.dataset.code || "").trim();
  if (CODE_RE.test(initial) && loadPlayer(initial)) {
    connect(initial); // resume: same player, name and score after a reload or screen lock
  } else if (CODE_RE.test(initial)) {
    // The join link of a session that ended shows its end, not a form to press in vain.
    let info = null;
    checkRoom(initial, (found) => (info = found)).then((problem) => {
      if (info && info.ended) showEnded();
      else showForm({ code: initial, checked: { problem, info } });
    });
  } else {
    showForm({ code: initial });
  }
}

start();
