// Zes stickers prioriteren: what the phone, the projector and the facilitator show alike — a
// card's labels (doelgroep, kwartaal), its meta line, the ranking's tie marks, the kring's map.

import { el, fmtNumber, lang, t } from "../render.js";

/** "team" → "Team": the protocol sends codes, every page shows its own labels. */
export function doelgroepLabel(code) {
  if (!code) return "";
  const key = `dotvote_doelgroep_${code}`;
  const text = t(key);
  return text === key ? String(code) : text;
}

export function kwartaalLabel(code) {
  return code ? String(code) : "";
}

/** "Team · Q2 · training" (the parts that are filled in). */
export function metaLine(card) {
  return [doelgroepLabel(card.doelgroep), kwartaalLabel(card.kwartaal), card.leervorm || ""].filter(Boolean).join(" · ");
}

/** card id → card, for the ranking, the answers and `me`. */
export function cardIndex(cards) {
  const map = new Map();
  for (const card of cards || []) map.set(card.id, card);
  return map;
}

/** The cards in the order of the domains (as on the wall: per domain), wall order within. */
export function byDomain(cards, domains) {
  const order = new Map((domains || []).map((d, i) => [d, i]));
  return [...(cards || [])]
    .map((card, i) => ({ card, i }))
    .sort((a, b) => (order.get(a.card.domain) ?? 99) - (order.get(b.card.domain) ?? 99) || a.i - b.i)
    .map((x) => x.card);
}

/** "Top 3" / "Minimaal 4 stickers". */
export function cutText(cut) {
  if (!cut) return "";
  if (cut.top !== undefined && cut.top !== null) return t("dotvote_cut_top", { k: cut.top });
  if (cut.min !== undefined && cut.min !== null) return t("dotvote_cut_min", { n: cut.min });
  return "";
}

export function stickersText(n) {
  return t("dotvote_stickers_n", { n: fmtNumber(n) }); // "1 sticker": dotvote_stickers_n_one
}

export function formatDate(value) {
  if (!value) return "";
  const date = new Date(typeof value === "number" ? value * (value < 1e12 ? 1000 : 1) : value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "nl-NL", { dateStyle: "medium" }).format(date);
}

// ---------------------------------------------------------------- the kring's map of the team

const kringCache = new Map(); // team → Promise of the latest kring record (or null)

/** The latest kring map of `team` (GET /api/history/kring), fetched once per page and team. */
export function latestKring(team) {
  if (!team) return Promise.resolve(null);
  if (!kringCache.has(team)) {
    kringCache.set(
      team,
      fetch(`/api/history/kring?team=${encodeURIComponent(team)}`, { headers: { Accept: "application/json" } })
        .then((res) => (res.ok ? res.json() : null))
        .then((body) => {
          const list = (body && body.history) || [];
          return list.length ? list[list.length - 1] : null;
        })
        .catch(() => {
          kringCache.delete(team); // try again with a later view
          return null;
        }),
    );
  }
  return kringCache.get(team);
}

/** Forget what was fetched (a kring revealed later in the same room is the newer one). */
export function forgetKring() {
  kringCache.clear();
}

/** Per domain the kring's count and average, as a compact list ("inkomen 7,5 · 2 pers."). */
export function kringMap(record, { heading = "h2" } = {}) {
  if (!record) return null;
  const rows = (record.domains || []).filter((d) => d.count > 0);
  if (!rows.length) return null;
  return el(
    "section",
    { class: "dv-kring", id: "dotvote-kring" },
    el(heading, null, t("dotvote_kring_title")),
    el(
      "ul",
      { class: "dv-kring-list" },
      rows.map((d) =>
        el(
          "li",
          null,
          el("span", { class: "dk-domain" }, d.domain),
          el("span", { class: "dk-average" }, fmtNumber(d.average)),
          el("span", { class: "dk-count" }, t("kring_people_n", { n: d.count })),
        ),
      ),
    ),
  );
}
