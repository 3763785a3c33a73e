// The contacts list, the home after sign-in: newest first, a page at a time by the API's
// cursor; a search by any identifier or a name prefix; filters by status, a channel
// subscribed to and a segment. The state lives in the URL (#/?q=...&cursor=...), so back
// and forward walk through searches and pages.

import { api, ApiError, contactPath } from "./api.js";
import { displayName } from "./contact.js";
import { $, attempt, fill, h, show, when } from "./dom.js";
import { vocabulary } from "./vocab.js";

const PAGE = 50;
const STATE = ["q", "status", "subscribed", "segment", "cursor"];
let asked = 0;  // a newer listing wins over one still under way
let segmentsLoaded = false;

export function listHash(state) {
  const query = new URLSearchParams();
  for (const name of STATE) if (state[name]) query.set(name, state[name]);
  const text = query.toString();
  return text ? `#/?${text}` : "#/";
}

export function stateOf(hash) {
  const query = new URLSearchParams(hash.replace(/^#\/\??/, ""));
  return Object.fromEntries(STATE.map((name) => [name, query.get(name) || ""]));
}

// What the search box holds, as the API's look-ups: an email, a phone number, or a user
// id or the start of a name (both asked; a user id match comes first).
function lookUps(q) {
  if (!q) return [{}];
  if (q.includes("@")) return [{ email: q }];
  if (/^\+?[\d\s().-]{5,}$/.test(q)) return [{ phone: q }, { user_id: q }];
  return [{ user_id: q }, { name: q }];
}

async function optional(request) {
  // A look-up the API refuses as a value (a user id that is no phone, say) finds nobody.
  try {
    return await request();
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) return { data: [], next_cursor: null };
    throw error;
  }
}

const exact = (lookUp) => Boolean(lookUp.user_id || lookUp.email || lookUp.phone);

async function contactsPage(state) {
  const filters = { status: state.status, subscribed: state.subscribed };
  // An exact look-up finds one contact, on the first page only; the listing (or a name
  // prefix) goes on by its cursor.
  const asks = lookUps(state.q).filter((lookUp) => !state.cursor || !exact(lookUp));
  const pages = await Promise.all(asks.map((lookUp) => optional(() => api.get("/v1/contacts", {
    ...lookUp, ...filters, limit: PAGE, cursor: exact(lookUp) ? undefined : state.cursor,
  }))));
  const seen = new Set();
  const data = pages.flatMap((page) => page.data).filter((contact) => {
    const fresh = !seen.has(contact.id);
    seen.add(contact.id);
    return fresh;
  });
  return { data, next_cursor: pages.at(-1)?.next_cursor || null };
}

function passes(contact, state) {
  if (state.status && contact.status !== state.status) return false;
  if (state.subscribed && contact.subscriptions?.[state.subscribed]?.status !== "subscribed") {
    return false;
  }
  if (!state.q) return true;
  const q = state.q.toLowerCase();
  return [contact.email, contact.phone, contact.user_id].some((id) => id?.toLowerCase() === q)
    || [contact.first_name, contact.last_name].some((name) => name?.toLowerCase().startsWith(q));
}

// A segment's members come as ids (oldest first); each is read, then the other filters
// are applied to that page here.
async function segmentPage(state) {
  const members = await api.get(`/v1/segments/${encodeURIComponent(state.segment)}/members`,
    { limit: PAGE, cursor: state.cursor });
  const read = await Promise.all(members.data.map((id) => optional(
    () => api.get(contactPath(id)).then((contact) => ({ data: [contact] })))));
  const data = read.flatMap((page) => page.data).filter((contact) => passes(contact, state));
  return { data, next_cursor: members.next_cursor };
}

async function fillChoices(state) {
  const words = await attempt(vocabulary);
  if (words && $("#contacts-status").options.length === 1) {
    $("#contacts-status").append(...words.contact_statuses.map((status) => h("option",
      { value: status }, status)));
    $("#contacts-subscribed").append(...words.message_channels.map((channel) => h("option",
      { value: channel }, `Subscribed to ${channel}`)));
  }
  if (!segmentsLoaded) {
    segmentsLoaded = true;
    try {
      const page = await api.get("/v1/segments", { limit: 200 });
      $("#contacts-segment").append(...page.data.map((segment) => h("option",
        { value: segment.id }, `${segment.name} (${segment.member_count})`)));
    } catch {
      // A key without segments:read lists contacts still, without this filter.
      $("#contacts-segment").hidden = true;
    }
  }
  const form = $("#contacts-form");
  for (const name of ["q", "status", "subscribed", "segment"]) form.elements[name].value = state[name];
}

function row(contact) {
  const href = `#/contacts/${encodeURIComponent(contact.id)}`;
  // The whole row opens the profile; its link is what the keyboard reaches.
  return h("tr", { class: "clickable", dataset: { id: contact.id },
    onclick: (event) => { if (!event.target.closest("a")) location.hash = href; } },
  h("td", {}, h("a", { href }, displayName(contact))),
  h("td", {}, contact.email || ""), h("td", {}, contact.phone || ""),
  h("td", {}, contact.user_id || ""),
  h("td", {}, h("span", { class: `badge ${contact.status}` }, contact.status)),
  h("td", {}, when(contact.created_at)));
}

export async function showList(hash) {
  const state = stateOf(hash);
  const ask = ++asked;
  await fillChoices(state);
  const page = await attempt(() => (state.segment ? segmentPage(state) : contactsPage(state)));
  if (!page || ask !== asked) return;
  show($("#contacts-empty"), page.data.length === 0);
  const table = show($("#contacts-table"), page.data.length > 0);
  fill($("tbody", table), page.data.map(row));
  const note = state.segment
    ? "Members of the segment, oldest first; the other filters apply to each page of them."
    : "";
  fill(show($("#contacts-note"), Boolean(note)), note);
  const first = show($("#contacts-first"), Boolean(state.cursor));
  first.href = listHash({ ...state, cursor: "" });
  const next = show($("#contacts-next"), Boolean(page.next_cursor));
  next.href = listHash({ ...state, cursor: page.next_cursor || "" });
}

function search(event) {
  event.preventDefault();
  const form = new FormData($("#contacts-form"));
  const state = Object.fromEntries(STATE.map((name) => [name, (form.get(name) || "").trim()]));
  state.cursor = "";
  const hash = listHash(state);
  if (location.hash === hash) showList(hash);
  else location.hash = hash;
}

$("#contacts-form").addEventListener("submit", search);
for (const name of ["status", "subscribed", "segment"]) {
  $("#contacts-form").elements[name].addEventListener("change", search);
}
$("#contacts-clear").addEventListener("click", () => {
  $("#contacts-form").reset();
  location.hash = "#/";
});
