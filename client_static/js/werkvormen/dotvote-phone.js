// Zes stickers prioriteren on a phone: propose cards while they go up on the wall; then tap a
// card to put a sticker on it and "−" to take one back, with the stickers left always in view;
// after voting the ranking, and for whoever backed a card below the cut the minority question.
//
// A werkvorm renderer for phone.js: render(ctx) draws ctx.view and this phone's `me`. The
// server keeps the placement: what is drawn is `me.stickers`, or — while a tap is on its way —
// the placement that tap sent, until the server answers it (offline too: marked as not sent).

import { AckHold } from "../ackhold.js";
import { dropDraft, keepDraft, keptDraft } from "./drafts.js";
import { charCounter, el, replace, t } from "../render.js";
import { byDomain, cardIndex, cutText, doelgroepLabel, metaLine, stickersText } from "./dotvote-cards.js";

const ONDERWERP_MAX = 120;
const LEERVORM_MAX = 60;
const ANSWER_MAX = 280;

let ctx = null;
let skeletonKey = null;
const parts = new Map(); // container id → JSON of the data it was built from

let queue = []; // the kinds of the inputs sent and not answered yet, in order
let last = null; // {kind, data, queued} the last input sent, while any is unanswered
let optimistic = null; // the placement the last tap sent, while taps are on their way
// The placement the server acknowledged last, until a `me` shows it.
const acked = new AckHold(() => ctx && update());
let notice = "";
let noticeLocal = false; // the notice explains a tap refused here, after the last input sent
let noticeTimer = null;
const NOTICE_MS = 6000; // how long a notice stays in the voting bar
let proposalStatus = "";
let sentProposal = false; // the form's card is on its way
let pendingKeys = new Set(); // my proposals the facilitator had not handled yet, last drawn
// The proposal the server refused as too late: proposals had closed, or voting had begun while
// the phone was offline. Still named when the phone then hears that voting began.
let lateProposal = null; // {onderwerp, phase: the phase the phone showed when it was refused}
let answerDraft = null;
let answerStatus = "";

export function reset() {
  ctx = null;
  skeletonKey = null;
  parts.clear();
  queue = [];
  last = null;
  optimistic = null;
  acked.release();
  clearTimeout(noticeTimer);
  notice = "";
  noticeLocal = false;
  proposalStatus = "";
  sentProposal = false;
  pendingKeys = new Set();
  lateProposal = null;
  answerDraft = null;
  answerStatus = "";
}

function settle(kind) {
  const i = queue.indexOf(kind);
  if (i >= 0) queue.splice(i, 1);
  else queue.shift();
  answered();
}

function answered() {
  if (!queue.includes("stickers")) optimistic = null;
  if (!queue.length) last = null;
}

/** A new session on the server. What was sent on the old socket and not answered may have been
 * lost with it: the last input goes again, unless the connection kept it to send now. Each
 * dotvote input replaces the player's earlier one (the whole placement, the list of proposals,
 * the answer), so one that did arrive counts once all the same. */
export function onWelcome() {
  queue = [];
  if (!last) return;
  if (!last.queued) return send(last.kind, last.data);
  queue.push(last.kind);
  last.queued = false;
}

export function onAck(msg) {
  if ("stickers" in msg) {
    acked.hold(msg.stickers || {});
    settle("stickers");
    // The ack of an earlier tap does not wipe what a later, refused tap explains.
    if (!noticeLocal) notice = "";
  } else if ("proposals" in msg) {
    settle("proposals");
    proposalStatus = sentProposal ? t("dotvote_proposal_sent") : "";
    notice = "";
    // The form keeps what was typed until the server took it (a refusal leaves it to fix).
    const form = ctx && ctx.root.querySelector("#dv-propose-form");
    if (form && sentProposal) {
      form.reset();
      for (const count of form.querySelectorAll(".char-count")) count.update(); // a reset says nothing
    }
    sentProposal = false;
  } else if ("answer" in msg) {
    settle("answer");
    answerStatus = t("dotvote_answer_saved");
    notice = "";
    if (ctx) dropDraft(ctx, "answer");
  }
}

/** A `me` confirms the acknowledged placement when it shows it. One that does not may have been
 * rendered before the placement was stored (it is sent after the ack all the same), so the
 * ack's placement stays in view until one shows it (ackhold.js). */
export function onMe(me) {
  if (acked.active && samePlacement(acked.value, (me && me.stickers) || {})) acked.release();
}

function samePlacement(a, b) {
  const cards = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...cards].every((card) => (a[card] || 0) === (b[card] || 0));
}

export function onNotice(err, text) {
  // Stickers that arrived after the close (tapped late, or on their way while the phone was
  // offline): say how many of those placed count.
  if (err && err.code === "voting_closed" && last && last.kind === "stickers") {
    const tried = total(last.data.stickers || {});
    const counted = total(acked.value || (ctx && ctx.me && ctx.me.stickers) || {}); // as the server kept it
    if (tried !== counted) text = t("dotvote_late_stickers", { counted, tried });
  }
  // A proposal that arrived once proposals were closed (sent late, or on its way while the phone
  // was offline): name it, since the form that held it is gone or emptied.
  if (err && err.code === "not_open" && last && last.kind === "proposals" && sentProposal) {
    const card = (last.data.proposals || []).at(-1);
    if (card) {
      lateProposal = { onderwerp: card.onderwerp, phase: ctx && ctx.view.phase };
      text = lateProposalText();
    }
  }
  // A refused input changes nothing on the server: show what it keeps (`me`) again.
  if (queue[0] === "proposals") {
    sentProposal = false;
    proposalStatus = "";
  }
  if (queue.length) queue.shift();
  answered();
  notice = text;
  fadeInVoting();
  if (ctx) update();
}

function lateProposalText() {
  const voting = ctx && ctx.view.phase !== "cards";
  return t(voting ? "dotvote_late_proposal_voting" : "dotvote_late_proposal_closed", { onderwerp: lateProposal.onderwerp });
}

/** What taking a proposal off the phone's own list does: withdraw a waiting one; for one on the
 * wall, say the card stays there (only the list forgets it). */
function withdrawLabel(p) {
  if (p.status === "pending") return t("dotvote_withdraw");
  return p.status === "accepted" ? t("dotvote_remove_from_list_kept") : t("dotvote_remove_from_list");
}

/** Send an input. It stays on screen until the server answers it, also while the phone is
 * offline (connection.js sends it once connected again; onWelcome sends one lost with a dead socket). */
function send(kind, data) {
  noticeLocal = false;
  queue.push(kind);
  last = { kind, data, queued: !ctx.send(data) };
}

/** Build `node`'s content from `data` only when the data changed (no buttons replaced under a thumb). */
function part(id, data, build) {
  const node = ctx.root.querySelector(`#${id}`);
  if (!node) return;
  const json = JSON.stringify(data);
  if (parts.get(id) === json) return;
  parts.set(id, json);
  replace(node, build(data));
}

export function render(context) {
  ctx = context;
  const { view } = ctx;
  const key = JSON.stringify([view.item, view.phase]);
  if (key !== skeletonKey) {
    const before = skeletonKey && JSON.parse(skeletonKey);
    skeletonKey = key;
    parts.clear();
    // Back from the result to voting: the facilitator reopened it, which the voting screen
    // coming back alone does not say.
    const reopened = before && before[0] === view.item && before[1] !== "cards" && view.phase === "voting";
    // A proposal refused just before the phone heard that voting began stays explained.
    const carried = lateProposal && lateProposal.phase === "cards" && view.phase === "voting";
    notice = reopened ? t("dotvote_reopened") : carried ? lateProposalText() : "";
    lateProposal = null;
    fadeInVoting();
    acked.release(); // a new phase: what the server keeps is all there is (voting reopened: none)
    replace(ctx.root, ctx.header(t("dotvote_title_short")), skeleton(view.phase));
  }
  update();
}

function skeleton(phase) {
  // A notice can be put away with a tap: with large text it covers much of a small screen.
  const noticeBox = el(
    "div",
    { class: "notice dv-notice", id: "dv-notice-box", hidden: true },
    el("button", { type: "button", class: "dv-notice-close", "aria-label": t("dotvote_notice_close"), onclick: dismissNotice }, "×"),
    el("p", { id: "dv-notice", role: "alert" }),
  );
  if (phase === "cards") {
    return el(
      "section",
      { class: "dv-phone dv-phone-cards", id: "dv-phone" },
      el("div", { id: "dv-intro" }),
      el("div", { id: "dv-propose" }),
      noticeBox,
      el("div", { id: "dv-mine" }),
      el("div", { id: "dv-wall" }),
    );
  }
  if (phase === "voting") {
    // The notice sticks with the bar: a refused tap low on the list is explained where the thumb is.
    return el(
      "section",
      { class: "dv-phone dv-phone-voting", id: "dv-phone" },
      el(
        "div",
        { class: "dv-sticky" },
        el(
          "div",
          { class: "dv-bar", id: "dv-bar", role: "status", "aria-live": "polite" },
          el("p", { class: "dv-left", id: "dv-left" }),
          el("p", { class: "dv-hint dv-unsent", id: "dv-unsent", hidden: true }, t("dotvote_unsent")),
          el("div", { class: "dv-dots", id: "dv-dots", "aria-hidden": "true" }),
          el("p", { class: "dv-hint", id: "dv-hint" }),
          el("p", { class: "dv-hint dv-cap", id: "dv-cap", hidden: true }),
        ),
        noticeBox,
      ),
      el("div", { id: "dv-dropped" }),
      el("div", { id: "dv-vote" }),
    );
  }
  return el(
    "section",
    { class: "dv-phone dv-phone-result", id: "dv-phone" },
    el("div", { id: "dv-minority-box" }),
    noticeBox,
    el("div", { id: "dv-mine-result" }),
    el("div", { id: "dv-ranking" }),
  );
}

function update() {
  const { view } = ctx;
  const me = ctx.me || {};
  if (view.phase === "cards") updateCards(view, me);
  else if (view.phase === "voting") updateVoting(view, me);
  else updateResult(view, me);
  const box = ctx.root.querySelector("#dv-notice-box");
  if (box) {
    box.querySelector("#dv-notice").textContent = notice;
    box.hidden = !notice;
  }
  fitBar();
}

// ---------------------------------------------------------------- cards: the wall, proposals

function updateCards(view, me) {
  part("dv-intro", { title: view.title, stickers: view.stickers, open: view.proposals_open }, ({ title, stickers, open }) => [
    el("h1", { class: "dv-heading" }, title || t("kind_dotvote")),
    el("p", { class: "dv-lead" }, t("dotvote_phone_cards_lead", { n: stickers || 6 })),
    el("p", { class: "muted" }, open ? t("dotvote_phone_propose_hint") : t("dotvote_phone_proposals_closed")),
  ]);
  const mine = me.proposals || [];
  const max = me.max_proposals || 3;
  part(
    "dv-propose",
    { open: Boolean(view.proposals_open), full: mine.length >= max, max, domains: view.domains, leervormen: view.leervormen, kwartalen: view.kwartalen, doelgroepen: view.doelgroepen },
    proposalForm,
  );
  // "Voorstel verstuurd: de begeleider kan het aan de muur hangen" goes once the facilitator
  // took a proposal over or turned it down (trial 9: it stayed above "niet overgenomen").
  const pending = new Set(mine.filter((p) => p.status === "pending").map((p) => p.key));
  if ([...pendingKeys].some((key) => !pending.has(key))) proposalStatus = "";
  pendingKeys = pending;
  const status = ctx.root.querySelector("#dv-proposal-status");
  if (status) status.textContent = proposalStatus;
  // What an accepted proposal became on the wall: edited, merged into another card, or removed.
  const wall = new Map((view.cards || []).map((card) => [card.id, card.onderwerp]));
  const shown = mine.map((p) => (p.status === "accepted" ? { ...p, on: wall.get(p.card_id) ?? null } : p));
  part("dv-mine", { mine: shown, open: Boolean(view.proposals_open) }, myProposals);
  part("dv-wall", { cards: view.cards, domains: view.domains }, ({ cards, domains }) => wallList(cards, domains));
}

function select(id, options, { required = false, empty = null } = {}) {
  return el(
    "select",
    { id, name: id, required },
    empty !== null ? el("option", { value: "" }, empty) : null,
    options.map(([value, label]) => el("option", { value }, label)),
  );
}

function proposalForm({ open, full, max, domains, leervormen, kwartalen, doelgroepen }) {
  if (!open) return [];
  if (full) return el("p", { class: "dv-full" }, t("dotvote_proposals_full", { n: max }));
  const domain = select("dv-p-domain", (domains || []).map((d) => [d, d]), { required: true, empty: t("dotvote_choose_domain") });
  const onderwerp = el("input", { id: "dv-p-onderwerp", type: "text", required: true, maxlength: String(ONDERWERP_MAX), autocomplete: "off", placeholder: t("dotvote_onderwerp_placeholder") });
  const doelgroep = select("dv-p-doelgroep", (doelgroepen || ["team", "kennisgroep", "individueel"]).map((d) => [d, doelgroepLabel(d)]), { empty: "—" });
  const kwartaal = select("dv-p-kwartaal", (kwartalen || ["Q1", "Q2", "Q3", "Q4"]).map((q) => [q, q]), { empty: t("dotvote_kwartaal_none") });
  const listId = "dv-leervormen";
  const leervorm = el("input", { id: "dv-p-leervorm", type: "text", maxlength: String(LEERVORM_MAX), list: listId, autocomplete: "off" });
  const field = (input, label) => el("div", { class: "field" }, el("label", { for: input.id }, label), input);
  const form = el(
    "form",
    { class: "dv-propose card", id: "dv-propose-form", novalidate: true },
    el("h2", null, t("dotvote_propose_title")),
    field(domain, t("dotvote_field_domain")),
    field(onderwerp, t("dotvote_field_onderwerp")),
    charCounter(onderwerp),
    el("div", { class: "dv-field-row" }, field(doelgroep, t("dotvote_field_doelgroep")), field(kwartaal, t("dotvote_field_kwartaal"))),
    field(leervorm, t("dotvote_field_leervorm")),
    el("datalist", { id: listId }, (leervormen || []).map((l) => el("option", { value: l }))),
    el("button", { type: "submit", class: "btn btn-primary btn-block", id: "dv-propose-submit" }, t("dotvote_propose_submit")),
    el("p", { class: "dv-status", id: "dv-proposal-status", role: "status" }, proposalStatus),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const card = {
      domain: domain.value,
      onderwerp: onderwerp.value.trim(),
      doelgroep: doelgroep.value,
      kwartaal: kwartaal.value,
      leervorm: leervorm.value.trim(),
    };
    if (!card.domain) return showNotice(t("dotvote_need_domain"));
    if (!card.onderwerp) return showNotice(t("dotvote_need_onderwerp"));
    const list = [...((ctx.me || {}).proposals || []).map(plainCard), card];
    proposalStatus = t("dotvote_sending");
    notice = "";
    sentProposal = true;
    send("proposals", { proposals: list });
    update();
  });
  return form;
}

function plainCard(p) {
  return { domain: p.domain, kwartaal: p.kwartaal || "", doelgroep: p.doelgroep || "", onderwerp: p.onderwerp, leervorm: p.leervorm || "" };
}

function showNotice(text) {
  notice = text;
  noticeLocal = true;
  fadeInVoting();
  update();
}

/** The notice's "×": put away before its time. */
function dismissNotice() {
  clearTimeout(noticeTimer);
  notice = "";
  noticeLocal = false;
  if (ctx) update();
}

/** While voting the notice sits in the sticky bar above the cards: it goes after a few seconds,
 * so it does not keep a fifth of a small screen covered. */
function fadeInVoting() {
  clearTimeout(noticeTimer);
  if (!ctx || ctx.view.phase !== "voting" || !notice) return;
  const shown = notice;
  noticeTimer = setTimeout(() => {
    if (notice !== shown) return;
    notice = "";
    noticeLocal = false;
    if (ctx) update();
  }, NOTICE_MS);
}

/** "hangt aan de muur", or as what: a card the facilitator edited or merged it into; "niet
 * meer aan de muur" when that card was removed; "niet overgenomen"; "wacht op de begeleider". */
function proposalState(p) {
  if (p.status !== "accepted" || p.on === undefined || p.on === p.onderwerp) return t(`dotvote_proposal_${p.status}`);
  return p.on === null ? t("dotvote_proposal_gone") : t("dotvote_proposal_accepted_as", { onderwerp: p.on });
}

function myProposals({ mine, open }) {
  if (!mine.length) return [];
  return el(
    "section",
    { class: "dv-mine" },
    el("h2", null, t("dotvote_my_proposals")),
    el(
      "ul",
      { class: "dv-mine-list" },
      mine.map((p) =>
        el(
          "li",
          { class: ["dv-mine-item", `is-${p.status}`], dataset: { key: p.key } },
          el("strong", { class: "dv-card-onderwerp" }, p.onderwerp),
          el("span", { class: "dv-card-domain" }, p.domain),
          el("span", { class: "dv-proposal-status" }, proposalState(p)),
          open
            ? el(
                "button",
                {
                  type: "button",
                  class: "btn btn-small btn-ghost",
                  "aria-label": `${withdrawLabel(p)}: ${p.onderwerp}`,
                  onclick: () => {
                    const list = mine.filter((x) => x.key !== p.key).map(plainCard);
                    proposalStatus = "";
                    send("proposals", { proposals: list });
                  },
                },
                withdrawLabel(p),
              )
            : null,
        ),
      ),
    ),
  );
}

function cardBody(card) {
  const meta = metaLine(card);
  return [
    el("span", { class: "dv-card-onderwerp" }, card.onderwerp),
    meta ? el("span", { class: "dv-card-meta" }, meta) : null,
  ];
}

function grouped(cards, domains, build) {
  const sorted = byDomain(cards, domains);
  const groups = [];
  for (const card of sorted) {
    const last = groups[groups.length - 1];
    if (last && last.domain === card.domain) last.cards.push(card);
    else groups.push({ domain: card.domain, cards: [card] });
  }
  return groups.map((g) => el("section", { class: "dv-domain-group" }, el("h2", { class: "dv-domain-name" }, g.domain), el("ul", { class: "dv-cards" }, g.cards.map(build))));
}

function wallList(cards, domains) {
  return [
    el("h2", { class: "dv-wall-title" }, t("dotvote_wall_n", { n: (cards || []).length })),
    (cards || []).length ? grouped(cards, domains, (card) => el("li", { class: "dv-card" }, cardBody(card))) : el("p", { class: "muted" }, t("dotvote_no_cards_yet")),
  ];
}

// ---------------------------------------------------------------- voting: tap to stick

function placement(me) {
  return optimistic || acked.value || me.stickers || {};
}

function total(stickers) {
  return Object.values(stickers).reduce((a, b) => a + (Number(b) || 0), 0);
}

/** How many stickers this phone can place: what the server counts (placed + left; a cap per
 * card may allow fewer than the budget, docs/PROTOCOL.md), else the room's budget. */
function budgetOf(view, me) {
  if (Number.isInteger(me.placed) && Number.isInteger(me.left)) return me.placed + me.left;
  return me.budget || view.stickers || 6;
}

function capOf(view, me) {
  return (me.cap ?? view.cap) || 0;
}

function updateVoting(view, me) {
  part("dv-vote", { cards: view.cards, domains: view.domains, title: view.title }, ({ cards, domains, title }) => [
    el("h1", { class: "dv-heading" }, title || t("kind_dotvote")),
    grouped(cards, domains, voteCard),
  ]);
  const current = placement(me);
  // Taps the server has not answered yet: while offline (app.css) marked as not sent.
  const confirmed = acked.value || me.stickers || {};
  const unsent = ctx.root.querySelector("#dv-unsent");
  if (unsent) unsent.hidden = samePlacement(current, confirmed);
  const budget = budgetOf(view, me);
  const placed = total(current);
  const left = Math.max(0, budget - placed);
  const leftNode = ctx.root.querySelector("#dv-left");
  if (leftNode) {
    leftNode.textContent = left === 0 ? t("dotvote_none_left") : t("dotvote_left_n", { n: left });
    leftNode.classList.toggle("is-done", left === 0);
  }
  const dots = ctx.root.querySelector("#dv-dots");
  if (dots && dots.childElementCount !== budget) {
    replace(dots, Array.from({ length: budget }, () => el("span", { class: "dv-dot" })));
  }
  if (dots) [...dots.children].forEach((dot, i) => dot.classList.toggle("is-used", i < placed));
  const hint = ctx.root.querySelector("#dv-hint");
  if (hint) hint.textContent = left === 0 ? t("dotvote_hint_done") : placed ? t("dotvote_hint_more") : t("dotvote_hint_start");
  const cap = capOf(view, me);
  const capLine = ctx.root.querySelector("#dv-cap");
  if (capLine) {
    capLine.textContent = cap ? t("dotvote_cap_n", { n: cap }) : "";
    capLine.hidden = !cap;
  }
  // Proposals still waiting when voting opened did not go up on the wall: say so.
  part("dv-dropped", { dropped: me.dropped || [] }, ({ dropped }) =>
    dropped.length
      ? el(
          "div",
          { class: "notice dv-dropped", id: "dv-dropped-notice" },
          el("p", null, dropped.length === 1 ? t("dotvote_dropped_one") : t("dotvote_dropped_n", { n: dropped.length })),
          el("ul", null, dropped.map((onderwerp) => el("li", null, onderwerp))),
        )
      : [],
  );
  for (const li of ctx.root.querySelectorAll(".dv-vote-card")) {
    const id = li.dataset.card;
    const n = Number(current[id]) || 0;
    li.classList.toggle("has-stickers", n > 0);
    li.classList.toggle("is-unsent", n !== (Number(confirmed[id]) || 0));
    const count = li.querySelector(".dv-mine-count");
    if (count) count.textContent = n ? t("dotvote_yours_n", { n }) : "";
    const stack = li.querySelector(".dv-stack");
    if (stack && stack.childElementCount !== n) replace(stack, Array.from({ length: n }, () => el("span", { class: "dv-dot is-used" })));
    const minus = li.querySelector(".dv-minus");
    if (minus) minus.disabled = n === 0;
    const main = li.querySelector(".dv-card-main");
    // What the dots and "jij: 3" show, said to a screen reader too (the labels replace them).
    const onderwerp = li.dataset.onderwerp || "";
    const yours = n ? ` ${t("dotvote_yours_aria", { n })}` : "";
    if (main) main.setAttribute("aria-label", `${t("dotvote_add_aria", { onderwerp })}.${yours}`);
    if (minus) minus.setAttribute("aria-label", `${t("dotvote_remove_aria", { onderwerp })}.${yours}`);
    // Still tappable when full: the tap explains why nothing happens (a disabled button would not).
    if (main) main.classList.toggle("is-full", left === 0 || Boolean(cap && n >= cap));
  }
}

/** The bar sticks below the connection's banner while that shows (render.js bindBanner), not
 * under it. A bar (with its notice) taller than a third of the screen (large text, a zoomed or
 * small phone) would cover the cards while scrolling: then only its count (and what is not sent,
 * and the notice) stays in view, and the rest scrolls away above it (app.css `is-tall`: the
 * count moves to the bar's bottom). */
function fitBar() {
  const sticky = ctx.root.querySelector(".dv-sticky");
  if (!sticky) return;
  const banner = document.querySelector("#conn-banner");
  const below = banner && !banner.hidden ? banner.offsetHeight : 0;
  sticky.classList.remove("is-tall");
  sticky.style.top = `${below}px`;
  if (sticky.offsetHeight <= innerHeight / 3) return;
  sticky.classList.add("is-tall");
  sticky.style.top = `${below - sticky.querySelector("#dv-left").offsetTop}px`;
}

addEventListener("resize", () => ctx && fitBar());
new MutationObserver(() => ctx && fitBar()).observe(document.body, { attributeFilter: ["class"] });

function voteCard(card) {
  return el(
    "li",
    { class: "dv-card dv-vote-card", dataset: { card: card.id, onderwerp: card.onderwerp } },
    el(
      "button",
      { type: "button", class: "dv-card-main", "aria-label": t("dotvote_add_aria", { onderwerp: card.onderwerp }), onclick: () => tap(card.id, +1) },
      cardBody(card),
      el("span", { class: "dv-stack", "aria-hidden": "true" }),
      el("span", { class: "dv-mine-count" }),
    ),
    el("button", { type: "button", class: "dv-minus", "aria-label": t("dotvote_remove_aria", { onderwerp: card.onderwerp }), onclick: () => tap(card.id, -1) }, "−"),
  );
}

function tap(cardId, delta) {
  const { view } = ctx;
  const me = ctx.me || {};
  const current = { ...placement(me) };
  const n = Number(current[cardId]) || 0;
  if (delta > 0) {
    const cap = capOf(view, me);
    if (total(current) >= budgetOf(view, me)) return showNotice(t("err_over_budget"));
    if (cap && n >= cap) return showNotice(t("err_over_cap"));
    current[cardId] = n + 1;
  } else {
    if (n <= 0) return;
    if (n === 1) delete current[cardId];
    else current[cardId] = n - 1;
  }
  notice = "";
  optimistic = current;
  send("stickers", { stickers: current });
  update();
}

// ---------------------------------------------------------------- result: ranking, minority

function updateResult(view, me) {
  const cards = cardIndex(view.cards);
  const minority = me.minority || null;
  part("dv-minority-box", { minority: minority ? minority.cards : null, question: view.question, has: Boolean(minority) }, () => minorityForm(view, minority, cards));
  const answer = ctx.root.querySelector("#dv-answer");
  if (answer && minority && answerDraft === null) {
    // An answer typed before a reload and not sent is back, marked as not sent.
    const kept = keptDraft(ctx, "answer");
    answerDraft = typeof kept === "string" ? kept : minority.answer || "";
    if (answerDraft.trim() !== (minority.answer || "")) answerStatus = t("dotvote_unsent");
    answer.value = answerDraft;
    const count = ctx.root.querySelector("#dv-answer-count");
    if (count && count.update) count.update();
  }
  const status = ctx.root.querySelector("#dv-answer-status");
  if (status) {
    status.textContent = answerStatus || (minority && minority.answer ? t("dotvote_answer_saved") : "");
    status.classList.toggle("is-saved", Boolean(minority && minority.answer && !queue.includes("answer")));
  }
  // `joined_late`: the server says why this phone has no stickers (it joined once voting closed).
  const late = Boolean(me.joined_late);
  const below = minority ? minority.cards || [] : null;
  part("dv-mine-result", { stickers: me.stickers || {}, below, late, phase: view.phase, ranking: view.ranking }, ({ stickers }) => myOutcome(stickers, below, late));
  part("dv-ranking", { ranking: view.ranking, cards: view.cards, cut: view.cut, tie: view.tie, owners: view.owners, phase: view.phase, mine: me.stickers || {} }, (data) => rankingList(data, cards));
}

function minorityForm(view, minority, cards) {
  if (!minority) return [];
  const supported = (minority.cards || []).map((id) => cards.get(id)).filter(Boolean);
  const area = el("textarea", { id: "dv-answer", class: "dv-answer", rows: "4", maxlength: String(ANSWER_MAX), placeholder: t("dotvote_answer_placeholder") });
  area.value = answerDraft ?? minority.answer ?? "";
  area.addEventListener("input", () => {
    answerDraft = area.value;
    keepDraft(ctx, "answer", area.value);
    answerStatus = area.value.trim() === (((ctx.me || {}).minority || {}).answer || "") ? "" : t("dotvote_unsent");
    const status = ctx.root.querySelector("#dv-answer-status");
    if (status) status.textContent = answerStatus;
  });
  const form = el(
    "form",
    { class: "dv-minority card", id: "dv-minority", novalidate: true },
    el("h1", { class: "dv-question" }, t(view.question || "dotvote_minority_question")),
    el("p", null, supported.length === 1 ? t("dotvote_you_supported_one") : t("dotvote_you_supported")),
    el("ul", { class: "dv-supported" }, supported.map((card) => el("li", null, el("strong", null, card.onderwerp), el("span", { class: "dv-supported-domain" }, card.domain)))),
    el("label", { for: "dv-answer" }, t("dotvote_answer_label")),
    area,
    charCounter(area),
    el("button", { type: "submit", class: "btn btn-primary btn-block", id: "dv-answer-submit" }, t("dotvote_answer_submit")),
    el("p", { class: "dv-status", id: "dv-answer-status", role: "status" }),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = area.value.trim();
    if (!text) return showNotice(t("err_invalid_answer"));
    answerDraft = area.value;
    answerStatus = t("dotvote_sending");
    notice = "";
    send("answer", { answer: text });
    update();
  });
  return form;
}

/** `below`: this phone's cards under the cut line (`me.minority.cards`), null when none are. */
function myOutcome(stickers, below, late) {
  const placed = total(stickers);
  const allBelow = below && Object.keys(stickers).every((card) => !(Number(stickers[card]) > 0) || below.includes(card));
  let text;
  if (!placed) text = late ? t("dotvote_you_none_late") : t("dotvote_you_none");
  else if (allBelow) text = t("dotvote_you_all_below");
  else if (below) text = t("dotvote_you_some_below");
  else text = t("dotvote_you_all_chosen");
  return el("p", { class: ["dv-outcome", !below && placed && "is-good"], id: "dv-outcome" }, text);
}

function rankingList({ ranking, cut, tie, owners, phase, mine }, cards) {
  const rows = [];
  let lineDrawn = false;
  for (const row of ranking || []) {
    const card = cards.get(row.card_id);
    if (!card) continue;
    if (!row.prioritised && !lineDrawn) {
      lineDrawn = true;
      rows.push(el("li", { class: "dv-cutline", "aria-label": t("dotvote_cutline") }, el("span", null, t("dotvote_cutline"))));
    }
    const own = Number(mine[row.card_id]) || 0;
    const owner = owners ? owners[row.card_id] : "";
    rows.push(
      el(
        "li",
        { class: ["dv-rank-row", row.prioritised && "is-chosen"], dataset: { card: row.card_id } },
        el("span", { class: "dv-rank" }, String(row.rank)),
        el(
          "span",
          { class: "dv-rank-text" },
          el("strong", null, card.onderwerp),
          el("span", { class: "dv-card-meta" }, [card.domain, metaLine(card)].filter(Boolean).join(" · ")),
          own ? el("span", { class: "dv-rank-mine" }, el("span", { "aria-hidden": "true" }, t("dotvote_yours_n", { n: own })), el("span", { class: "visually-hidden" }, t("dotvote_yours_aria", { n: own }))) : null,
          phase === "summary" && row.prioritised ? el("span", { class: "dv-owner" }, owner ? t("dotvote_owner_is", { owner }) : t("dotvote_owner_none")) : null,
        ),
        el("span", { class: "dv-rank-count" }, el("span", { "aria-hidden": "true" }, String(row.stickers)), el("span", { class: "visually-hidden" }, stickersText(row.stickers))),
      ),
    );
  }
  return el(
    "section",
    { class: "dv-result" },
    el("h2", null, phase === "summary" ? t("dotvote_summary_title") : t("dotvote_result_title")),
    cut ? el("p", { class: "muted" }, cutText(cut), tie ? ` · ${t("dotvote_tie")}` : "") : null,
    el("ol", { class: "dv-ranking", id: "dv-ranking-list" }, rows),
  );
}
