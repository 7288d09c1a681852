// The quiz library (/quizzes): list, upload with every validation error shown, preview, download.

import { editSecret, rememberEditSecret, withOrganiserKey } from "./keys.js";
import { $, el, fmtNumber, lang, optionTile, replace, saveBlob, t, toelichtingBlock, withUnit } from "./render.js";

const MAX_UPLOAD_BYTES = 256 * 1024; // the server's limit (docs/PROTOCOL.md, POST /api/quizzes)
const listBox = $("#quiz-list");
const previewBox = $("#quiz-preview");
const form = $("#upload-form");
const fileInput = $("#upload-file");
const resultBox = $("#upload-result");

async function loadList() {
  replace(listBox, el("p", { class: "muted" }, t("loading")));
  let quizzes;
  try {
    const res = await fetch("/api/quizzes", { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(String(res.status));
    quizzes = await res.json();
  } catch {
    replace(listBox, el("p", { class: "form-error" }, t("host_quizzes_failed")));
    return;
  }
  if (!quizzes.length) {
    replace(listBox, el("p", null, t("host_no_quizzes")));
    return;
  }
  replace(
    listBox,
    el(
      "ul",
      { class: "quiz-cards" },
      quizzes.map((quiz) =>
        el(
          "li",
          { class: "quiz-card card", dataset: { id: quiz.id } },
          el("h3", null, quiz.title),
          el(
            "p",
            { class: "quiz-meta" },
            [
              quiz.theme && t("quizzes_theme", { theme: quiz.theme }),
              quiz.author && t("quizzes_author", { author: quiz.author }),
              t("questions_n", { n: quiz.questions }),
              quiz.language && quiz.language.toUpperCase(),
            ]
              .filter(Boolean)
              .join(" · "),
            quiz.builtin ? el("span", { class: "badge" }, t("quizzes_builtin")) : null,
          ),
          quiz.description ? el("p", { class: "quiz-desc" }, quiz.description) : null,
          quizActions(quiz),
        ),
      ),
    ),
  );
}

/**
 * The whole quiz (with its answers) is for its author: this browser, when it uploaded it (the
 * edit secret), or an organiser. Everyone else sees what the list shows.
 */
function quizActions(quiz) {
  const mine = !quiz.builtin && editSecret(quiz.id);
  return el(
    "p",
    { class: "quiz-actions" },
    el("a", { class: "btn btn-primary btn-small quiz-play", href: playUrl(quiz.id) }, t("quizzes_play_short")),
    el("button", { type: "button", class: "btn btn-secondary btn-small", onclick: () => preview(quiz.id) }, t("quizzes_preview")),
    mine ? el("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => download(quiz.id) }, t("quizzes_download")) : null,
    mine ? el("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => remove(quiz) }, t("quizzes_delete")) : null,
  );
}

/** The facilitator's page with this quiz chosen. */
function playUrl(id) {
  const query = new URLSearchParams(location.search);
  query.set("quiz", id);
  return `/host?${query}`;
}

function quizUrl(id) {
  return `/api/quizzes/${encodeURIComponent(id)}?lang=${lang()}`;
}

function secretHeaders(id) {
  const secret = editSecret(id);
  return { Accept: "application/json", ...(secret ? { "X-Edit-Secret": secret } : {}) };
}

async function download(id) {
  try {
    const res = await fetch(quizUrl(id), { headers: secretHeaders(id) });
    if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || String(res.status));
    saveBlob(await res.blob(), `${id}.json`);
  } catch (err) {
    replace(resultBox, el("p", { class: "form-error" }, err.message || t("err_generic")));
  }
}

async function remove(quiz) {
  if (!confirm(t("quizzes_delete_confirm", { title: quiz.title }))) return;
  const res = await fetch(quizUrl(quiz.id), { method: "DELETE", headers: secretHeaders(quiz.id) });
  if (res.status === 204) {
    rememberEditSecret(quiz.id, "");
    replace(resultBox, el("p", { class: "form-ok", role: "status" }, t("quizzes_deleted", { title: quiz.title })));
    await loadList();
  } else {
    const body = await res.json().catch(() => ({}));
    replace(resultBox, el("p", { class: "form-error" }, body.error || t("err_generic")));
  }
}

async function preview(id) {
  replace(previewBox, el("p", { class: "muted" }, t("loading")));
  previewBox.hidden = false;
  let quiz;
  try {
    const res = await withOrganiserKey(previewBox, quizUrl(id), { headers: secretHeaders(id) });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || String(res.status));
    quiz = body;
  } catch (err) {
    replace(previewBox, el("p", { class: "form-error" }, err.message || t("err_generic")));
    return;
  }
  if (!Array.isArray(quiz.questions)) {
    // Not ours: the questions and their answers stay with the author.
    replace(
      previewBox,
      el("h2", null, t("quizzes_preview_of", { title: quiz.title || id })),
      el("p", { class: "quiz-meta" }, [quiz.theme, quiz.author, t("questions_n", { n: quiz.questions })].filter(Boolean).join(" · ")),
      el("p", { class: "muted" }, t("quizzes_only_author")),
    );
    previewBox.scrollIntoView({ behavior: "smooth", block: "start" });
    return;
  }
  replace(
    previewBox,
    el(
      "div",
      { class: "preview-head" },
      el("h2", null, t("quizzes_preview_of", { title: quiz.title || id })),
      el("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => (previewBox.hidden = true) }, t("close")),
    ),
    el("p", { class: "quiz-meta" }, [quiz.theme, quiz.author].filter(Boolean).join(" · ")),
    quiz.description ? el("p", null, quiz.description) : null,
    el("ol", { class: "preview-questions" }, (quiz.questions || []).map(previewQuestion)),
  );
  previewBox.scrollIntoView({ behavior: "smooth", block: "start" });
}

function previewQuestion(q) {
  const meta = [
    t(`kind_${q.type}`),
    t("quizzes_seconds", { n: q.time_limit ?? 20 }),
    q.type === "poll" ? null : t("points_n", { n: fmtNumber(q.points ?? 1000) }),
  ].filter(Boolean);
  let answers = null;
  if (q.type === "multiple_choice" || q.type === "poll") {
    answers = el(
      "ul",
      { class: "preview-options" },
      (q.options || []).map((o, i) =>
        el(
          "li",
          { class: ["preview-option", o.correct && "is-correct"] },
          optionTile("div", i, o.text),
          o.correct ? el("span", { class: "correct-mark" }, "✓ ", t("correct_answer")) : null,
        ),
      ),
    );
  } else if (q.type === "true_false") {
    const labels = [t("true"), t("false")];
    const right = q.answer ? 0 : 1;
    answers = el(
      "ul",
      { class: "preview-options" },
      labels.map((text, i) =>
        el(
          "li",
          { class: ["preview-option", i === right && "is-correct"] },
          optionTile("div", i, text),
          i === right ? el("span", { class: "correct-mark" }, "✓ ", t("correct_answer")) : null,
        ),
      ),
    );
  } else if (q.type === "estimate" && q.estimate) {
    const e = q.estimate;
    answers = el(
      "p",
      { class: "preview-estimate" },
      t("quizzes_estimate_answer", {
        answer: withUnit(e.answer, e),
        min: fmtNumber(e.min),
        max: fmtNumber(e.max),
        tolerance: e.tolerance !== undefined ? withUnit(e.tolerance, e) : t("quizzes_default_tolerance"),
      }),
    );
  }
  return el(
    "li",
    { class: "preview-question card" },
    el("p", { class: "muted" }, meta.join(" · ")),
    el("h3", null, q.text),
    answers,
    toelichtingBlock(q),
  );
}

function showErrors(errors) {
  replace(
    resultBox,
    el("p", { class: "form-error" }, t("quizzes_upload_errors", { n: errors.length })),
    el(
      "ul",
      { class: "error-list" },
      errors.map((e) =>
        el("li", null, el("span", { class: "error-message" }, e.message || "")), // the message names the place (from 1)
      ),
    ),
  );
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = fileInput.files && fileInput.files[0];
  if (!file) {
    replace(resultBox, el("p", { class: "form-error" }, t("quizzes_pick_file")));
    return;
  }
  const tooLarge = el("p", { class: "form-error" }, t("quizzes_too_large", { kb: Math.ceil(file.size / 1024) }));
  if (file.size > MAX_UPLOAD_BYTES) {
    replace(resultBox, tooLarge); // said before sending it over guest Wi-Fi
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  replace(resultBox, el("p", { class: "muted" }, t("quizzes_uploading")));
  const data = new FormData();
  data.append("file", file, file.name);
  // Uploaded from this browser before: send its edit secret, so the new version replaces it.
  const id = await file.text().then((text) => JSON.parse(text).id).catch(() => "");
  try {
    const res = await withOrganiserKey(resultBox, `/api/quizzes?lang=${lang()}`, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json", ...(typeof id === "string" && id ? secretHeaders(id) : {}) },
    });
    const body = await res.json().catch(() => ({}));
    if (res.status === 201 || res.status === 200) {
      rememberEditSecret(body.id, body.edit_secret);
      replace(
        resultBox,
        el(
          "p",
          { class: "form-ok", role: "status" },
          t(body.replaced ? "quizzes_replaced_ok" : "quizzes_upload_ok", { title: body.title || "", n: body.questions ?? "" }),
        ),
        body.message ? el("p", { class: "notice" }, body.message) : null,
        el("p", { class: "muted" }, t("quizzes_edit_here")),
        el("p", null, el("a", { class: "btn btn-primary", id: "upload-play", href: playUrl(body.id) }, t("quizzes_play"))),
      );
      form.reset();
      await loadList();
    } else if (res.status === 400 && Array.isArray(body.errors)) {
      showErrors(body.errors);
    } else if (res.status === 413) {
      replace(resultBox, tooLarge);
    } else {
      replace(resultBox, el("p", { class: "form-error" }, body.error || t("err_generic")));
    }
  } catch {
    replace(resultBox, el("p", { class: "form-error" }, t("err_network")));
  } finally {
    button.disabled = false;
  }
});

loadList();
