// Binnen- en buitenkring on a phone: choose a domain and a grade (and a reason) until the
// facilitator locks; then your circle, place and partner(s) with their entry; then the team map.
//
// A werkvorm renderer for phone.js: render(ctx) draws ctx.view and this phone's `me`.

import { AckHold } from "../ackhold.js";
import { dropDraft, keepDraft, keptDraft } from "./drafts.js";
import { add, el, fmtNumber, replace, t } from "../render.js";

const GRADES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const REASON_MAX = 280;

let ctx = null;
let renderedKey = null;
let draft = null; // {domain, grade, reason}: what the form shows
let sending = null; // the entry sent, not yet acknowledged
let saved = null; // the entry the server acknowledged (or sent back in `me`)
let notice = "";
let touched = false; // the player changed the form since it showed the server's copy
let lastMine = "null"; // the last `me.entry` seen, to notice a new one
let phase = null; // the phase last rendered
// A choice that did not count when the grades were locked: sent but refused (`not_open`, e.g.
// saved while offline), or changed and not saved. It is the draft again once entry reopens.
let late = null; // {domain, grade, reason, sent}
let lateNotice = ""; // why it did not count: shown until the phase changes
// While active, `saved` (from an ack) outranks a `me` that shows another entry (ackhold.js), e.g.
// when a grade is corrected right after saving.
const acked = new AckHold(() => ctx && render(ctx));

/** The choice kept for a reload (drafts.js), as the form takes it; null when there is none. */
function keptChoice() {
  const kept = keptDraft(ctx, "kring");
  return kept && typeof kept === "object" ? { domain: kept.domain || null, grade: kept.grade || null, reason: String(kept.reason || "") } : null;
}

export function reset() {
  renderedKey = null;
  touched = false;
  lastMine = "null";
  draft = null;
  sending = null;
  saved = null;
  notice = "";
  phase = null;
  late = null;
  lateNotice = "";
  acked.release();
}

/** A new session on the server: a grade on its way may have been lost with the old socket (it
 * looked open, and was dead). It goes again (it replaces the player's own record: twice changes
 * nothing); if the grades were locked meanwhile, the phone says it did not arrive in time. */
export function onWelcome() {
  if (!sending) return;
  sending.interrupted = true;
  if (ctx && ctx.view && ctx.view.phase === "entry") ctx.send({ domain: sending.domain, grade: sending.grade, reason: sending.reason });
}

export function onAck(msg) {
  if (sending && msg.domain === sending.domain && msg.grade === sending.grade) {
    saved = sending;
    touched = false;
    acked.hold(saved);
    if (ctx) dropDraft(ctx, "kring");
  }
  if (late && late.sent && msg.domain === late.domain && msg.grade === late.grade) {
    late = null; // it arrived before the lock after all: it counts
    lateNotice = "";
  }
  sending = null;
  notice = "";
}

export function onNotice(err, text) {
  if (err && err.code === "not_open" && (sending || (late && late.sent))) {
    // The grade reached the server after the lock (sent while offline, or just too late): say
    // so in the kring's words and keep the choice for when the facilitator reopens entry.
    late = { ...(sending || late), sent: true };
    // Sent again after a broken connection: it did not arrive in time for want of one.
    lateNotice = late.interrupted ? t("kring_late_offline", { domain: late.domain, grade: late.grade }) : t("kring_late");
    sending = null;
    notice = "";
    return;
  }
  sending = null;
  notice = text;
}

function trimmed(d) {
  return d && d.domain && d.grade ? { domain: d.domain, grade: d.grade, reason: (d.reason || "").trim() } : null;
}

/** A new phase: leaving entry, what was in flight or unsaved did not count (yet); coming back to
 * entry, that choice is the draft again. Every phase change clears the notices. */
function phaseChanged(next, me) {
  const was = phase;
  phase = next;
  if (was === null) return;
  if (was === "entry") {
    const choice = trimmed(draft);
    const mine = me && me.entry;
    if (sending && sending.interrupted && !(mine && same(trimmed(mine), sending))) {
      // On its way when the connection broke, and not in what the server kept: it did not
      // arrive before the lock (a `not_open` for it may still follow, in the same words).
      late = { ...sending, sent: true };
      lateNotice = t("kring_late_offline", { domain: sending.domain, grade: sending.grade });
    } else if (sending) {
      late = { ...sending, sent: true }; // its ack or its `not_open` tells
    } else if (!late && touched && choice && !same(choice, saved)) {
      late = { ...choice, sent: false };
      lateNotice = saved ? t("kring_unsaved_dropped") : t("kring_unsaved_lost");
    } else if (!lateNotice) {
      late = null;
    }
    notice = "";
    return;
  }
  lateNotice = "";
  notice = "";
  if (next === "entry" && late) {
    draft = { domain: late.domain, grade: late.grade, reason: late.reason || "" };
    touched = true;
    renderedKey = null;
  }
  late = null;
}

export function render(context) {
  ctx = context;
  const { view, me } = ctx;
  if (view.phase !== phase) phaseChanged(view.phase, me);
  if (view.phase === "entry") {
    entry(view, me);
    return;
  }
  if (draft) dropDraft(ctx, "kring");
  draft = null;
  sending = null;
  touched = false;
  lastMine = "null";
  const key = JSON.stringify([view.item, view.phase, view, me, lateNotice]);
  if (key === renderedKey) return;
  renderedKey = key;
  replace(ctx.root, ctx.header(t("kring_title_short")), view.phase === "rounds" ? rounds(view, me) : reveal(view, me));
}

// ---------------------------------------------------------------- entry

function same(a, b) {
  return Boolean(a && b && a.domain === b.domain && a.grade === b.grade && (a.reason || "") === (b.reason || ""));
}

function entry(view, me) {
  const mine = me && me.entry ? me.entry : null;
  const mineKey = JSON.stringify(mine);
  // Within the hold, only a `me` that shows the acknowledged entry is taken: one that shows
  // another may be older than the ack.
  if (!draft) {
    const kept = keptChoice(); // a reload in the middle of choosing: the choice is back
    if (kept) {
      draft = kept;
      touched = true;
    }
  }
  const older = Boolean(mine && saved && acked.active && !same(mine, saved));
  if (mine && acked.active && same(mine, saved)) acked.release(); // the server shows it now
  if (mine && mineKey !== lastMine && !sending && !older) {
    // The server's copy (after a reload, or from another tab): shown unless the player is busy.
    saved = { domain: mine.domain, grade: mine.grade, reason: mine.reason || "" };
    if (!touched) {
      draft = { ...saved };
      renderedKey = null;
    }
  }
  if (!older) lastMine = mineKey;
  if (!draft) draft = saved ? { ...saved } : { domain: null, grade: null, reason: "" };
  if (draft.domain && !view.domains.includes(draft.domain)) draft.domain = null; // edited away
  const key = JSON.stringify([view.item, "entry", view.domains, view.title]);
  if (key !== renderedKey) {
    renderedKey = key;
    replace(ctx.root, ctx.header(t("kring_title_short")), entryForm(view));
  }
  updateForm(view, mine);
}

function entryForm(view) {
  const domainButtons = view.domains.map((domain) =>
    el(
      "button",
      {
        type: "button",
        class: "choice-btn domain-btn",
        "aria-pressed": "false",
        dataset: { domain },
        onclick: () => {
          draft.domain = domain;
          notice = "";
          touched = true;
          keepDraft(ctx, "kring", draft);
          updateForm(ctx.view, null);
        },
      },
      domain,
    ),
  );
  const gradeButtons = GRADES.map((grade) =>
    el(
      "button",
      {
        type: "button",
        class: "choice-btn grade-btn",
        "aria-pressed": "false",
        "aria-label": t("kring_grade_aria", { grade }),
        dataset: { grade },
        onclick: () => {
          draft.grade = grade;
          notice = "";
          touched = true;
          keepDraft(ctx, "kring", draft);
          updateForm(ctx.view, null);
        },
      },
      String(grade),
    ),
  );
  const reason = el("textarea", {
    id: "kring-reason",
    class: "kring-reason",
    rows: "3",
    maxlength: String(REASON_MAX),
    placeholder: t("kring_reason_placeholder"),
  });
  reason.value = draft.reason || "";
  reason.addEventListener("input", () => {
    draft.reason = reason.value;
    touched = true;
    keepDraft(ctx, "kring", draft);
    updateForm(ctx.view, null);
  });
  const form = el(
    "form",
    { class: "kring-entry", id: "kring-entry", novalidate: true },
    el("h1", { class: "kring-heading" }, view.title || t("kind_circle")),
    el(
      "fieldset",
      { class: "kring-domain-pick" },
      el("legend", null, t("kring_choose_domain")),
      el("div", { class: "domain-grid" }, domainButtons),
    ),
    el(
      "fieldset",
      { class: "kring-grades" },
      el("legend", null, t("kring_choose_grade")),
      el("div", { class: "grade-grid" }, gradeButtons),
      el("p", { class: "grade-ends muted", "aria-hidden": "true" }, el("span", null, t("kring_grade_low")), el("span", null, t("kring_grade_high"))),
    ),
    el("label", { for: "kring-reason" }, t("kring_reason_label")),
    reason,
    el("p", { class: "notice", id: "kring-notice", role: "alert", hidden: true }),
    el("button", { type: "submit", class: "btn btn-primary btn-block", id: "kring-save" }, t("kring_save")),
    el("p", { class: "kring-status", id: "kring-status", role: "status" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!draft.domain || !draft.grade || sending) return;
    sending = { domain: draft.domain, grade: draft.grade, reason: (draft.reason || "").trim() };
    notice = "";
    ctx.send({ domain: sending.domain, grade: sending.grade, reason: sending.reason });
    updateForm(ctx.view, null);
  });
  return form;
}

/** Reflect the draft and what was saved without rebuilding the buttons under a thumb. */
function updateForm(view, mine) {
  const root = ctx.root;
  for (const b of root.querySelectorAll(".domain-btn")) {
    const on = b.dataset.domain === draft.domain;
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.classList.toggle("is-chosen", on);
  }
  for (const b of root.querySelectorAll(".grade-btn")) {
    const on = Number(b.dataset.grade) === draft.grade;
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.classList.toggle("is-chosen", on);
  }
  const noticeBox = root.querySelector("#kring-notice");
  if (noticeBox) {
    const text = lateNotice || notice;
    noticeBox.textContent = text;
    noticeBox.hidden = !text;
  }
  const save = root.querySelector("#kring-save");
  const status = root.querySelector("#kring-status");
  const isSaved = !sending && same(saved, { ...draft, reason: (draft.reason || "").trim() });
  if (save) {
    save.disabled = !draft.domain || !draft.grade || Boolean(sending) || isSaved;
    save.textContent = saved ? t("kring_save_change") : t("kring_save");
  }
  if (!status) return;
  status.classList.toggle("is-saved", isSaved);
  const stale = Boolean(mine && mine.stale && !sending && same(saved, mine));
  status.classList.toggle("is-stale", stale);
  if (stale) {
    status.textContent = t("kring_stale");
  } else if (sending) {
    status.textContent = t("kring_saving");
  } else if (isSaved) {
    status.textContent = `✓ ${t("kring_saved")} · ${t("kring_saved_hint")}`;
  } else if (saved) {
    status.textContent = t("kring_unsaved");
  } else {
    status.textContent = "";
  }
}

// ---------------------------------------------------------------- rounds

function entryCard(entry, { who = "", own = false } = {}) {
  if (!entry) {
    return el("p", { class: "muted partner-waiting" }, own ? t("kring_you_none") : t("kring_partner_none", { name: who }));
  }
  return el(
    "div",
    { class: ["kring-card", own && "is-own", entry.stale && "is-stale"] },
    // A domain edited away before the lock: the grade does not count, and the card says so.
    entry.stale ? el("p", { class: "kring-card-stale" }, t("kring_card_stale")) : null,
    el("p", { class: "kring-card-domain" }, entry.domain),
    el("p", { class: "kring-card-grade" }, el("span", { class: "grade-big" }, String(entry.grade)), el("span", { class: "muted" }, " / 10")),
    entry.reason ? el("p", { class: "kring-card-reason" }, `“${entry.reason}”`) : null,
  );
}

function rounds(view, me) {
  const section = el("section", { class: "kring-rounds", id: "kring-rounds" });
  const seated = Boolean(me && me.seated);
  const circle = !seated ? "" : me.circle === "inner" ? t("kring_inner") : t("kring_outer");
  let change = null;
  if (seated && me.reseated) {
    // Moved by a join or a leave, not by a turn: say so instead of the last turn's line.
    const where = me.place ? ` ${t("kring_reseated_where", { circle, n: me.place })}` : "";
    change = el("p", { class: "notice kring-reseated", id: "kring-reseated", role: "status" }, t("kring_reseated") + where);
  } else if (view.round > 1 && view.shift) {
    change = el("p", { class: "kring-shift" }, t("kring_shifted", { n: view.shift }));
  }
  add(section, el("p", { class: "kring-round muted" }, t("kring_round_n", { n: view.round || 1 })), change);
  if (!seated) {
    add(section, el("div", { class: "card center" }, el("h1", null, t("kring_not_seated"))));
    return section;
  }
  const alone = Boolean(me.alone || !(me.partners || []).length);
  add(section,
    el(
      "div",
      { class: "kring-where card" },
      el("p", { class: "kring-circle", id: "kring-circle" }, t("kring_you_stand", { circle })),
      // Alone, the server gives no place and no pair to join (place 0, extra false).
      me.place ? el("p", { class: "kring-place", id: "kring-place" }, t("kring_place_n", { n: me.place })) : null,
      me.extra ? el("p", { class: "muted kring-extra" }, t("kring_extra", { n: me.place })) : null,
    ),
  );
  if (alone) {
    add(section, el("p", { class: "notice" }, t("kring_alone")));
  } else {
    const names = me.partners.map((p) => p.name).join(" & ");
    add(section,
      el("h1", { class: "kring-opposite", id: "kring-opposite" }, me.trio ? t("kring_with_trio", { names }) : t("kring_opposite", { name: names })),
      el(
        "ul",
        { class: "kring-partners" },
        me.partners.map((p) =>
          el(
            "li",
            { class: "kring-partner", dataset: { name: p.name } },
            // With one partner the heading above already names them.
            me.trio ? el("h2", { class: "partner-name" }, p.name) : null,
            entryCard(p.entry, { who: p.name }),
          ),
        ),
      ),
    );
  }
  add(section,
    // Questions for the colleague opposite: none while nobody stands there.
    alone
      ? null
      : el(
          "div",
          { class: "kring-prompts" },
          el("h2", null, t("kring_ask_each_other")),
          el("ul", null, (me.prompt || view.prompt || []).map((key) => el("li", null, t(key)))),
        ),
    el("h2", { class: "kring-you" }, t("kring_you_gave")),
    lateNotice ? el("p", { class: "notice kring-late", id: "kring-late", role: "alert" }, lateNotice) : null,
    // With the notice, "you gave no grade" would only contradict it.
    me.entry || !lateNotice ? entryCard(me.entry, { own: true }) : null,
  );
  return section;
}

// ---------------------------------------------------------------- reveal

function reveal(view, me) {
  const mine = me && me.entry ? me.entry : null;
  const own = mine && !mine.stale ? mine.domain : null;
  const rows = (view.domains || []).filter((d) => d.count > 0);
  const empty = (view.domains || []).filter((d) => d.count === 0);
  return el(
    "section",
    { class: "kring-reveal", id: "kring-reveal" },
    el("h1", null, t("kring_map_title")),
    mine
      ? el(
          "p",
          { class: ["kring-mine", mine.stale && "is-stale"] },
          // A stale entry did not count: the phone does not claim it as the player's grade.
          mine.stale ? t("kring_your_entry_stale", { domain: mine.domain }) : t("kring_your_entry", { grade: mine.grade, domain: mine.domain }),
        )
      : null,
    el(
      "ul",
      { class: "kring-map" },
      rows.map((d) =>
        el(
          "li",
          { class: ["kring-map-row", d.domain === own && "is-mine"] },
          el("span", { class: "map-domain" }, d.domain),
          el("span", { class: "map-average" }, fmtNumber(d.average)),
          el("span", { class: "map-count muted" }, t("kring_people_n", { n: d.count })),
        ),
      ),
    ),
    rows.length ? null : el("p", { class: "muted" }, t("kring_no_grades")),
    empty.length ? el("p", { class: "muted" }, t("kring_empty_domains", { domains: empty.map((d) => d.domain).join(", ") })) : null,
  );
}
