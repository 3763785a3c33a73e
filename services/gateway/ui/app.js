// The page's screens: sign in, the contacts list, a contact's profile and the segments,
// chosen by the URL hash (#/?filters, #/contacts/<id>, #/segments) so the browser's back
// and forward buttons work.

import { api, ApiError, session } from "./api.js";
import { $, fill, show } from "./dom.js";
import { showList } from "./list.js";
import { openProfile } from "./profile.js";
import { showSegments } from "./segments.js";

const screens = ["#sign-in", "#contacts", "#profile", "#segments-screen"];

function screen(name) {
  for (const id of screens) show($(id), id === name);
  for (const link of document.querySelectorAll("#nav a")) {
    const current = (link.id === "nav-segments") === (name === "#segments-screen");
    if (current && name !== "#sign-in") link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
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

function route() {
  const signedIn = Boolean(session.key);
  show($("#sign-out"), signedIn);
  show($("#nav"), signedIn);
  if (!signedIn) {
    screen("#sign-in");
    $("#api-key").focus();
    return;
  }
  const hash = location.hash || "#/";
  const match = hash.match(/^#\/contacts\/([^/?]+)$/);
  if (match) {
    screen("#profile");
    openProfile(decodeURIComponent(match[1]));
  } else if (hash === "#/segments") {
    screen("#segments-screen");
    showSegments();
  } else {
    screen("#contacts");
    showList(hash);
  }
}

function start() {
  $("#sign-in-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  window.addEventListener("plexus:unauthorized", signOut);
  route();
}

start();
