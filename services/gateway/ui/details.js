// The variables, segments and notes tabs.

import { api, contactPath } from "./api.js";
import { $, attempt, confirmAction, fill, h, text, when } from "./dom.js";

const MAX_NOTES = 5;
let contact = null;

function changed(updated) {
  // The profile redraws the person from the contact as stored.
  window.dispatchEvent(new CustomEvent("plexus:contact", { detail: updated }));
}

// --- variables: every variable usable in a message; the editable ones inline -----------

let asked = 0;  // answers to searches typed over since are dropped

export async function loadVariables(current) {
  contact = current;
  const q = $("#variables-search").value.trim();
  const ask = ++asked;
  const page = await attempt(() => api.get(contactPath(contact.id, "/variables"), { q }));
  if (!page || ask !== asked) return;
  fill($("#variables tbody"), page.data.map(variableRow));
}

function typed(input, previous) {
  if (input === "") return null;
  if (typeof previous === "number") return Number(input);
  if (typeof previous === "boolean") return input === "true";
  return input;
}

function patchFor(variable, value) {
  if (variable.kind === "variable") {
    return { variables: { ...contact.variables, [variable.name]: value } };
  }
  const [head, part] = variable.name.split(".");
  return part ? { [head]: { ...(contact[head] || {}), [part]: value } } : { [head]: value };
}

function variableRow(variable) {
  const value = h("td", { class: "value" }, text(variable.value));
  const row = h("tr", { dataset: { name: variable.name } }, h("td", {}, variable.name),
    h("td", {}, variable.kind), value, h("td", {}));
  if (variable.editable) {
    row.lastChild.append(h("button", { type: "button", class: "secondary small",
      onclick: () => editVariable(row, value, variable) }, "Edit"));
  }
  return row;
}

function editVariable(row, cell, variable) {
  const shown = variable.value === null || variable.value === undefined ? "" : variable.value;
  const input = h("input", { value: String(shown), "aria-label": variable.name });
  const save = async (event) => {
    event.preventDefault();
    const updated = await attempt(() => api.patch(contactPath(contact.id),
      patchFor(variable, typed(input.value.trim(), variable.value))), `${variable.name} saved`);
    if (!updated) return;
    changed(updated);
    contact = updated;
    loadVariables(updated);
  };
  fill(cell, h("form", { class: "row inline", onsubmit: save }, input,
    h("button", { type: "submit", class: "small" }, "Save"),
    h("button", { type: "button", class: "secondary small",
      onclick: () => row.replaceWith(variableRow(variable)) }, "Cancel")));
  input.focus();
}

// --- segments: the ones the contact is in now -----------------------------------------

export async function loadSegments(current) {
  contact = current;
  const [page, joins] = await Promise.all([
    attempt(() => api.get(contactPath(contact.id, "/segments"))),
    attempt(() => api.get(contactPath(contact.id, "/activity"),
      { channel: "contact", type: "added_to_segment", limit: 200 })),
  ]);
  if (!page) return;
  // When the contact last entered each segment: the newest added_to_segment item of it.
  const since = new Map();
  for (const item of joins ? joins.data : []) {
    const id = item.details?.segment_id;
    if (id && !since.has(id)) since.set(id, item.occurred_at);
  }
  $("#segments-empty").hidden = page.data.length > 0;
  fill($("#segments"), page.data.map((segment) => h("li", {},
    h("strong", {}, segment.name),
    h("span", { class: "muted" },
      ` · ${segment.member_count} member${segment.member_count === 1 ? "" : "s"}` +
      (since.has(segment.id) ? ` · member since ${when(since.get(segment.id))}` : "")),
    h("code", { class: "rule" }, JSON.stringify(segment.rule)))));
}

// --- notes: at most 5 of at most 500 characters; deleting asks first -------------------

export async function loadNotes(current) {
  contact = current;
  const page = await attempt(() => api.get(contactPath(contact.id, "/notes")));
  if (!page) return;
  fill($("#notes"), page.data.map((note) => h("li", { class: "note" },
    h("p", {}, note.content),
    h("div", { class: "row" }, h("span", { class: "muted" },
      `${note.author} · ${when(note.created_at)}`), h("span", { class: "spacer" }),
    h("button", { type: "button", class: "secondary small",
      onclick: () => deleteNote(note) }, "Delete")))));
  $("#notes-count").textContent = `${page.data.length} of ${MAX_NOTES} notes`;
  const full = page.data.length >= MAX_NOTES;
  $("#note-content").disabled = full;
  $("#note-form button[type=submit]").disabled = full;
  $("#note-content").placeholder = full ? "5 notes at most: delete one to add another" : "";
}

async function deleteNote(note) {
  const sure = await confirmAction("Delete this note?",
    "The note will be deleted for good; it cannot be recovered.", "Delete");
  if (!sure) return;
  const done = await attempt(() => api.del(contactPath(contact.id,
    `/notes/${encodeURIComponent(note.id)}`)).then(() => true), "Note deleted");
  if (done) loadNotes(contact);
}

async function addNote(event) {
  event.preventDefault();
  const content = $("#note-content").value.trim();
  const note = await attempt(() => api.post(contactPath(contact.id, "/notes"), { content }),
    "Note added");
  if (!note) return;
  $("#note-content").value = "";
  countNote();
  loadNotes(contact);
}

function countNote() {
  $("#note-count").textContent = `${$("#note-content").value.length} / 500`;
}

$("#variables-search").addEventListener("input", () => loadVariables(contact));
$("#note-form").addEventListener("submit", addNote);
$("#note-content").addEventListener("input", countNote);
