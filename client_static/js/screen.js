// The projector screen (1920×1080): the room's chrome (join code + QR, connection) around the
// running werkvorm, which draws itself (werkvormen/*-screen.js).

import { Connection } from "./connection.js";
import { $, bindBanner, displayUrl, el, lang, replace, t } from "./render.js";
import * as quizScreen from "./werkvormen/quiz-screen.js";
import * as circleScreen from "./werkvormen/circle-screen.js";
import * as dotvoteScreen from "./werkvormen/dotvote-screen.js";

const RENDERERS = { quiz: quizScreen, circle: circleScreen, dotvote: dotvoteScreen };

const app = $("#app");
const code = (app.dataset.code || "").trim();
const banner = bindBanner($("#conn-banner"));

let view = null;
let conn = null;
let current = null;

function start() {
  if (!/^\d{6}$/.test(code)) {
    fatal(t("screen_room_not_found"), true);
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
        fatal(t("screen_room_not_found"), true);
      }
    },
    onState: banner,
  }).start();
}

function rendererFor(activity) {
  const next = RENDERERS[activity] || null;
  if (next !== current) {
    if (current) current.reset();
    if (next) next.reset();
    current = next;
  }
  return next;
}

/** A screen that cannot show anything; `gone`: its room does not exist (any more), so the way on
 * is a new session on the facilitator's page. */
function fatal(text, gone = false) {
  rendererFor(null);
  replace(
    app,
    el(
      "div",
      { class: "screen-center screen-gone" },
      el("h1", { class: "screen-error", role: "alert" }, text),
      gone ? otherSession() : null,
      gone ? el("p", { class: "screen-wait" }, el("a", { href: `/host${location.search}` }, t("screen_new_session"))) : null,
    ),
  );
}

/** The facilitator ended the session: the projector says so (and where the team's bokaal and
 * history are). Nothing changes in the room any more, so the connection is closed. */
function ended(room) {
  const team = room.team || "";
  if (conn) conn.stop();
  conn = null;
  rendererFor(null);
  // On the server the phones joined at (not this tab's own address), as people type it: spaces
  // and accents as they are (a browser encodes them), only what would end the name encoded.
  const bokaal = team ? `${joinHost(room)}/bokaal?team=${team.replace(/[%&#+?]/g, encodeURIComponent)}` : "";
  replace(
    app,
    el(
      "main",
      { class: "screen-center screen-ended", id: "screen-ended" },
      el("h1", null, t("screen_ended")),
      el("p", { class: "screen-wait" }, t("screen_ended_thanks")),
      team ? el("p", { class: "bokaal-line" }, t("screen_ended_bokaal", { team, url: bokaal })) : null,
    ),
  );
}

/** A session that is gone (a restarted server, a typo): this tab shows a running one from its
 * code, without a detour through the facilitator's page. */
function otherSession() {
  const input = el("input", { id: "screen-code", inputmode: "numeric", autocomplete: "off", maxlength: "7", pattern: "\\d{3} ?\\d{3}", required: true });
  return el(
    "form",
    {
      class: "screen-other",
      onsubmit: (e) => {
        e.preventDefault();
        const digits = input.value.replace(/\s/g, "");
        if (/^\d{6}$/.test(digits)) location.assign(`/screen/${digits}${location.search}`);
      },
    },
    el("label", { for: "screen-code" }, t("screen_other_code")),
    input,
    el("button", { type: "submit", class: "btn btn-primary" }, t("screen_show")),
  );
}

function render() {
  if (!view) return;
  if (view.room && view.room.ended) {
    ended(view.room);
    return;
  }
  const renderer = rendererFor(view.activity);
  if (!renderer) {
    replace(app, topBar(null, false), el("main", { class: "screen-center" }, joinPanel()));
    return;
  }
  renderer.render({ root: app, view, topBar, joinPanel });
}

/** The top line: the werkvorm's title and, once the join panel is gone, how to join. */
function topBar(title, joinLine = true) {
  const room = view.room || {};
  return el(
    "header",
    { class: "screen-top" },
    title,
    joinLine ? el("div", { class: "screen-join-small" }, t("screen_join_small", { url: joinHost(room), code: room.code || code })) : null,
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

/** Where to go, the code and the QR code. */
function joinPanel() {
  const room = view.room || {};
  const joinUrl = room.join_url || `${location.origin}/join/${code}`;
  return el(
    "section",
    { class: "join-panel" },
    el("p", { class: "join-step" }, t("screen_join_go_to")),
    el("p", { class: "join-url" }, joinHost(room)),
    el("p", { class: "join-step" }, t("screen_join_enter_code")),
    el("p", { class: "room-code", "aria-label": t("screen_code_aria", { code: spaced(room.code || code) }) }, spaced(room.code || code)),
    // The same in the other language, small: an international class reads the Dutch projector.
    el("p", { class: "join-other-lang", lang: t("screen_join_other_lang_code") }, t("screen_join_other_lang", { url: joinHost(room) })),
    el("div", { class: "qr-box" }, qrImage(joinUrl), el("p", { class: "join-step" }, t("screen_join_scan"))),
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

start();
