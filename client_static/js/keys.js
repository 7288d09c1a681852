// Secrets a browser keeps for its person: the organiser key (when the server asks for one) and the
// edit secret of every quiz uploaded from here. They travel in headers, never in a URL.

import { el, t } from "./render.js";

const ORGANISER = "kk:organiser-key";
const EDIT = "kk:quiz-secrets";

function read(key, fallback) {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function write(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // private mode: the secret lives as long as the page
  }
}

export function editSecret(quizId) {
  const all = read(EDIT, {});
  return typeof all[quizId] === "string" ? all[quizId] : "";
}

export function rememberEditSecret(quizId, secret) {
  const all = read(EDIT, {});
  if (secret) all[quizId] = secret;
  else delete all[quizId];
  write(EDIT, all);
}

export function organiserHeaders() {
  const key = read(ORGANISER, "");
  return key ? { "X-Organiser-Key": key } : {};
}

/**
 * fetch(url, options), and when the server answers that it needs the organiser key (401), ask for
 * it once in `box` (an inline form, not a browser prompt), remember it and try again.
 */
export async function withOrganiserKey(box, url, options = {}) {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const res = await fetch(url, { ...options, headers: { ...(options.headers || {}), ...organiserHeaders() } });
    if (res.status !== 401) return res;
    const body = await res.clone().json().catch(() => ({}));
    if (!String(body.code || "").startsWith("organiser_key")) return res;
    write(ORGANISER, null);
    const key = await askOrganiserKey(box, body.error || t("organiser_key_needed"));
    if (!key) return res;
    write(ORGANISER, key);
  }
  return fetch(url, { ...options, headers: { ...(options.headers || {}), ...organiserHeaders() } });
}

function askOrganiserKey(box, message) {
  return new Promise((resolve) => {
    const input = el("input", { id: "organiser-key", type: "password", autocomplete: "current-password", required: true });
    const form = el(
      "form",
      { class: "organiser-key card", novalidate: true },
      el("p", { class: "form-error", role: "alert" }, message),
      el("div", { class: "field" }, el("label", { for: "organiser-key" }, t("organiser_key_label")), input),
      el("button", { type: "submit", class: "btn btn-primary" }, t("organiser_key_submit")),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      form.remove();
      resolve(key);
    });
    box.replaceChildren(form);
    box.hidden = false;
    input.focus();
  });
}
