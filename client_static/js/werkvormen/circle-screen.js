// Binnen- en buitenkring on the projector: how many have given a grade (never the grades), the
// pairs per place and the turning, then per domain count, average, distribution and 7–8–9.
//
// A werkvorm renderer for screen.js: render(ctx) draws ctx.view into ctx.root.

import { el, fmtNumber, replace, t } from "../render.js";
import { lastChange } from "./circle-words.js";

const GRADES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

let renderedKey = null;
let drawn = null; // the ctx drawn last, for a redraw when the window is resized

export function reset() {
  renderedKey = null;
  drawn = null; // another werkvorm has the page: a resize must not draw this one over it
}

// The projector window may be resized (full screen on, another beamer): fit it again.
addEventListener("resize", () => {
  if (!drawn) return;
  renderedKey = null;
  render(drawn);
});

export function render(ctx) {
  const { view } = ctx;
  const key = JSON.stringify(view);
  if (key === renderedKey) return;
  renderedKey = key;
  drawn = ctx;
  let body;
  if (view.phase === "entry") body = entry(view, ctx);
  else if (view.phase === "rounds") body = rounds(view);
  else body = reveal(view);
  const title = el("div", { class: "screen-title" }, el("strong", null, view.title || t("kind_circle")));
  replace(ctx.root, ctx.topBar(title, view.phase !== "entry"), body);
  if (view.phase === "rounds") fitPairs(ctx.root);
  else if (view.phase !== "entry") fitMap(ctx.root);
}

/** A big team's pairs (long names, a trio) on one screen: while the list reaches below the
 * screen or over the prompts, its text steps down, to no less than 0.75 of its size. */
function fitPairs(root) {
  const list = root.querySelector("#kring-pairs");
  const prompts = root.querySelector(".kring-screen-prompts");
  if (!list) return;
  const over = () => {
    const bottom = prompts ? prompts.getBoundingClientRect().bottom : list.getBoundingClientRect().bottom;
    return bottom > innerHeight + 1 || list.scrollHeight > list.clientHeight + 1;
  };
  for (let scale = 0.95; over() && scale >= 0.75; scale -= 0.05) list.style.fontSize = `${scale}em`;
}

/** The team map on one screen: while the cards reach below it, the tallest card that still
 * names people (7–9; it sets its row's height) gives up its last name, counted in "en nog N"
 * (the overview and the export have everyone). */
function fitMap(root) {
  const grid = root.querySelector("#kring-domains");
  if (!grid) return;
  const all = [...grid.querySelectorAll(".kring-domain")];
  const cards = all.filter((card) => card.named);
  const main = grid.closest("main");
  const after = main ? [...main.querySelectorAll(":scope > .kring-empty, :scope > .kring-private")] : [];
  // A card reaches below the screen (or the page's clipped end), or into the lines below it.
  const over = () => {
    const bottom = Math.max(...all.map((card) => card.getBoundingClientRect().bottom));
    const limit = Math.min(innerHeight, main ? main.getBoundingClientRect().bottom : innerHeight);
    return bottom > limit + 1 || after.some((line) => line.getBoundingClientRect().top < bottom - 1);
  };
  const height = (card) => card.querySelector(".kring-domain-head").offsetHeight + card.querySelector(".kring-domain-foot").offsetHeight;
  const redraw = (card) => card.querySelector(".kring-named").replaceWith(namedList(card.named, card.keep));
  let trimmed = false;
  for (let guard = 0; over() && guard < 500; guard += 1) {
    const left = cards.filter((c) => c.keep > 0);
    if (!left.length) return;
    const card = left.reduce((tallest, c) => (height(c) > height(tallest) || (height(c) === height(tallest) && c.keep > tallest.keep) ? c : tallest));
    card.keep -= 1;
    redraw(card);
    trimmed = true;
  }
  // A name taken off one card may have freed the row of another: names go back while they fit.
  for (let grew = trimmed; grew; ) {
    grew = false;
    for (const card of cards) {
      if (card.keep >= card.total) continue;
      card.keep += 1;
      redraw(card);
      if (over()) {
        card.keep -= 1;
        redraw(card);
      } else grew = true;
    }
  }
}

/** The 7–8–9 names per grade ([{grade, names}]), the first `keep` of them, and how many more. */
function namedList(groups, keep) {
  const items = [];
  let left = keep;
  let cut = 0;
  for (const group of groups) {
    const names = group.names.slice(0, Math.max(0, left));
    left -= names.length;
    cut += group.names.length - names.length;
    if (names.length) items.push(el("li", null, el("strong", null, `${group.grade}: `), names.join(", ")));
  }
  if (cut) items.push(el("li", { class: "kring-named-more" }, t("kring_more_names", { n: cut })));
  return el("ul", { class: "kring-named" }, items);
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
  const cards = shown.map((d) => {
    const named = (d.named || []).filter((g) => g.names.length);
    const card = el(
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
        view.hide_names ? null : namedList(named, Infinity),
      ),
    );
    if (!view.hide_names && named.length) {
      card.named = named; // for fitMap
      card.total = named.reduce((n, g) => n + g.names.length, 0);
      card.keep = card.total;
    }
    return card;
  });
  // The domains nobody graded: in the last row's free cells when it has some, so that the
  // cards keep that line's height for the names (trial 8), else under the cards.
  const unused = empty.length && !everyone ? t("kring_empty_domains", { domains: empty.map((d) => d.domain).join(", ") }) : null;
  const free = shown.length % cols ? cols - (shown.length % cols) : 0;
  let body;
  if (everyone) body = overview(view);
  else if (shown.length) {
    const beside = unused && free ? el("li", { class: "kring-empty", style: { gridColumn: `span ${free}` } }, unused) : null;
    body = el("ul", { class: ["kring-domains", compact && "is-compact", dense && "is-dense"], id: "kring-domains", style: { "--cols": String(cols) } }, cards, beside);
  } else body = el("p", { class: "screen-wait" }, t("kring_no_grades"));
  return el(
    "main",
    { class: ["kring-screen-reveal", view.hide_names && "hide-names"], id: "kring-screen-reveal" },
    el("h1", null, everyone ? t("kring_overview_title") : t("kring_map_title")),
    body,
    unused && !(shown.length && free) ? el("p", { class: "kring-empty" }, unused) : null,
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
