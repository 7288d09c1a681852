// Zes stickers prioriteren on the facilitator's page: the phase buttons and switches (from `can`),
// a mirror of the projector with the live totals, and per phase the tools — cards (add, edit,
// merge, remove, import, the phones' proposals, stickers per person), the cut line, the minority's
// answers, "wie pakt het op", and the team's earlier choices.
//
// A werkvorm renderer for host.js: render(ctx) fills #werkvorm-controls, #mirror and
// #werkvorm-extra through ctx.section (rebuilt only when their data changed).

import { el, fmtNumber, lang, t } from "../render.js";
import { cardIndex, cutText, doelgroepLabel, formatDate, metaLine, stickersText } from "./dotvote-cards.js";
import { waitingLines } from "./host-lists.js";

/** Downloads beyond the shell's CSV/Excel/JSON: the scholingsplan in Markdown. */
export const exports = [{ query: "results.md", suffix: ".md", label: "host_export_md" }];

let ctx = null;
let editing = null; // the id of the card in the form, null: a new card
let pendingAdd = null; // {count}: a card was sent; the form empties once the wall has more
let ownerDrafts = {}; // card id → text typed and not saved yet
let history = null; // {team, records} of /api/history/dotvote
let importResult = null;
let shownItem = null; // the programme item drawn: a next round of stickers starts with empty tools

export function reset() {
  ctx = null;
  shownItem = null;
  editing = null;
  pendingAdd = null;
  ownerDrafts = {};
  history = null;
  importResult = null;
}

export function render(context) {
  ctx = context;
  const { view } = ctx;
  if (view.item !== shownItem) {
    if (shownItem !== null) {
      editing = null;
      pendingAdd = null;
      ownerDrafts = {};
      importResult = null;
    }
    shownItem = view.item;
  }
  const cards = view.cards || [];
  if (editing && !cards.some((c) => c.id === editing)) editing = null;
  ctx.section(
    "werkvorm-controls",
    {
      can: view.can || [],
      phase: view.phase,
      totals: Boolean(view.show_totals),
      answers: Boolean(view.show_answers),
      names: Boolean(view.show_names),
      open: Boolean(view.proposals_open),
    },
    controls,
  );
  ctx.section("mirror", { ...view, players: undefined, removed: undefined, room: undefined, v: undefined, can: undefined, programme: undefined }, mirror);
  ctx.section("werkvorm-extra", { phase: view.phase, item: view.item }, skeleton);
  const can = new Set(view.can || []);
  const forms = { domains: view.domains, leervormen: view.leervormen, kwartalen: view.kwartalen, doelgroepen: view.doelgroepen };
  if (view.phase === "cards" || view.phase === "voting") {
    const card = editing ? cards.find((c) => c.id === editing) : null;
    ctx.section("dv-h-cardform", { ...forms, card, add: can.has("add_card"), edit: can.has("edit_card") }, cardForm);
    // Without the live totals (they are in the mirror): the table's buttons stay put while stickers move.
    ctx.section("dv-h-cards", { cards, can: [...can] }, cardTable);
  }
  if (view.phase === "cards") {
    ctx.section("dv-h-proposals", { list: view.proposals || [], more: view.more_proposals || 0, can: [...can] }, proposalsPanel);
    ctx.section("dv-h-settings", { stickers: view.stickers, cap: view.cap, can: can.has("settings") }, settingsForm);
    ctx.section("dv-h-import", { item: view.item, result: importResult }, importForm);
  }
  if (view.phase === "result") {
    const best = Math.max(0, ...(view.ranking || []).map((row) => row.stickers || 0));
    ctx.section("dv-h-cut", { cut: view.cut, tie: view.tie, can: can.has("cut"), cards: cards.length, best }, cutForm);
  }
  if (view.phase === "summary") {
    ctx.section("dv-h-owners", { ranking: view.ranking, cards, owners: view.owners || {}, drafts: ownerDrafts, can: can.has("owner") }, ownersForm);
  }
  if (view.phase === "cards" || view.phase === "summary") {
    const team = (view.room || {}).team || "";
    // The summary (and every owner saved) rewrites this meeting's record: fetch it again then.
    const key = JSON.stringify([team, view.phase, view.owners || null]);
    if (!history || history.key !== key) loadHistory(team, key);
    const room = (view.room || {}).code || ctx.code;
    // This meeting's own record is not an earlier choice: it shows only from the next meeting on.
    const records = history.records === null ? null : history.records.filter((r) => !(String(r.room) === String(room) && Number(r.item) === Number(view.item)));
    ctx.section("dv-h-history", { team, records }, historyPanel);
  }
  if (pendingAdd && cards.length > pendingAdd.count) {
    pendingAdd = null;
    const form = document.getElementById("dv-card-form");
    if (form) {
      // Every field starts again (kwartaal "nog open"): the next card is not planned by accident.
      for (const id of ["dv-c-domain", "dv-c-onderwerp", "dv-c-doelgroep", "dv-c-kwartaal", "dv-c-leervorm"]) form.querySelector(`#${id}`).value = "";
      form.querySelector("#dv-c-onderwerp").focus({ preventScroll: true });
    }
  }
}

function rerender() {
  if (ctx) render(ctx);
}

/** A control from the tools below the mirror; says so when the previous one is still underway. */
function send(action, args) {
  const sent = ctx.send(action, args);
  if (sent === false) ctx.flash(t("dotvote_host_busy"));
  return sent !== false;
}

function button(label, cls, onclick, extra = {}) {
  return el("button", { type: "button", class: ["btn", cls], onclick, ...extra }, label);
}

// ---------------------------------------------------------------- controls

const STEPS = [
  ["open_voting", "btn-primary"],
  ["close_voting", "btn-primary"],
  ["summary", "btn-primary"],
  ["reopen_voting", "btn-ghost"],
  ["back", "btn-ghost"],
];

/** A phase step; opening the voting first asks about proposals still waiting (they do not go up),
 * closing it about people who have stickers left in hand (they cannot place them after). */
function step(action) {
  const view = ctx.view;
  const waiting = Number(view.proposed) || 0;
  if (action === "open_voting" && waiting && !confirm(t("dotvote_open_voting_confirm", { n: waiting }))) return;
  const missing = Math.max(0, (Number(view.of) || 0) - (Number(view.done) || 0));
  if (action === "close_voting" && missing && !confirm(t("dotvote_close_voting_confirm", { n: missing, of: view.of }))) return;
  ctx.send(action);
}

function controls({ can, phase, totals, answers, names, open }) {
  const allowed = new Set(can);
  // Switches that mean nothing in this phase stay out of the way (totals are public after voting).
  const voting = phase === "cards" || phase === "voting";
  if (!voting) allowed.delete("show_totals");
  if (voting) allowed.delete("show_names");
  const out = [];
  for (const [action, cls] of STEPS) {
    if (allowed.has(action)) out.push(button(t(`dotvote_action_${action}`), cls, () => step(action), { dataset: { action } }));
  }
  // A switch whose words say what pressing it does next ("Voorstellen sluiten"): no pressed
  // state beside them, which a screen reader would read as the opposite.
  const toggle = (action, on, labelOn, labelOff, args) => button(on ? labelOn : labelOff, "btn-ghost", () => ctx.send(action, args(!on)), { dataset: { action } });
  if (allowed.has("proposals")) out.push(toggle("proposals", open, t("dotvote_action_close_proposals"), t("dotvote_action_open_proposals"), (v) => ({ open: v })));
  if (allowed.has("show_totals")) out.push(toggle("show_totals", totals, t("dotvote_action_hide_totals"), t("dotvote_action_show_totals"), (v) => ({ show: v })));
  if (allowed.has("show_answers")) out.push(toggle("show_answers", answers, t("dotvote_action_hide_answers"), t("dotvote_action_show_answers"), (v) => ({ show: v })));
  if (allowed.has("show_names")) out.push(toggle("show_names", names, t("dotvote_action_anonymous"), t("dotvote_action_show_names"), (v) => ({ show: v })));
  return out;
}

// ---------------------------------------------------------------- mirror

function mirror(view) {
  const parts = [
    el(
      "div",
      { class: "mirror-head" },
      el("span", { class: "phase-badge" }, t(`dotvote_phase_${view.phase}`)),
      el("span", { class: "muted" }, view.title || t("kind_dotvote")),
    ),
    el(
      "p",
      { class: "muted", id: "dv-host-settings" },
      t("dotvote_host_settings", { n: view.stickers || 6 }),
      view.cap ? ` · ${t("dotvote_host_cap", { n: view.cap })}` : ` · ${t("dotvote_host_no_cap")}`,
    ),
  ];
  const cards = view.cards || [];
  if (view.phase === "cards") {
    parts.push(
      el("p", { class: "big-number", id: "dv-host-cards" }, t("dotvote_wall_n", { n: cards.length })),
      el("p", { class: "muted" }, view.proposals_open ? t("dotvote_host_proposals_open", { n: view.proposed || 0 }) : t("dotvote_host_proposals_closed")),
    );
  } else if (view.phase === "voting") {
    parts.push(
      el("p", { class: "big-number", id: "dv-host-done" }, t("dotvote_done_x_of_n", { x: view.done || 0, n: view.of || 0 })),
      el("p", { class: "muted", id: "dv-host-placed" }, t("dotvote_host_placed", { n: view.voters || 0, placed: fmtNumber(view.placed || 0) })),
      inHand(view),
      el("p", { class: "muted" }, view.show_totals ? t("dotvote_host_totals_shown") : t("dotvote_host_totals_hidden")),
      liveTotals(cards, view.totals || {}),
    );
  } else {
    parts.push(rankingTable(view), minorityPanel(view));
  }
  return parts;
}

/** Whom to wait for: who still has stickers in hand and how many (never where the others went);
 * the server lists the connected ones first, most left first, then the offline ones. */
function inHand(view) {
  const hands = view.hands || [];
  if (!hands.length) return (view.of || 0) > 0 ? el("p", { class: "dv-host-hands is-done", id: "dv-host-hands" }, t("dotvote_host_hands_none")) : null;
  return waitingLines({
    people: hands,
    more: Number(view.more_hands) || 0,
    id: "dv-host-hands",
    cls: "dv-host-hands",
    labels: [t("dotvote_host_hands"), t("dotvote_host_hands_offline")],
    show: (h) => el("span", { class: "dv-hand" }, t("dotvote_host_hand", { name: h.name, n: h.left })),
    moreText: (n) => t("dotvote_host_hands_more", { n }),
  });
}

function liveTotals(cards, totals) {
  const sorted = [...cards].sort((a, b) => (Number(totals[b.id]) || 0) - (Number(totals[a.id]) || 0));
  return el(
    "ol",
    { class: "dv-host-totals", id: "dv-host-totals" },
    sorted.map((card) => el("li", { dataset: { card: card.id } }, el("span", { class: "dv-host-count" }, String(Number(totals[card.id]) || 0)), " ", card.onderwerp)),
  );
}

function rankingTable(view) {
  const cards = cardIndex(view.cards);
  const rows = [];
  let lineDrawn = false;
  for (const row of view.ranking || []) {
    const card = cards.get(row.card_id);
    if (!card) continue;
    if (!row.prioritised && !lineDrawn) {
      lineDrawn = true;
      rows.push(el("tr", { class: "dv-cutline-row" }, el("td", { colspan: "5" }, t("dotvote_cutline"))));
    }
    rows.push(
      el(
        "tr",
        { class: ["dv-host-rank", row.prioritised && "is-chosen"], dataset: { card: row.card_id } },
        el("td", null, String(row.rank)),
        el("th", { scope: "row" }, card.onderwerp),
        el("td", null, [card.domain, metaLine(card)].filter(Boolean).join(" · ")),
        el("td", { class: "num" }, String(row.stickers)),
        el("td", { class: "num" }, String(row.voters ?? "")),
      ),
    );
  }
  return [
    el("p", { id: "dv-host-cut" }, el("strong", null, cutText(view.cut)), view.tie ? ` · ${t("dotvote_tie")}` : ""),
    el(
      "table",
      { class: "dv-host-table", id: "dv-host-ranking" },
      el(
        "thead",
        null,
        el(
          "tr",
          null,
          el("th", { scope: "col" }, t("dotvote_col_rank")),
          el("th", { scope: "col" }, t("dotvote_col_onderwerp")),
          // the cell holds the domain and the card's other facts (metaLine)
          el("th", { scope: "col" }, `${t("dotvote_col_domain")} · ${t("dotvote_col_meta").toLowerCase()}`),
          el("th", { scope: "col" }, t("dotvote_col_stickers")),
          el("th", { scope: "col" }, t("dotvote_col_voters")),
        ),
      ),
      el("tbody", null, rows),
    ),
  ];
}

function minorityPanel(view) {
  const cards = cardIndex(view.cards);
  const minority = view.minority || { count: 0, answered: 0 };
  const answers = view.answers || [];
  return el(
    "section",
    { class: "dv-host-minority", id: "dv-host-minority" },
    el("h3", null, t("dotvote_minority_question")),
    el("p", { id: "dv-host-minority-count" }, minority.count ? t("dotvote_host_minority", { n: minority.count, answered: minority.answered || 0 }) : t("dotvote_screen_no_minority")),
    el("p", { class: "muted" }, view.show_names ? t("dotvote_host_names_on") : t("dotvote_host_anonymous"), " · ", view.show_answers ? t("dotvote_host_answers_on_screen") : t("dotvote_host_answers_not_on_screen")),
    answers.length
      ? el(
          "ul",
          { class: "dv-host-answers", id: "dv-host-answers" },
          answers.map((a) =>
            el(
              "li",
              null,
              el("p", { class: "dv-answer-text" }, `“${a.text}”`),
              el("p", { class: "muted" }, [a.name, (a.cards || []).map((id) => (cards.get(id) || {}).onderwerp).filter(Boolean).join(", ")].filter(Boolean).join(" · ")),
            ),
          ),
        )
      : null,
    view.more_answers ? el("p", { class: "muted" }, t("dotvote_more_answers", { n: view.more_answers })) : null,
  );
}

// ---------------------------------------------------------------- the tools per phase

function skeleton({ phase }) {
  const box = (id) => el("div", { class: "dv-host-box card", id });
  if (phase === "cards") return [box("dv-h-proposals"), box("dv-h-cardform"), box("dv-h-cards"), box("dv-h-import"), box("dv-h-settings"), box("dv-h-history")];
  if (phase === "voting") return [box("dv-h-cardform"), box("dv-h-cards")];
  if (phase === "result") return [box("dv-h-cut")];
  return [box("dv-h-owners"), box("dv-h-history")];
}

function options(list, label = (x) => x) {
  return (list || []).map((value) => el("option", { value }, label(value)));
}

function cardForm({ domains, leervormen, kwartalen, doelgroepen, card, add, edit }) {
  if (!(card ? edit : add)) return [];
  const value = card || { domain: "", kwartaal: "", doelgroep: "", onderwerp: "", leervorm: "" };
  const domain = el("select", { id: "dv-c-domain", required: true }, el("option", { value: "" }, t("dotvote_choose_domain")), options(domains));
  const doelgroep = el("select", { id: "dv-c-doelgroep" }, el("option", { value: "" }, "—"), options(doelgroepen || ["team", "kennisgroep", "individueel"], doelgroepLabel));
  const kwartaal = el("select", { id: "dv-c-kwartaal" }, el("option", { value: "" }, t("dotvote_kwartaal_none")), options(kwartalen || ["Q1", "Q2", "Q3", "Q4"]));
  const onderwerp = el("input", { id: "dv-c-onderwerp", type: "text", required: true, maxlength: "120", autocomplete: "off" });
  const leervorm = el("input", { id: "dv-c-leervorm", type: "text", maxlength: "60", list: "dv-c-leervormen", autocomplete: "off" });
  domain.value = value.domain;
  doelgroep.value = value.doelgroep || "";
  kwartaal.value = value.kwartaal || "";
  onderwerp.value = value.onderwerp;
  leervorm.value = value.leervorm || "";
  const field = (input, label) => el("div", { class: "field" }, el("label", { for: input.id }, label), input);
  const form = el(
    "form",
    { class: "dv-card-form", id: "dv-card-form", novalidate: true },
    el("h2", null, card ? t("dotvote_edit_card_title", { onderwerp: card.onderwerp }) : t("dotvote_add_card_title")),
    el(
      "div",
      { class: "dv-form-grid" },
      field(domain, t("dotvote_field_domain")),
      field(onderwerp, t("dotvote_field_onderwerp")),
      field(doelgroep, t("dotvote_field_doelgroep")),
      field(kwartaal, t("dotvote_field_kwartaal")),
      field(leervorm, t("dotvote_field_leervorm")),
    ),
    el("datalist", { id: "dv-c-leervormen" }, (leervormen || []).map((l) => el("option", { value: l }))),
    el(
      "div",
      { class: "dv-form-actions" },
      el("button", { type: "submit", class: "btn btn-secondary", id: "dv-card-save" }, card ? t("dotvote_save_card") : t("dotvote_add_card")),
      card
        ? button(t("dotvote_cancel"), "btn-ghost", () => {
            editing = null;
            rerender();
          })
        : null,
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = { domain: domain.value, kwartaal: kwartaal.value, doelgroep: doelgroep.value, onderwerp: onderwerp.value.trim(), leervorm: leervorm.value.trim() };
    if (!data.domain) return ctx.flash(t("dotvote_need_domain"));
    if (!data.onderwerp) return ctx.flash(t("dotvote_need_onderwerp"));
    if (card) {
      if (!send("edit_card", { card_id: card.id, card: data })) return;
      editing = null;
      rerender();
    } else if (send("add_card", { card: data })) {
      pendingAdd = { count: (ctx.view.cards || []).length };
    }
  });
  return form;
}

const ORIGINS = { content: "dotvote_origin_content", host: "dotvote_origin_host", phone: "dotvote_origin_phone", import: "dotvote_origin_import" };

function cardTable({ cards, can }) {
  const allowed = new Set(can);
  const head = [t("dotvote_col_onderwerp"), t("dotvote_col_domain"), t("dotvote_col_meta"), t("dotvote_col_origin"), t("dotvote_col_actions")];
  const rows = cards.map((card, i) =>
    el(
      "tr",
      { dataset: { card: card.id } },
      el("th", { scope: "row" }, `${i + 1}. ${card.onderwerp}`),
      el("td", null, card.domain),
      el("td", null, metaLine(card)),
      el("td", null, t(ORIGINS[card.origin] || "dotvote_origin_host")),
      el(
        "td",
        null,
        el(
          "div",
          { class: "dv-row-actions" },
          allowed.has("edit_card")
          ? button(t("dotvote_edit"), "btn-small btn-ghost", () => {
              editing = card.id;
              rerender();
              const form = document.getElementById("dv-card-form");
              if (form) form.scrollIntoView({ block: "nearest" });
            }, { "aria-label": t("dotvote_edit_aria", { onderwerp: card.onderwerp }), dataset: { edit: card.id } })
          : null,
        allowed.has("remove_card")
          ? button(t("dotvote_remove"), "btn-small btn-danger", () => {
              if (confirm(t("dotvote_remove_confirm", { onderwerp: card.onderwerp }))) send("remove_card", { card_id: card.id });
            }, { "aria-label": t("dotvote_remove_card_aria", { onderwerp: card.onderwerp }), dataset: { remove: card.id } })
          : null,
        ),
      ),
    ),
  );
  return [
    el("h2", null, t("dotvote_wall_n", { n: cards.length })),
    cards.length
      ? el(
          "div",
          { class: "table-scroll" },
          el("table", { class: "dv-host-table", id: "dv-host-cards" }, el("thead", null, el("tr", null, head.map((h) => el("th", { scope: "col" }, h)))), el("tbody", null, rows)),
        )
      : el("p", { class: "muted" }, t("dotvote_no_cards_yet")),
    allowed.has("merge_cards") && cards.length > 1 ? mergeForm(cards) : null,
  ];
}

function mergeForm(cards) {
  const label = (c) => `${c.onderwerp} (${c.domain})`;
  const from = el("select", { id: "dv-merge-from" }, cards.map((c) => el("option", { value: c.id }, label(c))));
  const into = el("select", { id: "dv-merge-into" }, cards.map((c) => el("option", { value: c.id }, label(c))));
  into.value = cards[1].id;
  const form = el(
    "form",
    { class: "dv-merge", id: "dv-merge" },
    el("h3", null, t("dotvote_merge_title")),
    el("div", { class: "field" }, el("label", { for: "dv-merge-from" }, t("dotvote_merge_from")), from),
    el("div", { class: "field" }, el("label", { for: "dv-merge-into" }, t("dotvote_merge_into")), into),
    el("button", { type: "submit", class: "btn btn-secondary" }, t("dotvote_merge")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (from.value === into.value) return ctx.flash(t("dotvote_merge_same"));
    send("merge_cards", { card_id: from.value, into: into.value });
  });
  return form;
}

function proposalsPanel({ list, more, can }) {
  const allowed = new Set(can);
  const accept = allowed.has("accept_proposals");
  return [
    el("h2", null, t("dotvote_proposals_title", { n: list.length + more })),
    list.length
      ? el(
          "ul",
          { class: "dv-proposals", id: "dv-proposals" },
          list.map((p) =>
            el(
              "li",
              { class: "dv-proposal", dataset: { key: p.key } },
              el("div", null, el("strong", null, p.onderwerp), el("span", { class: "muted" }, ` · ${[p.domain, metaLine(p)].filter(Boolean).join(" · ")} · ${t("dotvote_proposed_by", { name: p.name })}`)),
              el(
                "div",
                { class: "dv-row-actions" },
                accept ? button(t("dotvote_accept"), "btn-small btn-secondary", () => send("accept_proposals", { keys: [p.key] }), { "aria-label": t("dotvote_accept_aria", { onderwerp: p.onderwerp }) }) : null,
                allowed.has("dismiss_proposals")
                  ? button(t("dotvote_dismiss"), "btn-small btn-ghost", () => send("dismiss_proposals", { keys: [p.key] }), { "aria-label": t("dotvote_dismiss_aria", { onderwerp: p.onderwerp }) })
                  : null,
              ),
            ),
          ),
        )
      : el("p", { class: "muted" }, t("dotvote_no_proposals")),
    more ? el("p", { class: "muted" }, t("dotvote_more_proposals", { n: more })) : null,
    accept && list.length > 1 ? button(t("dotvote_accept_all"), "btn-secondary", () => send("accept_proposals", { keys: "all" }), { id: "dv-accept-all" }) : null,
  ];
}

function settingsForm({ stickers, cap, can }) {
  if (!can) return [];
  const n = el("input", { id: "dv-s-stickers", type: "number", min: "1", max: "12", value: String(stickers || 6), inputmode: "numeric" });
  const c = el("input", { id: "dv-s-cap", type: "number", min: "0", max: "12", value: String(cap || 0), inputmode: "numeric" });
  const form = el(
    "form",
    { class: "dv-settings", id: "dv-settings" },
    el("h2", null, t("dotvote_settings_title")),
    el("div", { class: "dv-form-grid" }, el("div", { class: "field" }, el("label", { for: "dv-s-stickers" }, t("dotvote_settings_stickers")), n), el("div", { class: "field" }, el("label", { for: "dv-s-cap" }, t("dotvote_settings_cap")), c)),
    el("p", { class: "hint" }, t("dotvote_settings_hint")),
    el("button", { type: "submit", class: "btn btn-secondary" }, t("dotvote_settings_save")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send("settings", { stickers: Number(n.value), cap: Number(c.value) });
  });
  return form;
}

/** A wrong field of an import's row: a wrong domain is named, with the domains that are
 * allowed; another wrong value is named after what the field takes. */
function importMessage(error) {
  if (error.code !== "invalid_domain" || typeof error.value !== "string") {
    return error.value ? t("dotvote_import_value", { message: error.message, value: error.value }) : error.message;
  }
  const domains = ((ctx && ctx.view.domains) || []).join(", ");
  return error.value ? t("dotvote_import_bad_domain", { value: error.value, domains }) : t("dotvote_import_no_domain", { domains });
}

function importForm({ item, result }) {
  const file = el("input", { id: "dv-import-file", type: "file", accept: ".json,.csv,application/json,text/csv" });
  const out = el(
    "div",
    { id: "dv-import-result", role: "status" },
    result ? el("p", { class: result.ok ? "dv-import-ok" : "form-error" }, result.message) : null,
    result && result.errors && result.errors.length
      ? el("ul", { class: "dv-import-errors" }, result.errors.map((e) => el("li", null, e.row ? t("dotvote_import_row", { row: e.row, message: importMessage(e) }) : importMessage(e))))
      : null,
  );
  const form = el(
    "form",
    { class: "dv-import", id: "dv-import" },
    el("h2", null, el("label", { for: "dv-import-file" }, t("dotvote_import_title"))),
    el("p", { class: "hint" }, t("dotvote_import_hint")),
    file,
    el("button", { type: "submit", class: "btn btn-secondary", id: "dv-import-submit" }, t("dotvote_import_submit")),
    out,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = file.files && file.files[0];
    if (!chosen) return ctx.flash(t("dotvote_import_choose"));
    const type = /\.csv$/i.test(chosen.name) || chosen.type === "text/csv" ? "text/csv" : "application/json";
    try {
      const res = await fetch(`/api/rooms/${ctx.code}/import?item=${item}&lang=${lang()}`, {
        method: "POST",
        headers: { "Content-Type": type, Accept: "application/json", "X-Host-Secret": ctx.secret },
        body: chosen,
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) importResult = { ok: false, message: body.error || t("err_generic"), errors: body.errors || [] };
      else importResult = { ok: true, message: t("dotvote_imported", { n: body.imported, total: body.cards }) };
    } catch {
      importResult = { ok: false, message: t("err_network"), errors: [] };
    }
    rerender();
  });
  return form;
}

function cutForm({ cut, tie, can, cards, best }) {
  if (!can) return [];
  const byTop = !cut || cut.top !== undefined;
  const top = el("input", { type: "radio", name: "dv-cut-kind", id: "dv-cut-top", value: "top", checked: byTop });
  const min = el("input", { type: "radio", name: "dv-cut-kind", id: "dv-cut-min", value: "min", checked: !byTop });
  const k = el("input", { id: "dv-cut-k", type: "number", min: "1", max: String(Math.max(1, cards)), value: String((cut && cut.top) || 3), inputmode: "numeric", "aria-label": t("dotvote_cut_top_label") });
  const n = el("input", { id: "dv-cut-n", type: "number", min: "1", max: "999", value: String((cut && cut.min) || 2), inputmode: "numeric", "aria-label": t("dotvote_cut_min_label") });
  const error = el("p", { class: "form-error", id: "dv-cut-error", role: "alert", hidden: true });
  const form = el(
    "form",
    { class: "dv-cut", id: "dv-cut-form", novalidate: true },
    el("h2", null, t("dotvote_cut_title")),
    el("p", { class: "muted" }, t("dotvote_cut_now", { cut: cutText(cut) }), tie ? ` · ${t("dotvote_tie")}` : ""),
    el(
      "fieldset",
      { class: "dv-cut-choice" },
      el("legend", null, t("dotvote_cut_legend")),
      el("div", { class: "dv-cut-line" }, top, el("label", { for: "dv-cut-top" }, t("dotvote_cut_by_top")), k),
      el("div", { class: "dv-cut-line" }, min, el("label", { for: "dv-cut-min" }, t("dotvote_cut_by_min")), n),
    ),
    error,
    el("button", { type: "submit", class: "btn btn-secondary", id: "dv-cut-save" }, t("dotvote_cut_save")),
  );
  k.addEventListener("focus", () => (top.checked = true));
  n.addEventListener("focus", () => (min.checked = true));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    // Said here, beside the button (trial 9: an empty field sent nothing visible, and a
    // minimum no card reaches chose nothing without a word).
    const byTopNow = top.checked;
    const value = Number((byTopNow ? k : n).value);
    const high = byTopNow ? Math.max(1, cards) : 999;
    if ((byTopNow ? k : n).value.trim() === "" || !Number.isInteger(value) || value < 1 || value > high) {
      error.textContent = t(byTopNow ? "dotvote_cut_top_invalid" : "dotvote_cut_min_invalid", { n: high });
      error.hidden = false;
      return;
    }
    error.hidden = true;
    if (!byTopNow && value > best && !confirm(t("dotvote_cut_min_none_confirm", { n: value, best }))) return;
    send("cut", byTopNow ? { top: value } : { min: value });
  });
  return form;
}

function ownersForm({ ranking, cards, owners, drafts, can }) {
  const index = cardIndex(cards);
  const chosen = (ranking || []).filter((row) => row.prioritised && index.has(row.card_id));
  return [
    el("h2", null, t("dotvote_owners_title")),
    el("p", { class: "hint" }, t("dotvote_owners_hint")),
    chosen.length
      ? el(
          "ul",
          { class: "dv-owners", id: "dv-owners" },
          chosen.map((row) => {
            const card = index.get(row.card_id);
            const id = `dv-owner-${row.card_id}`;
            // Named as the question it answers ("Wie pakt ‘Meldcode’ op?"), not by the card alone.
            const input = el("input", { id, type: "text", maxlength: "80", autocomplete: "off", disabled: !can, "aria-label": t("dotvote_owners_aria", { onderwerp: card.onderwerp }) });
            input.value = drafts[row.card_id] ?? owners[row.card_id] ?? "";
            input.addEventListener("input", () => {
              ownerDrafts[row.card_id] = input.value;
              const saved = input.parentElement && input.parentElement.querySelector(".dv-owner-saved");
              if (saved) saved.remove(); // typed again: not saved any more
            });
            const save = () => {
              if (send("owner", { card_id: row.card_id, owner: input.value.trim() })) delete ownerDrafts[row.card_id];
            };
            input.addEventListener("keydown", (event) => {
              if (event.key === "Enter") save();
            });
            return el(
              "li",
              { class: "dv-owner-row", dataset: { card: row.card_id } },
              el("label", { for: id }, el("strong", null, card.onderwerp), el("span", { class: "muted" }, ` · ${[card.domain, metaLine(card), stickersText(row.stickers)].filter(Boolean).join(" · ")}`)),
              el(
                "div",
                { class: "dv-owner-line" },
                input,
                // an id: the button keeps the focus when the section is rebuilt after the save
                can ? button(t("dotvote_owner_save"), "btn-small btn-secondary", save, { id: `dv-owner-save-${row.card_id}`, "aria-label": t("dotvote_owner_save_aria", { onderwerp: card.onderwerp }) }) : null,
                owners[row.card_id] && drafts[row.card_id] === undefined ? el("span", { class: "dv-owner-saved muted" }, t("dotvote_owner_saved")) : null,
              ),
            );
          }),
        )
      : el("p", { class: "muted" }, t("dotvote_nothing_chosen")),
  ];
}

// ---------------------------------------------------------------- the team's earlier choices

async function loadHistory(team, key) {
  const previous = history && history.team === team ? history.records : null;
  const mine = { team, key, records: previous }; // the old list stays on screen while fetching
  history = mine;
  if (!team) return;
  let records = previous || [];
  try {
    const res = await fetch(`/api/history/dotvote?team=${encodeURIComponent(team)}`, { headers: { Accept: "application/json" } });
    if (res.ok) records = (await res.json()).history || [];
  } catch {
    /* keep what was shown */
  }
  if (history !== mine) return; // a newer fetch is under way
  history = { team, key, records };
  rerender();
}

function historyPanel({ team, records: list }) {
  const title = el("h2", null, t("dotvote_history_title"));
  if (!team) return [title, el("p", { class: "muted" }, t("dotvote_history_no_team"))];
  if (list === null) return [title, el("p", { class: "muted" }, t("loading"))];
  const refresh = button(t("dotvote_history_refresh"), "btn-small btn-ghost", () => loadHistory(team, "refresh"));
  if (!list.length) return [title, el("p", { class: "muted" }, t("dotvote_history_empty", { team })), refresh];
  const records = [...list].reverse();
  return [
    title,
    el("p", { class: "muted" }, t("dotvote_history_lead", { team })),
    el(
      "ul",
      { class: "dv-history", id: "dv-history" },
      records.map((r) =>
        el(
          "li",
          { class: "dv-history-record" },
          el("h3", null, `${formatDate(r.date)} · ${r.title || t("kind_dotvote")}`),
          (r.themes || []).length
            ? el(
                "ul",
                { class: "dv-history-themes" },
                r.themes.map((theme) => historyTheme(r, theme)),
              )
            : el("p", { class: "muted" }, t("dotvote_nothing_chosen")),
        ),
      ),
    ),
    refresh,
  ];
}

function historyTheme(record, theme) {
  const id = `dv-taken-${record.room}-${record.item}-${theme.card_id}`;
  const box = el("input", { type: "checkbox", id, checked: Boolean(theme.taken_up), "aria-label": t("dotvote_history_taken_up_aria", { onderwerp: theme.onderwerp }) });
  box.addEventListener("change", async () => {
    box.disabled = true;
    try {
      const res = await fetch(`/api/rooms/${ctx.code}/history/dotvote?lang=${lang()}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-Host-Secret": ctx.secret },
        body: JSON.stringify({ room: record.room, item: record.item, card_id: theme.card_id, taken_up: box.checked }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(body.error || t("err_generic"));
      theme.taken_up = box.checked;
      ctx.flash(box.checked ? t("dotvote_history_marked") : t("dotvote_history_unmarked"));
    } catch (err) {
      box.checked = !box.checked;
      ctx.flash(err.message || t("err_generic"));
    } finally {
      box.disabled = false;
    }
  });
  const parts = [theme.domain, doelgroepLabel(theme.doelgroep), theme.kwartaal, theme.leervorm, stickersText(theme.stickers || 0)];
  return el(
    "li",
    { class: ["dv-history-theme", theme.taken_up && "is-taken"] },
    box,
    el("span", { class: "dv-taken-label", "aria-hidden": "true" }, t("dotvote_history_taken_up")),
    el(
      "label",
      { for: id },
      el("strong", null, theme.onderwerp),
      el("span", { class: "muted" }, ` · ${parts.filter(Boolean).join(" · ")}`),
      theme.owner ? el("span", null, ` · ${t("dotvote_owner_is", { owner: theme.owner })}`) : null,
    ),
  );
}
