// Zes stickers prioriteren on the projector: the wall of cards (with the kring's map of the team
// beside it), during voting how many have placed all their stickers (totals only when the
// facilitator switches them on), then the ranking with the cut line, the minority's answers when
// the facilitator shows them, and the summary with who takes each theme up.
//
// A werkvorm renderer for screen.js: render(ctx) draws ctx.view into ctx.root.

import { el, fmtNumber, replace, t } from "../render.js";
import { byDomain, cardIndex, cutText, forgetKring, kringMap, latestKring, metaLine, stickersText } from "./dotvote-cards.js";

const WALL_MAX = 20; // cards on one screen at the 36 px floor; more get "en nog N kaarten"
const RANKING_MAX = 16;
const KRING_BESIDE_MAX = 12;
// While the wall is short the join call (QR, address, code) stands beside it; fewer cards when the
// kring's map takes a column too.
const JOIN_BESIDE_MAX = 6;
const JOIN_WITH_KRING_MAX = 4;

let renderedKey = null;
let kring = null; // the latest kring map of the room's team (fetched once)
let kringTeam = null;
let last = null; // the latest ctx: a late kring answer draws the latest view, not its own

export function reset() {
  renderedKey = null;
  last = null;
  kring = null;
  kringTeam = null;
  forgetKring(); // a kring revealed since then is the newer map
}

export function render(ctx) {
  last = ctx;
  const { view } = ctx;
  const team = (view.room || {}).team || "";
  if (view.phase === "cards" && team !== kringTeam) {
    kringTeam = team;
    kring = null;
    latestKring(team).then((record) => {
      if (kringTeam !== team) return;
      kring = record;
      renderedKey = null;
      if (last) draw(last);
    });
  }
  draw(ctx);
}

function draw(ctx) {
  const { view } = ctx;
  const key = JSON.stringify([view, Boolean(kring)]);
  if (key === renderedKey) return;
  renderedKey = key;
  let body;
  const count = (view.cards || []).length;
  // The kring's map takes a column: beside a full wall the cards would fall below 36 px.
  const map = view.phase === "cards" && count <= KRING_BESIDE_MAX ? kringMap(kring) : null;
  const join = view.phase === "cards" && count <= (map ? JOIN_WITH_KRING_MAX : JOIN_BESIDE_MAX);
  if (view.phase === "cards") body = cardsPhase(view, map, join ? ctx.joinPanel() : null);
  else if (view.phase === "voting") body = voting(view);
  else if (view.phase === "summary") body = summary(view);
  else body = result(view);
  const title = el("div", { class: "screen-title" }, el("strong", null, view.title || t("kind_dotvote")));
  replace(ctx.root, ctx.topBar(title, !join), body);
  fit(ctx.root);
  fitAnswers(ctx.root);
}

// ---------------------------------------------------------------- fitting the screen

function overflowing(box) {
  return Boolean(box) && box.scrollHeight > box.clientHeight + 1;
}

/** Texts wrap where there is room; what does not fit on the 1080 px screen is drawn tighter, step
 * by step (measured once the view is in the page), and a list that still does not fit ends with
 * "en nog N kaarten" instead of running off the screen unseen. */
function fit(root) {
  for (const tile of root.querySelectorAll(".dv-tile")) {
    if (overflowing(tile)) tile.classList.add("is-tight");
  }
  const box = root.querySelector(".dv-ranking-box");
  if (!box) return;
  const list = box.querySelector("#dv-ranking");
  const steps = list && list.dataset.fit ? list.dataset.fit.split(" ") : [];
  const others = othersFitter(box);
  // The "Niet gekozen" list gives way before the chosen themes lose their last step's details.
  for (const [i, step] of steps.entries()) {
    if (i === steps.length - 1 && others) others.shrink();
    if (!overflowing(box)) break;
    list.classList.add(step);
  }
  if (others) {
    others.shrink();
    others.grow();
  }
}

/** The minority's answers: those that do not fit the panel give way from the end, counted in
 * "en nog N antwoorden" (with those the server did not send), never cut off unseen. */
function fitAnswers(root) {
  const panel = root.querySelector("#dv-answers");
  if (!panel) return;
  const items = [...panel.querySelectorAll(".dv-answer-list li")];
  let more = panel.querySelector(".dv-more");
  let hidden = 0;
  while (overflowing(panel) && items.length > 1) {
    const item = items.pop();
    item.remove();
    hidden += Number(item.dataset.count || 1); // a row of the same answer from several people
    if (!more) {
      more = el("p", { class: "dv-more" });
      panel.append(more);
    }
    more.textContent = t("dotvote_more_answers", { n: hidden + Number(panel.dataset.more || 0) });
  }
}

/** The summary's "Niet gekozen: …" line: cards taken off its end (then "en nog N kaarten") while
 * the box overflows, and put back while there is room. */
function othersFitter(box) {
  const line = box.querySelector("#dv-others");
  if (!line) return null;
  const shown = [...line.querySelectorAll(".dv-other")];
  const hidden = [];
  const more = line.querySelector(".dv-others-more");
  const label = () => {
    const n = hidden.length;
    more.textContent = !n ? "" : shown.length ? ` · ${t("dotvote_more_cards", { n })}` : t("dotvote_more_cards", { n });
  };
  const hideLast = () => {
    const node = shown.pop();
    node.remove();
    hidden.unshift(node);
    label();
  };
  return {
    shrink() {
      while (overflowing(box) && shown.length) hideLast();
    },
    grow() {
      while (hidden.length && !overflowing(box)) {
        const node = hidden.shift();
        more.before(node);
        shown.push(node);
        label();
        if (overflowing(box)) {
          hideLast();
          break;
        }
      }
    },
  };
}

function columns(n) {
  if (n <= 4) return 2;
  if (n <= 9) return 3;
  if (n <= 16) return 4;
  return 5;
}

/** The wall: a tile per card (onderwerp, domain, doelgroep · kwartaal · leervorm), `count` on it. */
function wall(view, { totals = null, narrow = false } = {}) {
  const cards = byDomain(view.cards, view.domains);
  const shown = cards.slice(0, WALL_MAX);
  const cols = Math.max(1, columns(shown.length) - (narrow && shown.length > 4 ? 1 : 0));
  const rows = Math.max(1, Math.ceil(shown.length / cols));
  // Four rows leave a tile five lines at 36 px: the domain then shares the second line.
  const dense = rows >= 4;
  return [
    el(
      "ul",
      { class: ["dv-wall", dense && "is-dense"], id: "dv-wall", style: { "--cols": String(cols), "--rows": String(rows) } },
      shown.map((card) => {
        const meta = metaLine(card);
        const count = totals ? Number(totals[card.id]) || 0 : null;
        return el(
          "li",
          { class: "dv-tile", dataset: { card: card.id } },
          el("p", { class: "dv-tile-onderwerp" }, card.onderwerp),
          dense ? null : el("p", { class: "dv-tile-domain" }, card.domain),
          dense ? el("p", { class: "dv-tile-meta" }, [card.domain, meta].filter(Boolean).join(" · ")) : meta ? el("p", { class: "dv-tile-meta" }, meta) : null,
          count === null ? null : el("p", { class: "dv-tile-count", "aria-label": stickersText(count) }, String(count)),
        );
      }),
    ),
    cards.length > shown.length ? el("p", { class: "dv-more" }, t("dotvote_more_cards", { n: cards.length - shown.length })) : null,
  ];
}

/** The wall going up; while it is short, the join call beside it (the meeting may start here). */
function cardsPhase(view, map, joinPanel) {
  const count = (view.cards || []).length;
  const players = Number((view.room || {}).players) || 0;
  const wallPart = [
    el(
      "div",
      { class: "dv-screen-head" },
      el("h1", null, count ? t("dotvote_screen_wall", { n: count }) : t("dotvote_screen_wall_empty")),
      joinPanel ? el("p", { class: "dv-screen-sub dv-joined", id: "dv-joined", "aria-live": "polite" }, t("players_n", { n: players })) : null,
      view.proposals_open
        ? el("p", { class: "dv-screen-sub", id: "dv-proposed" }, t("dotvote_screen_propose"), view.proposed ? ` · ${t("dotvote_proposed_n", { n: view.proposed })}` : "")
        : null,
    ),
    el("div", { class: "dv-screen-body" }, el("div", { class: "dv-wall-box" }, wall(view, { narrow: Boolean(map) || Boolean(joinPanel) })), map),
  ];
  if (!joinPanel) return el("main", { class: ["dv-screen", "dv-screen-cards", map && "with-kring"] }, wallPart);
  return el(
    "main",
    { class: ["dv-screen", "dv-screen-cards", "with-join", map && "with-kring"] },
    joinPanel,
    el("div", { class: "dv-screen-wallside" }, wallPart),
  );
}

function voting(view) {
  const totals = view.show_totals && view.totals ? view.totals : null;
  return el(
    "main",
    { class: "dv-screen dv-screen-voting" },
    el(
      "div",
      { class: "dv-screen-head" },
      el("h1", { class: "dv-progress", id: "dv-progress", "aria-live": "polite" }, t("dotvote_done_x_of_n", { x: view.done || 0, n: view.of || 0 })),
      el("p", { class: "dv-screen-sub" }, totals ? t("dotvote_screen_totals_on", { n: fmtNumber(view.placed || 0) }) : t("dotvote_screen_vote", { n: view.stickers || 6 })),
      view.cap ? el("p", { class: "dv-screen-sub dv-cap", id: "dv-cap" }, t("dotvote_cap_n", { n: view.cap })) : null,
    ),
    el("div", { class: "dv-wall-box" }, wall(view, { totals })),
  );
}

function result(view) {
  const cards = cardIndex(view.cards);
  const ranking = (view.ranking || []).filter((row) => cards.has(row.card_id));
  const shown = ranking.slice(0, RANKING_MAX);
  const max = Math.max(1, ...ranking.map((r) => r.stickers));
  const rows = [];
  let lineDrawn = false;
  for (const row of shown) {
    const card = cards.get(row.card_id);
    if (!row.prioritised && !lineDrawn) {
      lineDrawn = true;
      rows.push(el("li", { class: "dv-cutline", id: "dv-cutline" }, el("span", null, t("dotvote_cutline"))));
    }
    rows.push(
      el(
        "li",
        { class: ["dv-rank-row", row.prioritised && "is-chosen"], dataset: { card: row.card_id } },
        el("span", { class: "dv-rank" }, String(row.rank)),
        el(
          "span",
          { class: "dv-rank-text" },
          el("span", { class: "dv-rank-onderwerp" }, card.onderwerp),
          el("span", { class: "dv-rank-meta" }, card.domain),
        ),
        el("span", { class: "dv-rank-bar", "aria-hidden": "true" }, el("span", { style: { "--share": String(row.stickers / max) } })),
        el("span", { class: "dv-rank-count", "aria-label": stickersText(row.stickers) }, String(row.stickers)),
      ),
    );
  }
  // The screen gets `answers` only while the facilitator shows them.
  const answers = view.answers ? answersPanel(view, cards) : null;
  const minority = view.minority || { count: 0, answered: 0 };
  return el(
    "main",
    { class: ["dv-screen", "dv-screen-result", answers && "with-answers"] },
    el(
      "div",
      { class: "dv-screen-head" },
      el("h1", null, view.phase === "summary" ? t("dotvote_summary_title") : t("dotvote_result_title")),
      el("p", { class: "dv-screen-sub", id: "dv-cut" }, cutText(view.cut), view.tie ? ` · ${t("dotvote_tie")}` : ""),
    ),
    el(
      "div",
      { class: "dv-screen-body" },
      el(
        "div",
        { class: "dv-ranking-box" },
        // A short ranking uses the room it has: bigger rows, read from further back.
        // Too long a list for the screen drops the bigger rows, then lets each row take one line.
        el("ol", { class: ["dv-ranking", shown.length <= 8 && !answers && "is-roomy"], id: "dv-ranking", dataset: { fit: "is-compact is-single" } }, rows),
        ranking.length > shown.length ? el("p", { class: "dv-more" }, t("dotvote_more_cards", { n: ranking.length - shown.length })) : null,
      ),
      answers,
    ),
    answers
      ? null
      : el(
          "p",
          { class: "dv-minority-line", id: "dv-minority-line" },
          minority.count ? t("dotvote_screen_minority", { n: minority.count, answered: minority.answered || 0 }) : t("dotvote_screen_no_minority"),
        ),
  );
}

/** The chosen themes, each whole: domain, doelgroep · kwartaal · leervorm, stickers, who takes it up. */
function summary(view) {
  const cards = cardIndex(view.cards);
  const ranking = (view.ranking || []).filter((row) => cards.has(row.card_id));
  const chosen = ranking.filter((row) => row.prioritised);
  const others = ranking.filter((row) => !row.prioritised);
  const answers = view.answers ? answersPanel(view, cards) : null;
  const owners = view.owners || {};
  return el(
    "main",
    { class: ["dv-screen", "dv-screen-summary", answers && "with-answers"] },
    el(
      "div",
      { class: "dv-screen-head" },
      el("h1", null, t("dotvote_summary_title")),
      el("p", { class: "dv-screen-sub", id: "dv-cut" }, cutText(view.cut), view.tie ? ` · ${t("dotvote_tie")}` : ""),
    ),
    el(
      "div",
      { class: "dv-screen-body" },
      el(
        "div",
        { class: "dv-ranking-box" },
        el(
          "ol",
          // Many themes: meta and owner share a line, then the meta gives way (measured in fit()).
          { class: ["dv-themes", chosen.length > 3 && "is-compact"], id: "dv-ranking", dataset: { fit: "is-compact is-tight" } },
          chosen.map((row) => {
            const card = cards.get(row.card_id);
            const owner = owners[row.card_id];
            return el(
              "li",
              { class: "dv-theme", dataset: { card: row.card_id } },
              el("span", { class: "dv-rank" }, String(row.rank)),
              el(
                "div",
                { class: "dv-theme-text" },
                el("p", { class: "dv-theme-onderwerp" }, card.onderwerp),
                el("p", { class: "dv-theme-meta" }, el("span", { class: "dv-theme-domain" }, card.domain), metaLine(card) ? el("span", { class: "dv-theme-rest" }, ` · ${metaLine(card)}`) : null),
                el("p", { class: ["dv-theme-owner", !owner && "is-open"] }, owner ? t("dotvote_owner_is", { owner }) : t("dotvote_owner_none")),
              ),
              el("span", { class: "dv-rank-count", "aria-label": stickersText(row.stickers) }, String(row.stickers)),
            );
          }),
        ),
        others.length
          ? el(
              "p",
              { class: "dv-others", id: "dv-others" },
              el("strong", null, t("dotvote_not_chosen")),
              " ",
              others.map((row, i) => el("span", { class: "dv-other" }, `${i ? " · " : ""}${cards.get(row.card_id).onderwerp} (${row.stickers})`)),
              el("span", { class: "dv-others-more" }),
            )
          : null,
      ),
      answers,
    ),
  );
}

function answersPanel(view, cards) {
  const list = view.answers || [];
  return el(
    "section",
    { class: "dv-answers", id: "dv-answers", dataset: { more: view.more_answers || 0 } },
    el("h2", null, t("dotvote_minority_question")),
    list.length
      ? el(
          "ul",
          { class: "dv-answer-list" },
          list.map((a) =>
            el(
              "li",
              { dataset: { count: a.count || 1 } },
              el("p", { class: "dv-answer-text" }, `“${a.text}”`, a.count > 1 ? el("span", { class: "dv-answer-count" }, ` ${t("dotvote_answer_times", { n: a.count })}`) : null),
              el(
                "p",
                { class: "dv-answer-cards" },
                [a.name, (a.cards || []).map((id) => (cards.get(id) || {}).onderwerp).filter(Boolean).join(", ")].filter(Boolean).join(" · "),
              ),
            ),
          ),
        )
      : el("p", { class: "dv-answer-none" }, t("dotvote_no_answers")),
    view.more_answers ? el("p", { class: "dv-more" }, t("dotvote_more_answers", { n: view.more_answers })) : null,
  );
}
