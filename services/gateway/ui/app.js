// The page's screens: sign in, search, and a contact's profile, chosen by the URL hash
// (#/ or #/contacts/<id>) so the browser's back button works.

import { api, ApiError, session } from "./api.js";
import { displayName } from "./contact.js";
import { $, attempt, fill, h, show } from "./dom.js";
import { openProfile } from "./profile.js";

const screens = ["#sign-in", "#search", "#profile"];

function screen(name) {
  for (const id of screens) show($(id), id === name);
}

async function signIn(event) {
  event.preventDefault();
  const key = $("#api-key").value.trim();
  session.key = key;
  try {
    await api.get("/v1/contacts", { limit: 1 });
  } catch (error) {
    session.key = null;
    const why = error instanceof ApiError && error.status === 401
      ? "That API key is not valid or was revoked." : error.message;
    fill(show($("#sign-in-error"), true), why);
    return;
  }
  $("#api-key").value = "";
  show($("#sign-in-error"), false);
  route();
}

function signOut() {
  session.key = null;
  location.hash = "#/";
  route();
}

async function search(event) {
  event.preventDefault();
  const by = $("#search-by").value;
  const value = $("#search-value").value.trim();
  const page = await attempt(() => api.get("/v1/contacts", { [by]: value }));
  if (!page) return;
  if (page.data.length === 1) {
    location.hash = `#/contacts/${encodeURIComponent(page.data[0].id)}`;
    return;
  }
  show($("#search-empty"), page.data.length === 0);
  const table = show($("#search-results"), page.data.length > 0);
  fill($("tbody", table), page.data.map((contact) => h("tr", {},
    h("td", {}, h("a", { href: `#/contacts/${encodeURIComponent(contact.id)}` },
      displayName(contact))),
    h("td", {}, contact.email || ""), h("td", {}, contact.phone || ""),
    h("td", {}, contact.user_id || ""), h("td", {}, contact.status))));
}

function route() {
  const signedIn = Boolean(session.key);
  show($("#sign-out"), signedIn);
  if (!signedIn) {
    screen("#sign-in");
    $("#api-key").focus();
    return;
  }
  const match = location.hash.match(/^#\/contacts\/([^/]+)$/);
  if (match) {
    screen("#profile");
    openProfile(decodeURIComponent(match[1]));
  } else {
    screen("#search");
    $("#search-value").focus();
  }
}

function start() {
  $("#sign-in-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", signOut);
  $("#search-form").addEventListener("submit", search);
  window.addEventListener("hashchange", route);
  window.addEventListener("plexus:unauthorized", signOut);
  route();
}

start();
