// The doorgeefbokaal history of one team (/bokaal), with a CSV download.

import { $, el, lang, replace, t, trophyIcon } from "./render.js";

const form = $("#bokaal-form");
const input = $("#bokaal-team");
const out = $("#bokaal-result");

function formatDate(value) {
  if (!value) return "";
  const date = new Date(value);
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
    replace(out, el("p", null, t("bokaal_empty", { team: name })));
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
