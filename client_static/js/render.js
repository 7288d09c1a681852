// Small DOM helpers shared by every page: elements (text only), i18n, countdown, charts, scoreboard.
//
// User-supplied text (names, quiz texts, toelichting, links) reaches the DOM only through
// text nodes and attributes set with setAttribute: nothing here ever assigns innerHTML.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * el("button", {class: "big", onclick: fn, disabled: true}, "text", otherNode, [more])
 * Strings and numbers become text nodes; null/undefined/false children are skipped.
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  applyAttrs(node, attrs);
  append(node, children);
  return node;
}

function applyAttrs(node, attrs) {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class" || key === "className") {
      node.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (key === "style" && typeof value === "object") {
      for (const [prop, v] of Object.entries(value)) {
        if (prop.startsWith("--")) node.style.setProperty(prop, v);
        else node.style[prop] = v;
      }
    } else if (key === "dataset" && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    } else if (key === "value" && "value" in node) {
      node.value = String(value);
    } else if (key === "checked" || key === "selected") {
      node[key] = Boolean(value);
    } else if (key === "href" || key === "src") {
      node.setAttribute(key, safeUrl(String(value)));
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/** Only http(s), relative and same-page URLs; quiz links come from uploaded files. */
export function safeUrl(url) {
  const trimmed = url.trim();
  if (/^https?:\/\/[^\s]/i.test(trimmed) || /^\/(?!\/)/.test(trimmed) || /^[?#]/.test(trimmed)) {
    return trimmed;
  }
  return "#";
}

/** Hand a fetched file to the browser as a download (the blob URL is ours, not user text). */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Append `children` to `node` as `el` does: null, undefined and false are left out (the DOM's
 * own `append` would show them as text). */
export function add(node, ...children) {
  append(node, children);
  return node;
}

/** Replace all children of `node`. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

// ---------------------------------------------------------------- i18n

let catalogue = null;

function loadCatalogue() {
  if (catalogue) return catalogue;
  const script = document.getElementById("i18n");
  try {
    catalogue = script ? JSON.parse(script.textContent) : {};
  } catch {
    catalogue = {};
  }
  return catalogue;
}

/** t("phone_rank", {rank: 2, of: 9}) → "Je staat op plek 2 van 9". Unknown keys return the key. */
/** The text of `key` in the page language, with `{name}` filled from `vars`. With `vars.n`
 * 1 (or "1": never a formatted "1.000") the singular `key_one` is used where the catalogue has
 * one ("1 punt"). */
export function t(key, vars) {
  const catalogue = loadCatalogue();
  const one = vars && String(vars.n) === "1" ? catalogue[`${key}_one`] : undefined;
  const text = typeof one === "string" ? one : catalogue[key];
  if (typeof text !== "string") return key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (match, name) =>
    Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : match,
  );
}

export function lang() {
  return document.documentElement.lang === "en" ? "en" : "nl";
}

/** Number in the page language: 1.234 / 1,5 in Dutch. */
export function fmtNumber(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return new Intl.NumberFormat(lang() === "en" ? "en-GB" : "nl-NL", {
    maximumFractionDigits: 2,
  }).format(Number(value));
}

// ---------------------------------------------------------------- answer shapes and colours

/** Option i has colour + shape + text, so it works for colour-blind people too. */
export const OPTION_STYLES = [
  { colour: "red", shape: "triangle" },
  { colour: "blue", shape: "diamond" },
  { colour: "yellow", shape: "circle" },
  { colour: "green", shape: "square" },
  { colour: "purple", shape: "star" },
  { colour: "orange", shape: "hexagon" },
];

const SHAPE_PATHS = {
  triangle: "M50 8 L94 88 L6 88 Z",
  diamond: "M50 4 L96 50 L50 96 L4 50 Z",
  circle: null,
  square: "M12 12 H88 V88 H12 Z",
  star: "M50 4 L62 38 L98 38 L69 60 L80 95 L50 74 L20 95 L31 60 L2 38 L38 38 Z",
  hexagon: "M27 8 H73 L96 50 L73 92 H27 L4 50 Z",
};

export function optionStyle(index) {
  return OPTION_STYLES[index % OPTION_STYLES.length];
}

/** A small white SVG shape (decorative: the option text carries the meaning). */
export function shapeIcon(index) {
  const { shape } = optionStyle(index);
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 100 100");
  svg.setAttribute("class", "shape");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  let path;
  if (shape === "circle") {
    path = document.createElementNS(SVG_NS, "circle");
    path.setAttribute("cx", "50");
    path.setAttribute("cy", "50");
    path.setAttribute("r", "44");
  } else {
    path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", SHAPE_PATHS[shape]);
  }
  svg.appendChild(path);
  return svg;
}

/** The label read out for the shape, e.g. "rode driehoek", for screen readers. */
export function shapeLabel(index) {
  const { colour, shape } = optionStyle(index);
  return t(`shape_${colour}_${shape}`);
}

/** A coloured tile with shape + text; used for buttons (phone) and tiles (screen, host). */
export function optionTile(tag, index, text, attrs = {}) {
  const { colour } = optionStyle(index);
  const cls = ["option", `opt-${colour}`, attrs.class].filter(Boolean).join(" ");
  return el(
    tag,
    { ...attrs, class: cls, "aria-label": `${shapeLabel(index)}: ${text}` },
    shapeIcon(index),
    el("span", { class: "option-text" }, text),
  );
}

// ---------------------------------------------------------------- countdown

/**
 * Counts down from `remainingMs` measured at receipt of the frame. The server is the clock:
 * every new view re-synchronises the deadline. Returns an object with stop().
 * `node` gets the whole seconds left; `bar` (optional) gets a --left custom property 0..1.
 */
export class Countdown {
  constructor() {
    this.timer = null;
    this.deadline = 0;
    this.source = null;
    this.total = 0;
    this.nodes = [];
    this.onZero = null;
  }

  /** Attach to new nodes and run from remainingMs (ms) out of totalS seconds. `source`: the
   * view part remainingMs came with (a question object). Set again with the same source (a page
   * drawn anew for an ack or its own `me`, no new view), the clock runs on: that remainingMs
   * was measured when its view arrived, not now. */
  set(remainingMs, totalS, nodes, onZero, source = null) {
    if (source === null || source !== this.source) {
      this.deadline = performance.now() + Math.max(0, Number(remainingMs) || 0);
      this.source = source;
    }
    this.total = Math.max(1, Number(totalS) || 1) * 1000;
    this.nodes = nodes.filter(Boolean);
    this.onZero = onZero || null;
    this.tick();
    if (!this.timer) this.timer = setInterval(() => this.tick(), 200);
  }

  left() {
    return Math.max(0, this.deadline - performance.now());
  }

  tick() {
    const left = this.left();
    const seconds = Math.ceil(left / 1000);
    for (const node of this.nodes) {
      if (!node.isConnected) continue;
      if (node.classList.contains("timebar")) {
        node.style.setProperty("--left", String(Math.min(1, left / this.total)));
      } else if (node.textContent !== String(seconds)) {
        node.textContent = String(seconds);
      }
      node.classList.toggle("urgent", seconds <= 5);
    }
    if (left <= 0 || !this.nodes.some((n) => n.isConnected)) {
      this.stop();
      if (left <= 0 && this.onZero) this.onZero();
    }
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

// ---------------------------------------------------------------- charts and lists

/**
 * Horizontal bars, one per option (plain divs). `labels` are the option texts; `correct`
 * the indices to highlight; `shapes` false for estimate histograms (no option colours).
 */
export function barChart(labels, distribution, correct = [], { shapes = true, vertical = false } = {}) {
  const counts = distribution || [];
  const max = Math.max(1, ...counts);
  const total = counts.reduce((a, b) => a + b, 0);
  const shares = percentages(labels.map((_, i) => counts[i] || 0));
  const rows = labels.map((label, i) => {
    const count = counts[i] || 0;
    const isCorrect = correct.includes(i);
    const colour = shapes ? `opt-${optionStyle(i).colour}` : "opt-neutral";
    return el(
      "div",
      {
        class: ["bar-row", isCorrect && "is-correct", correct.length && !isCorrect && "is-wrong"],
        role: "listitem",
      },
      el(
        "div",
        { class: "bar-label" },
        shapes ? shapeIcon(i) : null,
        el("span", { class: "bar-text" }, label),
        isCorrect ? el("span", { class: "correct-mark", "aria-label": t("correct_answer") }, "✓") : null,
      ),
      el(
        "div",
        { class: "bar-track" },
        el("div", { class: ["bar", colour], style: { "--share": String(count / max) } }),
      ),
      el(
        "div",
        { class: "bar-count" },
        String(count),
        total && shapes ? el("small", null, ` (${shares[i]}%)`) : null,
      ),
    );
  });
  return el("div", { class: ["bar-chart", vertical && "vertical", !shapes && "histogram"], role: "list" }, rows);
}

/** Whole percentages of `counts` that add up to 100 (largest remainder; a tie goes to the
 * first), so that a chart never reads 38 % + 63 %; all 0 when nobody answered. */
export function percentages(counts) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return counts.map(() => 0);
  const exact = counts.map((count) => (count * 100) / total);
  const whole = exact.map(Math.floor);
  let left = 100 - whole.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((x, i) => [x - whole[i], i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of byRemainder) {
    if (left <= 0) break;
    whole[i] += 1;
    left -= 1;
  }
  return whole;
}

/** Labels for an estimate histogram: "10–20 %" per bin. */
export function histogramLabels(min, max, bins, unit = "") {
  const width = (max - min) / bins;
  const labels = [];
  for (let i = 0; i < bins; i++) {
    const lo = min + i * width;
    const hi = i === bins - 1 ? max : min + (i + 1) * width;
    labels.push(`${fmtNumber(lo)}–${fmtNumber(hi)}${unit ? ` ${unit}` : ""}`);
  }
  return labels;
}

/** Labels for the server's estimate bins (`reveal.bins`, [lo, hi] each): "7" or "10–19".
 * `unitOne`: the unit's word for exactly 1 ("1 sticker"), if the quiz gives one. */
export function binLabels(bins, unit = "", unitOne = "") {
  return bins.map(([lo, hi]) => (lo === hi ? withUnit(lo, { unit, unit_one: unitOne }) : `${fmtNumber(lo)}–${fmtNumber(hi)}${unit ? ` ${unit}` : ""}`));
}

/** Under a text field with a `maxlength`: "100 van 120 tekens" once it is near its maximum, so
 * that a long text is not cut off unnoticed (trial 9); the field's description for a screen
 * reader. `note.update()` after setting the field's value from code. */
export function charCounter(field) {
  const max = Number(field.maxLength);
  const note = el("p", { class: "char-count muted", id: `${field.id}-count`, hidden: true });
  note.update = () => {
    const n = field.value.length;
    note.hidden = !(max > 0) || n < max * 0.8;
    note.textContent = t(n >= max ? "char_count_full" : "char_count", { n, max });
  };
  field.setAttribute("aria-describedby", note.id);
  field.addEventListener("input", note.update);
  note.update();
  return note;
}

/** `value` with an estimate question's unit: "12 stickers", but "1 sticker" when the quiz gives
 * the word for exactly 1 (`unit_one`); the number alone without a unit. */
export function withUnit(value, q) {
  const unit = Number(value) === 1 && q.unit_one ? q.unit_one : q.unit || "";
  return `${fmtNumber(value)}${unit ? ` ${unit}` : ""}`;
}

/** Which histogram bin holds `value` (for views without `reveal.bins`). */
export function histogramBin(value, min, max, bins) {
  const width = (max - min) / bins || 1;
  return Math.min(bins - 1, Math.max(0, Math.floor((value - min) / width)));
}

/** ▲ 2 / ▼ 1 / – : places gained since the previous scoreboard. */
export function movementBadge(movement) {
  const m = Number(movement) || 0;
  if (m > 0) {
    return el("span", { class: "move up", title: t("moved_up", { n: m }) }, "▲", el("span", null, String(m)));
  }
  if (m < 0) {
    return el("span", { class: "move down", title: t("moved_down", { n: -m }) }, "▼", el("span", null, String(-m)));
  }
  return el("span", { class: "move same", title: t("moved_none") }, "–");
}

/** Top-10 list with rank, name, score, points gained and movement; `me` name is highlighted. */
export function scoreboardList(top, { me = null, showGained = true } = {}) {
  return el(
    "ol",
    { class: "scoreboard" },
    (top || []).map((row) =>
      el(
        "li",
        { class: ["score-row", me !== null && row.name === me && "is-me"] },
        el("span", { class: "score-rank" }, String(row.rank)),
        movementBadge(row.movement),
        el("span", { class: "score-name" }, row.name),
        showGained && row.gained ? el("span", { class: "score-gained" }, `+${fmtNumber(row.gained)}`) : null,
        el("span", { class: "score-points" }, fmtNumber(row.score)),
      ),
    ),
  );
}

/** A small trophy (inline SVG: no emoji font needed on the projector PC). */
export function trophyIcon() {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 64 64");
  svg.setAttribute("class", "trophy");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const parts = [
    ["path", { d: "M16 13H9v6c0 6 4 10 9 11", fill: "none", stroke: "#d9a900", "stroke-width": "4" }],
    ["path", { d: "M48 13h7v6c0 6-4 10-9 11", fill: "none", stroke: "#d9a900", "stroke-width": "4" }],
    ["path", { d: "M16 8h32v14c0 10-7 17-16 17s-16-7-16-17z", fill: "#d9a900" }],
    ["rect", { x: "29", y: "39", width: "6", height: "9", fill: "#d9a900" }],
    ["rect", { x: "20", y: "48", width: "24", height: "7", rx: "2", fill: "#b38b00" }],
  ];
  for (const [tag, attrs] of parts) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    svg.appendChild(node);
  }
  return svg;
}

/** "De bokaal gaat van A naar B" / "B wint de bokaal", or null when there is no bokaal. */
export function bokaalLine(bokaal) {
  if (!bokaal || !bokaal.winner) return null;
  if (bokaal.previous && bokaal.previous !== bokaal.winner) {
    return t("bokaal_passes", { previous: bokaal.previous, winner: bokaal.winner });
  }
  if (bokaal.previous && bokaal.previous === bokaal.winner) {
    return t("bokaal_keeps", { winner: bokaal.winner });
  }
  return t("bokaal_first", { winner: bokaal.winner });
}

/** The toelichting block: Wat doe je in de praktijk? / Meer weten? / Wie weet hier veel van? */
export function toelichtingBlock(reveal, { links = true } = {}) {
  if (!reveal) return null;
  const parts = [];
  if (reveal.toelichting) {
    parts.push(
      el(
        "section",
        { class: "explain-part" },
        el("h3", null, t("explain_practice")),
        el("p", { class: "explain-text" }, reveal.toelichting),
      ),
    );
  }
  if (reveal.learn_more && reveal.learn_more.length) {
    parts.push(
      el(
        "section",
        { class: "explain-part" },
        el("h3", null, t("explain_learn_more")),
        el(
          "ul",
          { class: "links" },
          reveal.learn_more.map((link) =>
            el(
              "li",
              null,
              links
                ? el("a", { href: link.url, target: "_blank", rel: "noopener noreferrer" }, link.title)
                : el("strong", null, link.title),
              // On the projector nobody clicks: the site's name says where to look it up.
              el("span", { class: "link-url" }, ` ${links ? displayUrl(link.url) : displayHost(link.url)}`),
            ),
          ),
        ),
      ),
    );
  }
  if (reveal.experts && reveal.experts.length) {
    parts.push(
      el(
        "section",
        { class: "explain-part" },
        el("h3", null, t("explain_experts")),
        el("ul", { class: "experts" }, reveal.experts.map((name) => el("li", null, name))),
      ),
    );
  }
  if (!parts.length) return null;
  return el("div", { class: "explain" }, parts);
}

/** "https://www.example.nl/x/y" → "example.nl": where a link goes, in a few characters. */
export function displayHost(url) {
  return displayUrl(url).split(/[/?#]/)[0];
}

/** "https://www.example.nl/x/" → "example.nl/x" for display. */
export function displayUrl(url) {
  return String(url || "")
    .replace(/^https?:\/\//i, "")
    .replace(/^www\./i, "")
    .replace(/\/$/, "");
}

/** Connection banner: visible while the socket is down ("verbinding herstellen…"). */
export function bindBanner(banner) {
  return (state) => {
    if (!banner) return;
    const down = state === "reconnecting" || state === "offline";
    banner.hidden = !down;
    banner.textContent = state === "offline" ? t("conn_offline") : t("conn_reconnecting");
    document.body.classList.toggle("is-offline", down);
  };
}

/**
 * The option texts to show for a question. A true/false question's labels are UI text, not quiz
 * content: they follow this page's language (i18n `true`/`false`), never the room's.
 */
export function optionTexts(question) {
  if (!question) return [];
  if (question.type === "true_false") return [t("true"), t("false")];
  return question.options || [];
}

/** The answer given, as text: the option text or the estimate value with unit. */
export function answerText(question, answer) {
  if (!question || !answer) return "";
  if (question.type === "estimate") {
    return withUnit(answer.value, question);
  }
  const options = optionTexts(question);
  return options[answer.choice] ?? "";
}
