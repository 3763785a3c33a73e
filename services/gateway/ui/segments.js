// The segments screen: every segment with its member count; a new one or a change, its
// rule written as JSON with a live preview (how many contacts it holds now, and some of
// them) and an explanation of which parts hold for one contact.

import { api, ApiError, contactPath } from "./api.js";
import { displayName } from "./contact.js";
import { $, attempt, confirmAction, fill, h, notify, show, when } from "./dom.js";

const PREVIEW_DELAY = 400;  // ms after the last keystroke
let editing = null;  // the segment being changed; null for a new one
let previewTimer;
let previewAsked = 0;

export async function showSegments() {
  const page = await attempt(() => api.get("/v1/segments", { limit: 200 }));
  if (!page) return;
  show($("#segments-none"), page.data.length === 0);
  fill($("#segments-table tbody"), page.data.map((segment) => h("tr",
    { dataset: { id: segment.id } },
    h("td", {}, h("a", { href: `#/?segment=${encodeURIComponent(segment.id)}`,
      title: "Its members in the contacts list" }, segment.name)),
    h("td", { class: "count" }, String(segment.member_count)),
    h("td", {}, h("code", { class: "rule" }, JSON.stringify(segment.rule))),
    h("td", {}, when(segment.updated_at)),
    h("td", {}, h("button", { type: "button", class: "secondary small",
      "aria-label": `Edit ${segment.name}`, onclick: () => edit(segment) }, "Edit")))));
}

function edit(segment) {
  editing = segment;
  $("#segment-form-title").textContent = segment ? `Edit ${segment.name}` : "New segment";
  $("#segment-name").value = segment ? segment.name : "";
  $("#segment-rule").value = segment ? JSON.stringify(segment.rule, null, 2)
    : JSON.stringify({ all: [{ field: "status", op: "eq", value: "active" }] }, null, 2);
  $("#segment-error").hidden = true;
  fill($("#segment-explain-result"));
  show($("#segment-explain-box"), Boolean(segment));
  show($("#segment-form"), true);
  $("#segment-name").focus();
  preview();
}

function rule() {
  try {
    return { rule: JSON.parse($("#segment-rule").value) };
  } catch (error) {
    return { error: `The rule is not JSON: ${error.message}` };
  }
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, PREVIEW_DELAY);
}

async function preview() {
  const ask = ++previewAsked;
  const read = rule();
  if (read.error) {
    fill($("#segment-preview"), read.error);
    fill($("#segment-sample"));
    return;
  }
  try {
    const found = await api.post("/v1/segments/preview", { rule: read.rule });
    if (ask !== previewAsked) return;
    fill($("#segment-preview"), `${found.count} contact${found.count === 1 ? "" : "s"} now`);
    const sample = await Promise.all(found.sample.slice(0, 10).map((id) => api.get(contactPath(id))
      .catch(() => ({ id }))));
    if (ask !== previewAsked) return;
    fill($("#segment-sample"), sample.map((contact) => h("li", {},
      h("a", { href: `#/contacts/${encodeURIComponent(contact.id)}` },
        contact.status ? displayName(contact) : contact.id),
      contact.email ? h("span", { class: "muted" }, ` · ${contact.email}`) : null)));
  } catch (error) {
    if (ask !== previewAsked) return;
    fill($("#segment-preview"), error.message);
    fill($("#segment-sample"));
  }
}

async function contactIdOf(given) {
  if (!given.includes("@")) return given;
  const page = await api.get("/v1/contacts", { email: given });
  if (!page.data.length) throw new Error(`No contact has the email ${given}`);
  return page.data[0].id;
}

function explainTree(node) {
  // A combinator's node has its parts ("op" then names all / any / not); a condition's
  // node is the condition itself (whose own "op" is eq, in...).
  const { holds, parts, ...condition } = node;
  const what = parts ? `${condition.op}:` : JSON.stringify(condition);
  return h("li", { class: holds ? "holds" : "fails" },
    `${holds ? "✔ holds" : "✘ does not hold"} · ${what}`,
    parts ? h("ul", { class: "explain" }, parts.map(explainTree)) : null);
}

async function explain() {
  const given = $("#segment-explain-contact").value.trim();
  if (!given || !editing) return;
  const answer = await attempt(async () => api.get(
    `/v1/segments/${encodeURIComponent(editing.id)}/explain`,
    { contact_id: await contactIdOf(given) }));
  if (!answer) return;
  fill($("#segment-explain-result"),
    h("p", {}, h("strong", {}, answer.member ? "A member" : "Not a member"),
      " (by the rule as saved)"),
    h("ul", { class: "explain" }, explainTree(answer.explain)));
}

async function save(event) {
  event.preventDefault();
  const read = rule();
  const shown = $("#segment-error");
  if (read.error) {
    fill(show(shown, true), read.error);
    return;
  }
  const body = { name: $("#segment-name").value.trim(), rule: read.rule };
  if (editing) {
    const sure = await confirmAction(`Change ${editing.name}?`,
      "The segment is saved with this name and rule, and its membership is evaluated again "
      + "at once: contacts enter or leave it now.", "Save segment");
    if (!sure) return;
  }
  try {
    const saved = editing
      ? await api.patch(`/v1/segments/${encodeURIComponent(editing.id)}`, body)
      : await api.post("/v1/segments", body);
    show($("#segment-form"), false);
    const count = saved.member_count;
    notify(`${saved.name} saved: ${count} member${count === 1 ? "" : "s"}`);
    showSegments();
  } catch (error) {
    fill(show(shown, true), error instanceof ApiError ? error.message : String(error));
  }
}

$("#segment-new").addEventListener("click", () => edit(null));
$("#segment-cancel").addEventListener("click", () => show($("#segment-form"), false));
$("#segment-rule").addEventListener("input", schedulePreview);
$("#segment-explain").addEventListener("click", explain);
$("#segment-form").addEventListener("submit", save);
