// The doorgeefbokaal history of one team (/bokaal), with a CSV download; below it what the team's
// kring (its latest knowledge map) and stickers (the themes chosen, taken up or not) kept.

import { $, el, fmtNumber, lang, replace, t, trophyIcon } from "./render.js";

const form = $("#bokaal-form");
const input = $("#bokaal-team");
const out = $("#bokaal-result");

function formatDate(value) {
  if (!value) return "";
  // The bokaal keeps ISO dates; the kring and the stickers keep unix time (seconds).
  const date = new Date(typeof value === "number" && value < 1e12 ? value * 1000 : value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(lang() === "en" ? "en-GB" : "nl-NL", { dateStyle: "medium" }).format(date);
}

async function show(team) {
  const name = team.trim();
  if (!name) {
    replace(out, el("p", { class: "form-error", role: "alert" }, t("bokaal_team_empty")));
    return;
  }
  const url = new URL(location.href);
  url.searchParams.set("team", name);
  history.replaceState(null, "", url);
  replace(out, el("p", { class: "muted" }, t("loading")));
  let body;
  try {
    const res = await fetch(`/api/bokaal?team=${encodeURIComponent(name)}&lang=${lang()}`, { headers: { Accept: "application/json" } });
    body = await res.json();
    if (!res.ok) throw new Error(body.error || String(res.status));
  } catch (err) {
    replace(out, el("p", { class: "form-error", role: "alert" }, err.message || t("err_network")));
    return;
  }
  const history_ = [...(body.history || [])].sort((a, b) => String(b.date).localeCompare(String(a.date)));
  const csv = el(
    "a",
    { class: "btn btn-ghost btn-small", href: `/api/bokaal.csv?team=${encodeURIComponent(name)}`, download: "bokaal.csv" },
    t("bokaal_csv"),
  );
  if (!history_.length) {
    replace(out, el("p", null, t("bokaal_empty", { team: name })), teamHistory(name));
    return;
  }
  const holder = history_[0].winner;
  replace(
    out,
    el("h2", { id: "bokaal-history-title" }, t("bokaal_history_of", { team: body.team || name })),
    holder ? el("p", { class: "bokaal-holder" }, trophyIcon(), t("bokaal_holder", { name: holder })) : null,
    el(
      "div",
      // Wider than a phone: a focusable region, so the keyboard can scroll it too.
      { class: "table-wrap", role: "region", tabindex: "0", "aria-labelledby": "bokaal-history-title" },
      el(
        "table",
        { class: "bokaal-table" },
        el(
          "thead",
          null,
          el(
            "tr",
            null,
            ["bokaal_col_date", "bokaal_col_theme", "bokaal_col_winner", "bokaal_col_author", "bokaal_col_previous"].map((k) =>
              el("th", { scope: "col" }, t(k)),
            ),
          ),
        ),
        el(
          "tbody",
          null,
          history_.map((row) =>
            el(
              "tr",
              null,
              el("td", null, formatDate(row.date)),
              el("td", null, row.theme || row.title || ""),
              el("td", null, el("strong", null, row.winner || "")),
              el("td", null, row.author || ""),
              el("td", null, row.previous || "–"),
            ),
          ),
        ),
      ),
    ),
    el("p", null, csv),
    teamHistory(name),
  );
}

// ---------------------------------------------------------------- the team's other meetings

/** What the team's kring and stickers kept: the latest knowledge map and the themes chosen. */
function teamHistory(team) {
  const box = el("div", { id: "team-history", class: "team-history" });
  Promise.all(
    ["kring", "dotvote"].map((collection) =>
      fetch(`/api/history/${collection}?team=${encodeURIComponent(team)}`, { headers: { Accept: "application/json" } })
        .then((res) => (res.ok ? res.json() : { history: [] }))
        .then((body) => body.history || [])
        .catch(() => []),
    ),
  ).then(([kring, dotvote]) => replace(box, kringPart(kring), themesPart(dotvote)));
  return box;
}

function kringPart(records) {
  const latest = records[records.length - 1];
  const rows = latest ? (latest.domains || []).filter((d) => d.count > 0) : [];
  if (!rows.length) return null;
  return el(
    "section",
    { class: "card team-kring", id: "team-kring" },
    el("h2", null, t("team_kring_title")),
    el("p", { class: "muted" }, t("team_kring_latest", { date: formatDate(latest.date), n: records.length })),
    el(
      "ul",
      { class: "team-list" },
      rows.map((d) => el("li", null, el("strong", null, d.domain), ` · ${fmtNumber(d.average)} · ${t("kring_people_n", { n: d.count })}`)),
    ),
  );
}

function themesPart(records) {
  if (!records.length) return null;
  return el(
    "section",
    { class: "card team-themes", id: "team-themes" },
    el("h2", null, t("team_themes_title")),
    [...records].reverse().map((r) =>
      el(
        "div",
        { class: "team-meeting" },
        el("h3", null, `${formatDate(r.date)} · ${r.title || t("kind_dotvote")}`),
        (r.themes || []).length
          ? el(
              "ul",
              { class: "team-list" },
              r.themes.map((theme) =>
                el(
                  "li",
                  { class: theme.taken_up ? "is-taken" : null },
                  el("strong", null, theme.onderwerp),
                  ` · ${[theme.domain, theme.kwartaal].filter(Boolean).join(" · ")}`,
                  theme.owner ? ` · ${t("dotvote_owner_is", { owner: theme.owner })}` : "",
                  " · ",
                  el("span", { class: "team-taken" }, theme.taken_up ? t("team_taken_up") : t("team_not_taken_up")),
                ),
              ),
            )
          : el("p", { class: "muted" }, t("dotvote_nothing_chosen")),
      ),
    ),
  );
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  show(input.value);
});

const initial = new URL(location.href).searchParams.get("team");
if (initial) {
  input.value = initial;
  show(initial);
}
