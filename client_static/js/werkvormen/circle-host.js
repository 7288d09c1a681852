// Binnen- en buitenkring on the facilitator's page: a button for every action in `can`, the
// counts and pairs, the team map, and the domains (editable until the grades are locked).
//
// A werkvorm renderer for host.js: render(ctx) fills #werkvorm-controls, #mirror and
// #werkvorm-extra through ctx.section (rebuilt only when their data changed).

import { el, fmtNumber, t } from "../render.js";
import { lastChange } from "./circle-words.js";
import { waitingLines } from "./host-lists.js";

let ctx = null;

export function reset() {
  ctx = null;
}

export function render(context) {
  ctx = context;
  const { view } = ctx;
  ctx.section(
    "werkvorm-controls",
    { can: view.can || [], hide: Boolean(view.hide_names), overview: Boolean(view.show_overview), phase: view.phase },
    controls,
  );
  ctx.section("mirror", { ...view, players: undefined, removed: undefined, room: undefined, v: undefined, can: undefined, offline: offlineInPairs(view) }, mirror);
  ctx.section(
    "werkvorm-extra",
    { editable: Boolean(view.domains_editable), domains: view.phase === "entry" ? view.domains : null },
    domainsEditor,
  );
}

/** The ids in the listed pairs whose phone is not connected, from the shell's `players` (who is
 * online); a player the list does not reach (a room of more than 500) is not marked. */
function offlineInPairs(view) {
  if (view.phase !== "rounds") return [];
  const offline = new Set((view.players || []).filter((p) => p.online === false).map((p) => p.id));
  return (view.pairs || []).flatMap((pair) => (pair.ids || []).filter((id) => offline.has(id)));
}

/** A pair's names, each followed by "(niet verbonden)" when that phone is offline. */
function pairNames(pair, offline) {
  const ids = pair.ids || [];
  return pair.names.flatMap((name, i) => {
    const away = offline.has(ids[i]);
    return [
      i ? " ↔ " : null,
      el("span", { class: ["kring-host-name", away && "is-offline"] }, name),
      away ? el("span", { class: "muted kring-host-offline" }, ` (${t("host_offline")})`) : null,
    ];
  });
}

/** Whom to nudge before the lock: who has no grade yet (the connected ones, then the offline
 * ones), as the server lists them (60 at most, then how many more). */
function waiting(view) {
  return waitingLines({
    people: view.waiting || [],
    more: Number(view.more_waiting) || 0,
    id: "kring-host-waiting",
    cls: "kring-host-waiting",
    labels: [t("kring_host_waiting"), t("kring_host_waiting_offline")],
    show: (p) => p.name,
    moreText: (n) => t("kring_host_waiting_more", { n }),
  });
}

function button(label, cls, onclick, extra = {}) {
  return el("button", { type: "button", class: ["btn", cls], onclick, ...extra }, label);
}

/** Locking with no grade at all is most likely a slip, and with fewer than half of the people
 * graded most likely too early: ask first. `entered` is read when the button is pressed (the
 * section is not rebuilt for every new grade). */
function lock() {
  const entered = ctx && ctx.view ? ctx.view.entered || 0 : 0;
  const of = ctx && ctx.view ? ctx.view.of || 0 : 0;
  if (entered === 0 && !window.confirm(t("kring_lock_confirm_empty"))) return;
  if (entered > 0 && entered * 2 < of && !window.confirm(t("kring_host_lock_confirm_few", { n: entered, of }))) return;
  ctx.send("lock_grades");
}

/** How many valid grades a new list would make stale (their domain no longer listed), from the
 * view's count per domain when the button is pressed; and how many there are. */
function dropped(list) {
  const view = (ctx && ctx.view) || {};
  const counts = Array.isArray(view.entered_domains) ? view.entered_domains : [];
  const kept = new Set(list);
  let n = 0;
  (view.domains || []).forEach((domain, i) => {
    if (!kept.has(domain)) n += Number(counts[i]) || 0;
  });
  return { n, x: Number(view.entered) || 0 };
}

function controls({ can, hide, overview, phase }) {
  const allowed = new Set(can);
  const out = [];
  if (allowed.has("start")) out.push(button(t("kring_action_start"), "btn-primary", () => ctx.send("start"), { dataset: { action: "start" } }));
  if (allowed.has("lock_grades")) {
    out.push(button(t("kring_action_lock"), "btn-primary", lock, { dataset: { action: "lock_grades" } }));
  }
  if (allowed.has("rotate")) {
    out.push(
      button(t("kring_action_rotate_1"), "btn-primary", () => ctx.send("rotate", { places: 1 }), { dataset: { action: "rotate1" } }),
      button(t("kring_action_rotate_2"), "btn-secondary", () => ctx.send("rotate", { places: 2 }), { dataset: { action: "rotate2" } }),
    );
  }
  if (allowed.has("reveal")) out.push(button(t("kring_action_reveal"), "btn-secondary", () => ctx.send("reveal"), { dataset: { action: "reveal" } }));
  if (allowed.has("unlock_grades")) {
    out.push(button(t("kring_action_unlock"), "btn-ghost", () => ctx.send("unlock_grades"), { dataset: { action: "unlock_grades" } }));
  }
  if (allowed.has("privacy")) {
    out.push(
      button(hide ? t("kring_action_show_names") : t("kring_action_hide_names"), "btn-ghost", () => ctx.send("privacy", { hide_names: !hide }), {
        dataset: { action: "privacy" }, // its words say what it does next: no pressed state
      }),
    );
    // Everyone's grade on the projector (also the low ones): off unless the facilitator asks.
    if (phase === "reveal" && !hide) {
      out.push(
        button(overview ? t("kring_action_hide_overview") : t("kring_action_show_overview"), "btn-ghost", () => ctx.send("privacy", { overview: !overview }), {
          dataset: { action: "overview" },
        }),
      );
    }
  }
  return out;
}

function phaseBadge(view) {
  return el(
    "div",
    { class: "mirror-head" },
    el("span", { class: "phase-badge" }, t(`kring_phase_${view.phase}`)),
    el("span", { class: "muted" }, view.title || t("kind_circle")),
  );
}

function mirror(view) {
  const parts = [phaseBadge(view)];
  if (view.phase === "entry") {
    parts.push(
      el("p", { class: "big-number", id: "kring-host-entered" }, t("kring_entered_x_of_n", { x: view.entered || 0, n: view.of || 0 })),
      ...waiting(view),
      el("p", { class: "muted" }, t("kring_host_entry_hint")),
    );
  } else if (view.phase === "rounds") {
    parts.push(
      el("p", { id: "kring-host-round" }, t("kring_round_n", { n: view.round || 1 }), lastChange(view) ? ` · ${lastChange(view)}` : ""),
      el("p", { class: "muted", id: "kring-host-locked" }, t("kring_host_locked_n", { n: view.locked_entries || 0 }), view.can_change ? "" : ` · ${t("kring_host_cannot_change")}`),
      el(
        "ol",
        { class: "kring-host-pairs", id: "kring-host-pairs" },
        (view.pairs || []).map((p) => el("li", null, el("strong", null, `${p.place}. `), pairNames(p, new Set(view.offline || [])))),
      ),
      view.more_pairs ? el("p", { class: "muted" }, t("kring_more_pairs", { n: view.more_pairs })) : null,
    );
  } else {
    parts.push(
      el(
        "table",
        { class: "kring-host-table" },
        el(
          "thead",
          null,
          el("tr", null, el("th", { scope: "col" }, t("kring_col_domain")), el("th", { scope: "col" }, t("kring_col_count")), el("th", { scope: "col" }, t("kring_col_average")), el("th", { scope: "col" }, t("kring_col_named"))),
        ),
        el(
          "tbody",
          null,
          (view.domains || []).map((d) =>
            el(
              "tr",
              null,
              el("th", { scope: "row" }, d.domain),
              el("td", null, String(d.count)),
              el("td", null, d.count ? fmtNumber(d.average) : "–"),
              el(
                "td",
                null,
                (d.named || [])
                  .filter((g) => g.names.length)
                  .map((g) => `${g.grade}: ${g.names.join(", ")}`)
                  .join(" · "),
              ),
            ),
          ),
        ),
      ),
      view.hide_names ? el("p", { class: "muted" }, t("kring_names_hidden")) : null,
    );
  }
  return parts;
}

/** One domain per line; saved with `domains` while entry is open (before the grades lock). */
function domainsEditor({ editable, domains }) {
  if (!editable || !domains) return [];
  const area = el("textarea", { id: "kring-domains-edit", rows: String(Math.min(12, domains.length + 1)) });
  area.value = domains.join("\n");
  const form = el(
    "form",
    { class: "kring-domains-form card", id: "kring-domains-form" },
    el("h2", null, el("label", { for: "kring-domains-edit" }, t("kring_domains_edit"))),
    el("p", { class: "hint" }, t("kring_domains_hint")),
    area,
    el("button", { type: "submit", class: "btn btn-secondary" }, t("kring_domains_save")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const list = area.value
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    const { n, x } = dropped(list);
    if (n > 0 && !window.confirm(t(n >= x ? "kring_host_domains_confirm_all" : "kring_host_domains_confirm_some", { n, x }))) return;
    ctx.send("domains", { domains: list });
  });
  return form;
}
