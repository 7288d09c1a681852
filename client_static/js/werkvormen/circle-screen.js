// Binnen- en buitenkring on the projector: how many have given a grade (never the grades), the
// pairs per place and the turning, then per domain count, average, distribution and 7–8–9.
//
// A werkvorm renderer for screen.js: render(ctx) draws ctx.view into ctx.root.

import { el, fmtNumber, replace, t } from "../render.js";
import { lastChange } from "./circle-words.js";

const GRADES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

let renderedKey = null;

export function reset() {
  renderedKey = null;
}

export function render(ctx) {
  const { view } = ctx;
  const key = JSON.stringify(view);
  if (key === renderedKey) return;
  renderedKey = key;
  let body;
  if (view.phase === "entry") body = entry(view, ctx);
  else if (view.phase === "rounds") body = rounds(view);
  else body = reveal(view);
  const title = el("div", { class: "screen-title" }, el("strong", null, view.title || t("kind_circle")));
  replace(ctx.root, ctx.topBar(title, view.phase !== "entry"), body);
}

function entry(view, ctx) {
  return el(
    "main",
    { class: "screen-lobby kring-screen-entry" },
    ctx.joinPanel(),
    el(
      "section",
      { class: "players-panel" },
      el("h1", { class: "lobby-title" }, t("kring_screen_entry_title")),
      el("p", { class: "kring-screen-entered", id: "kring-entered", "aria-live": "polite" }, t("kring_entered_x_of_n", { x: view.entered || 0, n: view.of || 0 })),
      el("h2", { class: "kring-screen-sub" }, t("kring_screen_domains")),
      el("ul", { class: "kring-screen-domains" }, (view.domains || []).map((d) => el("li", null, d))),
    ),
  );
}

function rounds(view) {
  const shift = lastChange(view) || t("kring_screen_first_round");
  return el(
    "main",
    { class: "kring-screen-rounds" },
    el(
      "div",
      { class: "kring-screen-head" },
      el("h1", null, t("kring_round_n", { n: view.round || 1 })),
      el("p", { class: "kring-screen-shift", id: "kring-shift" }, shift),
    ),
    view.alone ? el("p", { class: "screen-wait" }, t("kring_alone")) : el("p", { class: "kring-legend" }, t("kring_screen_legend")),
    el(
      "ol",
      { class: "kring-pairs", id: "kring-pairs" },
      (view.pairs || []).map((pair) =>
        el(
          "li",
          { class: "kring-pair" },
          el("span", { class: "pair-place" }, String(pair.place)),
          el("span", { class: "pair-names" }, pair.names.join(" ↔ ")),
        ),
      ),
    ),
    view.more_pairs ? el("p", { class: "muted" }, t("kring_more_pairs", { n: view.more_pairs })) : null,
    el("p", { class: "kring-screen-prompts" }, (view.prompt || []).map((key) => t(key)).join("  ·  ")),
  );
}

function distribution(counts) {
  const max = Math.max(1, ...counts);
  return el(
    "div",
    { class: "kring-dist", role: "img", "aria-label": GRADES.map((g, i) => `${g}: ${counts[i] || 0}`).join(", ") },
    GRADES.map((g, i) =>
      el(
        "div",
        { class: "dist-col", "aria-hidden": "true" },
        el("div", { class: "dist-track" }, el("div", { class: ["dist-bar", g >= 7 && g <= 9 && "is-named"], style: { "--share": String((counts[i] || 0) / max) } })),
        el("span", { class: "dist-grade" }, String(g)),
      ),
    ),
  );
}

/** Columns for `n` domain cards on one 1920×1080 screen: up to 9 in three columns (three rows
 * from 7 on, in the compact card); 10–12 (the most a kring has) in four rows of three, in the
 * dense card (screen.css): four columns left too little width for a domain's name and a grade
 * "10" at 40 px. */
function grid(n) {
  if (n <= 3) return { cols: Math.max(1, n), compact: false, dense: false };
  if (n === 4) return { cols: 2, compact: false, dense: false };
  if (n <= 6) return { cols: 3, compact: false, dense: false };
  if (n <= 9) return { cols: 3, compact: true, dense: false };
  return { cols: 3, compact: true, dense: true };
}

function reveal(view) {
  const shown = (view.domains || []).filter((d) => d.count > 0);
  const empty = (view.domains || []).filter((d) => d.count === 0);
  // Everyone's grade is the facilitator's opt-in; it takes the stage instead of the cards.
  const everyone = !view.hide_names && view.show_overview && (view.overview || []).length > 0;
  const { cols, compact, dense } = grid(shown.length);
  const cards = shown.map((d) =>
    el(
      "li",
      { class: "kring-domain" },
      el(
        "div",
        { class: "kring-domain-head" },
        el("h2", { class: "kring-domain-name" }, d.domain),
        el("p", { class: "kring-domain-average" }, fmtNumber(d.average)),
      ),
      distribution(d.distribution || []),
      el(
        "div",
        { class: "kring-domain-foot" },
        el("p", { class: "kring-domain-count" }, t("kring_people_n", { n: d.count })),
        view.hide_names
          ? null
          : el(
              "ul",
              { class: "kring-named" },
              (d.named || [])
                .filter((g) => g.names.length)
                .map((g) => el("li", null, el("strong", null, `${g.grade}: `), g.names.join(", "))),
            ),
      ),
    ),
  );
  let body;
  if (everyone) body = overview(view);
  else if (shown.length) {
    body = el("ul", { class: ["kring-domains", compact && "is-compact", dense && "is-dense"], id: "kring-domains", style: { "--cols": String(cols) } }, cards);
  } else body = el("p", { class: "screen-wait" }, t("kring_no_grades"));
  return el(
    "main",
    { class: ["kring-screen-reveal", view.hide_names && "hide-names"], id: "kring-screen-reveal" },
    el("h1", null, everyone ? t("kring_overview_title") : t("kring_map_title")),
    body,
    empty.length && !everyone ? el("p", { class: "kring-empty" }, t("kring_empty_domains", { domains: empty.map((d) => d.domain).join(", ") })) : null,
    view.hide_names ? el("p", { class: "kring-private" }, t("kring_names_hidden")) : null,
  );
}

/** Everyone's grade per domain (the facilitator's opt-in, never under privacy). */
function overview(view) {
  const rows = view.overview || [];
  const groups = [];
  for (const row of rows) {
    const last = groups[groups.length - 1];
    if (last && last.domain === row.domain) last.rows.push(row);
    else groups.push({ domain: row.domain, rows: [row] });
  }
  return el(
    "section",
    { class: "kring-overview", id: "kring-overview" },
    el(
      "ul",
      { class: "kring-overview-list" },
      groups.map((g) =>
        el(
          "li",
          null,
          el("strong", { class: "ov-domain" }, g.domain),
          el(
            "span",
            { class: "ov-people" },
            g.rows.map((r, i) => el("span", { class: "ov-person" }, i ? " · " : "", el("span", { class: "ov-name" }, r.name), " ", el("span", { class: "ov-grade" }, String(r.grade)))),
          ),
        ),
      ),
    ),
    view.more_overview ? el("p", { class: "muted" }, t("kring_more_people", { n: view.more_overview })) : null,
  );
}
